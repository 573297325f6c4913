// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The report's charts: axis ticks span the data and read in one format, a
// legend never covers a line, and the per-op bars say which colour is which.

import { describe, it } from "@std/testing/bdd";
import { assert, assertEquals, assertGreater } from "@std/assert";
import {
  axisScale,
  barChart,
  lineChart,
  type Series,
  tickLabels,
} from "../src/train/plot.ts";

const PLAIN = /^−?\d+(\.\d+)?$/;
const POWER = /^−?(\d(\.\d+)?×)?10⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/;

/** Which of the two formats every label has; fails when they are mixed. */
function format(labels: string[]): "plain" | "power" {
  const plain = labels.every((l) => PLAIN.test(l));
  const power = labels.every((l) => l === "0" || POWER.test(l));
  assert(plain !== power, `labels in mixed formats: ${labels.join(", ")}`);
  return plain ? "plain" : "power";
}

describe("axis ticks", () => {
  // Data ranges [min, max]: the column-sum deviations of real runs, losses,
  // gradient norms, Amax gains, and ranges crossing the decades oddly.
  const logRanges: [number, number][] = [
    [1e-9, 1.7e-3],
    [1.3e-8, 0.136],
    [2e-5, 0.136],
    [0.257, 5.5],
    [0.6, 1.78],
    [0.9, 2.66],
    [0.99, 1.01],
    [3, 3],
    [7e-4, 2e5],
    [1e-300, 1e300],
  ];
  for (const [min, max] of logRanges) {
    it(`span the data and read in one format on a log axis from ${min} to ${max}`, () => {
      for (const maxTicks of [4, 7, 9]) {
        const s = axisScale(
          { label: "", log: true },
          [max, min, NaN, 0, -1],
          maxTicks,
        );
        const what = `${min}..${max}, ${maxTicks} ticks: ${
          s.labels.join(", ")
        }`;
        assert(s.lo > 0 && s.lo <= min && s.hi >= max, what);
        // Open ends stop at a tick: the labels reach past the data both ways.
        assertEquals(s.ticks[0], s.lo, what);
        assertEquals(s.ticks.at(-1), s.hi, what);
        assert(s.ticks.length >= 2 && s.ticks.length <= maxTicks, what);
        for (let i = 1; i < s.ticks.length; i++) {
          assertGreater(s.ticks[i], s.ticks[i - 1], what);
        }
        assertEquals(s.labels.length, s.ticks.length);
        assertEquals(new Set(s.labels).size, s.labels.length, what);
        format(s.labels);
      }
    });
  }

  it("spans the data on a linear axis, negative values included", () => {
    const ranges: [number, number][] = [
      [0, 0.0093],
      [-3.2, 7.9],
      [-4, -4],
      [1e-5, 3e-5],
      [0, 123456],
    ];
    for (const [min, max] of ranges) {
      const s = axisScale({ label: "" }, [min, max], 8);
      const what = `${min}..${max}: ${s.labels.join(", ")}`;
      assert(s.ticks[0] === s.lo && s.lo <= min, what);
      assert(s.ticks.at(-1) === s.hi && s.hi >= max, what);
      format(s.labels);
      // Equally spaced ticks get the same number of decimals (and one
      // exponent).
      const nonzero = s.labels.filter((l) => l !== "0");
      const places = nonzero.map((l) =>
        l.split("×")[0].split(".")[1]?.length ?? 0
      );
      assertEquals(new Set(places).size, 1, what);
      const powers = nonzero.map((l) => l.split("×")[1] ?? "");
      assertEquals(new Set(powers).size, 1, what);
    }
  });

  it("keeps fixed ends, puts ticks on them when a step allows, and on whole numbers when asked", () => {
    const x = axisScale({ label: "", min: 0, max: 120 }, [3, 90], 9);
    assertEquals([x.lo, x.hi], [0, 120]);
    assertEquals([x.ticks[0], x.ticks.at(-1)], [0, 120]);
    const sites = axisScale(
      { label: "", min: 0, max: 1, integer: true },
      [],
      9,
    );
    assertEquals(sites.ticks, [0, 1]);
    const odd = axisScale({ label: "", min: 0, max: 7, integer: true }, [], 5);
    assert(odd.ticks.every(Number.isInteger), odd.labels.join(", "));
  });

  it("labels decades that need exponents all as powers of ten", () => {
    // The old report printed 0.1, 0.001 and 1.00e-5 on one axis.
    assertEquals(tickLabels([1e-5, 1e-3, 0.1]), ["10⁻⁵", "10⁻³", "10⁻¹"]);
    assertEquals(tickLabels([2e-4, 5e-4, 1e-3]), ["2×10⁻⁴", "5×10⁻⁴", "10⁻³"]);
    assertEquals(tickLabels([0.2, 0.5, 1, 2, 5]), [
      "0.2",
      "0.5",
      "1",
      "2",
      "5",
    ]);
    assertEquals(tickLabels([0, 0.5, 1], true), ["0.0", "0.5", "1.0"]);
    assertEquals(tickLabels([-2, 0, 2]), ["−2", "0", "2"]);
  });
});

/** Numbers of an attribute of every element with this tag and class/marker. */
function rects(svg: string, marker: string) {
  const out: { x: number; y: number; w: number; h: number }[] = [];
  for (const m of svg.matchAll(/<rect ([^>]*)\/>/g)) {
    if (!m[1].includes(marker)) continue;
    const get = (a: string) =>
      Number(m[1].match(new RegExp(`\\b${a}="([^"]+)"`))![1]);
    out.push({ x: get("x"), y: get("y"), w: get("width"), h: get("height") });
  }
  return out;
}

/** Vertices of every data path (drawn inside the clip group). */
function vertices(svg: string): [number, number][] {
  const clipped = svg.slice(svg.indexOf("<g clip-path"));
  const body = clipped.slice(0, clipped.indexOf("</g>"));
  return [...body.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((
    m,
  ) => [Number(m[1]), Number(m[2])]);
}

describe("a line chart's legend", () => {
  const box = { x: 0, y: 0, w: 590, h: 300 };
  const series = (points: [number, number][], label: string): Series => ({
    label,
    color: "#1f77b4",
    points,
  });
  const ramp = (from: number, to: number) =>
    Array.from(
      { length: 41 },
      (_, i): [number, number] => [i, from + ((to - from) * i) / 40],
    );

  it("sits in a corner that no line crosses", () => {
    // Rising lines cross the top-right and bottom-left corners.
    const svg = lineChart(box, {
      title: "t",
      x: { label: "x" },
      y: { label: "y" },
      series: [
        series(ramp(0, 10), "first line"),
        series(ramp(1, 11), "second"),
      ],
    });
    const [legend] = rects(svg, 'rx="3"');
    assert(legend, "no legend box");
    const hits = vertices(svg).filter(([x, y]) =>
      x >= legend.x && x <= legend.x + legend.w && y >= legend.y &&
      y <= legend.y + legend.h
    );
    assertEquals(hits, []);
    // Not on top of the lines: the top-left or bottom-right corner.
    const frame = rects(svg, 'class="frame"')[0];
    const left = legend.x < frame.x + frame.w / 2;
    const top = legend.y < frame.y + frame.h / 2;
    assert(left === top, `legend at ${legend.x},${legend.y}`);
    assert(svg.includes(">first line<") && svg.includes(">second<"));
  });

  it("goes above the plot when lines cross every corner", () => {
    // A zigzag through all six spots, with a long label.
    const zig: [number, number][] = Array.from(
      { length: 81 },
      (_, i) => [i, i % 2 === 0 ? 0 : 10],
    );
    const svg = lineChart(box, {
      title: "t",
      x: { label: "x" },
      y: { label: "y" },
      series: [series(zig, "a line with a long label")],
    });
    assertEquals(rects(svg, 'rx="3"'), [], "a legend box inside the plot");
    const frame = rects(svg, 'class="frame"')[0];
    const label = svg.match(
      /<text x="[\d.]+" y="([\d.]+)" class="legend"[^>]*>a line with a long label</,
    );
    assert(label, "no legend label");
    assert(
      Number(label[1]) < frame.y,
      `legend at y ${label[1]}, plot from ${frame.y}`,
    );
  });

  it("keeps a reference line's label off the data", () => {
    // Data just above and just below the reference line's right part.
    const near = (dy: number): [number, number][] =>
      ramp(0, 0).map(([x]) => [x, x > 20 ? 1 + dy : 0.2]);
    const svg = lineChart(box, {
      title: "t",
      x: { label: "x" },
      y: { label: "y", min: 0, max: 2 },
      series: [series(near(0.08), ""), series(near(-0.08), "")],
      lines: [{ y: 1, label: "reference", color: "#2ca02c" }],
    });
    const m = svg.match(
      /<text x="([\d.]+)" y="([\d.]+)" class="note"[^>]*>reference</,
    );
    assert(m, "no reference label");
    // It went to the left end, where there is no data near the line.
    assert(Number(m[1]) < 200, `label at x ${m[1]}`);
  });
});

describe("the per-op bar chart", () => {
  it("has a legend naming the colour of every mode", () => {
    const svg = barChart(
      { x: 0, y: 0, w: 590, h: 200 },
      "Per-op time",
      [{ label: "matmul", values: [1, 2, 3] }],
      [
        { label: "residual", color: "#6b6b6b" },
        { label: "HC", color: "#d62728" },
        { label: "mHC", color: "#1f77b4" },
      ],
      "ms",
    );
    for (
      const [label, color] of [["residual", "#6b6b6b"], ["HC", "#d62728"], [
        "mHC",
        "#1f77b4",
      ]]
    ) {
      const i = svg.indexOf(
        `class="legend" dominant-baseline="middle">${label}<`,
      );
      assert(i > 0, `no legend entry ${label}`);
      // The swatch right before the label has the bars' colour.
      const before = svg.slice(0, svg.lastIndexOf("<text", i));
      assert(
        before.lastIndexOf(`fill="${color}"`) > before.lastIndexOf("<text"),
        label,
      );
    }
  });
});
