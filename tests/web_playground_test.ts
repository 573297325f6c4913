// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The parts of the playground page (web/) that hold no DOM: the settings
// check that stands between the form and the trainer, the Sinkhorn stages
// the step-through view shows, and the chart markup. The page itself is
// driven in headless Chromium by `deno task test:demo`.

import { describe, it } from "@std/testing/bdd";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { sinkhornKnopp } from "../mod.ts";
import {
  checkSettings,
  CPU_LIMITS,
  defaultSettings,
  evalEvery,
  GPU_LIMITS,
  type Limits,
  type NumericKey,
  runLabel,
  type SettingsForm,
} from "../web/settings.ts";
import { randomLogits, sinkhornStages } from "../web/sinkhorn_steps.ts";
import {
  convergenceChart,
  gainChart,
  lossChart,
  mixingChart,
  type RunView,
} from "../web/charts.ts";

function errorsOf(form: SettingsForm, limits: Limits) {
  const checked = checkSettings(form, limits);
  if (checked.ok) {
    throw new Error(`expected ${JSON.stringify(form)} to be refused`);
  }
  return checked.errors;
}

describe("the playground's settings check", () => {
  for (const limits of [GPU_LIMITS, CPU_LIMITS]) {
    it(`accepts its own defaults on the ${limits.device}`, () => {
      const checked = checkSettings(defaultSettings(limits), limits);
      assert(checked.ok);
      assertEquals(checked.cfg.mode, "mhc");
      assertEquals(checked.cfg.width % checked.cfg.heads, 0);
    });

    it(`accepts every bound and refuses one past it on the ${limits.device}`, () => {
      const base = defaultSettings(limits);
      for (const key of Object.keys(limits.ranges) as NumericKey[]) {
        const { min, max } = limits.ranges[key];
        for (const v of [min, max]) {
          // Width and heads move together so that heads divides width.
          const form = { ...base, [key]: String(v) };
          if (key === "width") form.heads = "1";
          if (key === "heads") form.width = String(v * 8);
          const checked = checkSettings(form, limits);
          assert(checked.ok, `${key} = ${v}: ${JSON.stringify(checked)}`);
          assertEquals(checked.cfg[key], v);
        }
        const past = key === "lr" ? max * 2 : max + 1;
        const errors = errorsOf({ ...base, [key]: String(past) }, limits);
        assertEquals(errors.map((e) => e.key), [key]);
        assertMatch(errors[0].message, new RegExp(`from ${min} to ${max}`));
        assertStringIncludes(errors[0].message, `got ${past}`);
        const below = key === "lr" ? "0" : String(min - 1);
        if (min - 1 >= 0 || key === "lr") {
          assertEquals(
            errorsOf({ ...base, [key]: below }, limits).map((e) => e.key),
            [key],
          );
        }
      }
    });
  }

  it("refuses text, fractions, signs and empty fields in integer settings", () => {
    const base = defaultSettings(CPU_LIMITS);
    for (const bad of ["abc", "2.5", "-1", "", " ", "1e1", "0x2", "Infinity"]) {
      const errors = errorsOf({ ...base, layers: bad }, CPU_LIMITS);
      assertEquals(errors.map((e) => e.key), ["layers"], `layers = "${bad}"`);
      assertMatch(errors[0].message, /^Layers must be an integer from 1 to 3/);
    }
  });

  it("reads the learning rate in decimal or exponent notation, and nothing else", () => {
    const base = defaultSettings(CPU_LIMITS);
    for (
      const [text, v] of [["0.003", 0.003], ["3e-3", 0.003], [".01", 0.01]]
    ) {
      const checked = checkSettings(
        { ...base, lr: text as string },
        CPU_LIMITS,
      );
      assert(checked.ok, String(text));
      assertEquals(checked.cfg.lr, v);
    }
    for (const bad of ["fast", "NaN", "1/100", "", "0.01.2"]) {
      assertEquals(
        errorsOf({ ...base, lr: bad }, CPU_LIMITS).map((e) => e.key),
        ["lr"],
      );
    }
  });

  it("says which device's limit a setting broke when the devices differ", () => {
    const base = defaultSettings(CPU_LIMITS);
    const [layers] = errorsOf({ ...base, layers: "6" }, CPU_LIMITS);
    assertEquals(
      layers.message,
      "Layers must be an integer from 1 to 3 on the CPU, got 6",
    );
    assert(checkSettings({ ...base, layers: "6" }, GPU_LIMITS).ok);
    const [lr] = errorsOf({ ...base, lr: "1" }, GPU_LIMITS);
    // Both devices allow the same rates: no device is named.
    assertEquals(
      lr.message,
      "Learning rate must be a number from 0.00001 to 0.05, got 1",
    );
  });

  it("refuses heads that do not divide the width, naming both", () => {
    const errors = errorsOf(
      { ...defaultSettings(GPU_LIMITS), width: "30", heads: "4" },
      GPU_LIMITS,
    );
    assertEquals(errors, [{
      key: "heads",
      message: "Heads (4) must divide Width (30)",
    }]);
  });

  it("lists every problem at once", () => {
    const errors = errorsOf(
      {
        ...defaultSettings(CPU_LIMITS),
        mode: "dense",
        layers: "99",
        batch: "x",
        seed: "-3",
      },
      CPU_LIMITS,
    );
    assertEquals(errors.map((e) => e.key), ["mode", "layers", "batch", "seed"]);
    assertEquals(
      errors[0].message,
      'Connection must be one of residual, HC, mHC, got "dense"',
    );
  });

  it("ignores the streams of a plain residual run and uses one stream", () => {
    const checked = checkSettings(
      { ...defaultSettings(CPU_LIMITS), mode: "residual", streams: "garbage" },
      CPU_LIMITS,
    );
    assert(checked.ok);
    assertEquals(checked.cfg.streams, 1);
    assertEquals(runLabel(checked.cfg), "residual · L2 C32");
  });

  it("fills in a short warm-up, evaluations and the rest from the defaults", () => {
    const checked = checkSettings(
      { ...defaultSettings(CPU_LIMITS), steps: "20" },
      CPU_LIMITS,
    );
    assert(checked.ok);
    assertEquals(checked.cfg.warmup, 2);
    assertEquals(checked.cfg.evalEvery, 5);
    assertEquals(checked.cfg.evalBatches, 1);
    assertEquals(checked.cfg.data, null);
    assertEquals(evalEvery(300), 25);
    assertEquals(runLabel(checked.cfg), "mHC n=4 · L2 C32");
  });
});

describe("the Sinkhorn view's stages", () => {
  const n = 5, K = 20;
  const logits = randomLogits(n, 4, 11);
  const stages = sinkhornStages(logits, n, K);

  it("start from exp(L) and add one stage per normalisation", () => {
    assertEquals(stages.length, 2 * K + 1);
    stages.forEach((s, i) => {
      assertEquals(s.index, i);
      assertEquals(s.iteration, Math.ceil(i / 2));
    });
    for (let k = 0; k < n * n; k++) {
      assertEquals(stages[0].matrix[k], Math.exp(logits[k]));
    }
  });

  it("end each iteration exactly where the library's sinkhornKnopp ends", () => {
    for (let k = 1; k <= K; k++) {
      const lib = sinkhornKnopp(Float64Array.from(logits), {
        n,
        T: 1,
        iterations: k,
      });
      assertEquals([...stages[2 * k].matrix], [...lib], `iteration ${k}`);
    }
  });

  it("normalise the columns in the first half of each iteration", () => {
    for (let k = 1; k <= K; k++) {
      const cols = stages[2 * k - 1];
      // Float64 sums of n terms, each divided by their own sum: a few ulps.
      for (const s of cols.colSums) assertAlmostEquals(s, 1, 1e-14);
      // Dividing its rows by their sums gives the library's next iterate:
      // the two halves shown are the two halves the library runs. The
      // library works in the log domain, so only to ~1e-15 relative.
      const next = stages[2 * k].matrix;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = cols.matrix[i * n + j] / cols.rowSums[i];
          assertAlmostEquals(
            v,
            next[i * n + j],
            1e-13 + 1e-12 * next[i * n + j],
          );
        }
      }
    }
  });

  it("report sums and their distances from 1 that match the matrices", () => {
    for (const s of stages) {
      for (let i = 0; i < n; i++) {
        let row = 0, col = 0;
        for (let j = 0; j < n; j++) {
          row += s.matrix[i * n + j];
          col += s.matrix[j * n + i];
        }
        assertAlmostEquals(s.rowSums[i], row, 1e-12 * Math.abs(row));
        assertAlmostEquals(s.colSums[i], col, 1e-12 * Math.abs(col));
      }
      assertEquals(
        s.rowError,
        Math.max(...s.rowSums.map((v) => Math.abs(v - 1))),
      );
      assertEquals(
        s.colError,
        Math.max(...s.colSums.map((v) => Math.abs(v - 1))),
      );
    }
    // Converging: far from doubly stochastic at the start, close at the end.
    assert(stages[0].colError > 0.5, `${stages[0].colError}`);
    assert(stages[2 * K].colError < 1e-3, `${stages[2 * K].colError}`);
    assert(stages[2 * K].rowError < 1e-14, `${stages[2 * K].rowError}`);
  });

  it("give exactly 1 for n = 1", () => {
    for (const s of sinkhornStages([2.5], 1, 3).slice(1)) {
      assertEquals([...s.matrix], [1]);
    }
  });

  it("refuse logits that are not n·n finite numbers, and bad counts", () => {
    assertThrows(() => sinkhornStages([1, 2, 3], 2, 1), RangeError, "n·n = 4");
    assertThrows(
      () => sinkhornStages([0, NaN, 0, 0], 2, 1),
      RangeError,
      "finite",
    );
    assertThrows(
      () => sinkhornStages([0, Infinity, 0, 0], 2, 1),
      RangeError,
      "finite",
    );
    assertThrows(() => sinkhornStages([], 0, 1), RangeError, "n must be");
    assertThrows(
      () => sinkhornStages([0], 1, 0),
      RangeError,
      "iterations must be",
    );
  });

  it("randomise logits reproducibly within the spread, to two decimals", () => {
    const a = randomLogits(8, 3, 42), b = randomLogits(8, 3, 42);
    assertEquals([...a], [...b]);
    assert([...randomLogits(8, 3, 43)].some((v, i) => v !== a[i]));
    for (const v of a) {
      assert(Math.abs(v) <= 3, `${v}`);
      assertAlmostEquals(v * 100, Math.round(v * 100), 1e-9);
    }
    assert(new Set(a).size > 40, "64 draws should be mostly distinct");
  });
});

describe("the playground's charts", () => {
  const run = (label: string, color: string): RunView => ({
    label,
    color,
    losses: [[1, 5.5], [2, 4.2], [3, 3.1]],
    valLosses: [[0, 5.6], [3, 3.2]],
    speed: [[1, 900], [2, 1100], [3, 1000]],
    forwardGain: [1, 1.1, 1.05, 1],
    backwardGain: [1.2, 1.1, 1, 1],
  });

  it("draw a placeholder before any run", () => {
    assertStringIncludes(lossChart([], null).body, "Start a run");
    assertStringIncludes(gainChart([]).body, "HC or mHC");
    assertStringIncludes(mixingChart(undefined, 4, "").body, "HC or mHC");
  });

  it("draw one line per run with its label escaped, and the entropy rate", () => {
    const body = lossChart([
      run("#1 mHC <n=4>", "#1f77b4"),
      run("#2 HC", "#d62728"),
    ], 1.25).body;
    assertStringIncludes(body, "#1 mHC &lt;n=4&gt;");
    assertStringIncludes(body, "#2 HC");
    assertStringIncludes(body, 'stroke="#d62728"');
    assertStringIncludes(body, "entropy rate of the corpus 1.25");
  });

  it("give each chart its own clip path", () => {
    const ids = [
      lossChart([run("a", "#000")], null),
      gainChart([run("a", "#000")]),
      convergenceChart([1, 0, 0.5], [2, 0.5, 0], 1),
    ].map((c) => c.body.match(/id="(clip-[^"]+)"/)![1]);
    assertEquals(new Set(ids).size, 3, ids.join(", "));
  });

  it("draw one n×n heat map per site, eight sites to a row", () => {
    const sites = Array.from({ length: 12 }, () => new Array(9).fill(1 / 3));
    const chart = mixingChart(sites, 3, "run #1 at step 10");
    assertEquals(chart.body.match(/<rect [^>]*fill="rgb/g)?.length, 12 * 9);
    assertStringIncludes(chart.body, "6 mlp");
    assert(chart.height > 2 * 44, "two rows");
  });
});
