// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Training behaviour on tiny runs: the loss falls, mHC's streams become
// different, and an interrupted run resumed from its checkpoint produces the
// very same loss sequence as an uninterrupted one.

import { describe, it } from "@std/testing/bdd";
import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { syntheticDataset } from "../src/train/data.ts";
import { streamSpread } from "../src/train/metrics.ts";
import { ProgressLine } from "../src/train/progress.ts";
import { execute, Interrupted, readMetrics } from "../src/train/run.ts";
import { Trainer } from "../src/train/trainer.ts";
import { CpuDevice } from "../src/train/cpu/device.ts";
import { decodeSafetensors } from "../src/train/safetensors.ts";
import type { Command } from "../src/train/cli.ts";
import { SKIP_GPU } from "./_gpu.ts";

const TINY: TrainConfig = {
  ...DEFAULTS,
  layers: 2,
  width: 16,
  heads: 2,
  context: 16,
  batch: 4,
  streams: 4,
  steps: 60,
  lr: 1e-2,
  warmup: 5,
  evalEvery: 20,
  evalBatches: 2,
  checkpointEvery: 1000,
};

const data = syntheticDataset(TINY.seed, 1 << 16);

function command(
  cfg: TrainConfig,
  out: string | null,
  resume: string | null,
  device: "cpu" | "webgpu" = "cpu",
  recompute = false,
): Command {
  return {
    help: false,
    compare: false,
    cfg,
    given: {},
    out,
    resume,
    sampleBytes: 0,
    device,
    recompute,
  };
}

describe("a tiny training run", () => {
  it("lowers the validation loss well below its starting value", async () => {
    const cfg = { ...TINY, mode: "mhc" as const };
    const t = new Trainer(cfg, data, new CpuDevice(cfg));
    const before = (await t.evaluate()).valLoss;
    for (let i = 0; i < TINY.steps; i++) await t.trainStep();
    const after = (await t.evaluate()).valLoss;
    // ln 256 ≈ 5.55 at the start; learning the byte frequencies alone gets
    // below 3.5 nats/byte.
    assertGreater(before, 5);
    assertLess(after, before - 2, `val loss ${before} → ${after}`);
  });

  it("makes the mHC streams different although they start as equal copies", async () => {
    const cfg = { ...TINY, mode: "mhc" as const };
    const device = new CpuDevice(cfg);
    const t = new Trainer(cfg, data, device);
    const first = await t.evaluate();
    const n = TINY.streams, C = TINY.width, L = TINY.layers;
    const tokens = TINY.batch * TINY.context;
    // Before training, every state's streams are copies up to rounding
    // (H_res rows sum to 1, H_post is the same for every stream).
    for (const s of first.streamSpread!) assertLess(s, 1e-5);
    for (let i = 0; i < 40; i++) await t.trainStep();
    const later = await t.evaluate();
    const last = later.streamSpread![2 * L];
    assertGreater(last, 1e-3, `spread of the last state ${last}`);
    assertGreater(last, 100 * first.streamSpread![2 * L]);
    // The same measure computed directly from the model's last state.
    device.model.forward(
      data.val.subarray(0, tokens),
      null,
      TINY.batch,
      TINY.context,
    );
    assertGreater(
      streamSpread(device.model.streamState(2 * L), n, C, tokens),
      0,
    );
  });

  for (
    const [device, recompute] of [
      ["cpu", false],
      ["webgpu", false],
      ["webgpu", true],
    ] as const
  ) {
    it({
      name:
        `resumes after an interruption with exactly the same losses and weights on ${device}${
          recompute ? " with --recompute" : ""
        }`,
      ignore: device === "webgpu" && SKIP_GPU,
      async fn() {
        const root = await Deno.makeTempDir({ prefix: "mhc_resume_" });
        try {
          const cfg = {
            ...TINY,
            mode: "mhc" as const,
            steps: 24,
            evalEvery: 6,
            checkpointEvery: 10,
          };
          const quiet = new ProgressLine(true);
          const [full] = await execute(
            command(cfg, `${root}/full`, null, device, recompute),
            { requested: false },
            quiet,
          );
          // Stop after step 13: not a checkpoint step, so the Ctrl-C path writes it.
          let interrupted = false;
          try {
            await execute(
              command(cfg, `${root}/cut`, null, device, recompute),
              { requested: false },
              quiet,
              { stopAfter: 13 },
            );
          } catch (e) {
            interrupted = e instanceof Interrupted;
          }
          assert(interrupted, "the run was not interrupted");
          // Ctrl-C also leaves the report of the steps done so far.
          assert(
            (await Deno.stat(`${root}/cut/report.svg`)).size > 0,
            "no report after the interruption",
          );
          const cut = await readMetrics(`${root}/cut`);
          assertEquals(cut.steps.length, 13);
          const [resumed] = await execute(
            command(cfg, null, `${root}/cut`, device, recompute),
            { requested: false },
            quiet,
          );
          const a = full.steps.map((s) => s.loss);
          const b = resumed.steps.map((s) => s.loss);
          assertEquals(b.length, cfg.steps);
          // Exact equality: same bits, not just close.
          assertEquals(b, a);
          assertEquals(
            resumed.evals.map((e) => e.valLoss),
            full.evals.map((e) => e.valLoss),
          );
          const wa = decodeSafetensors(
            await Deno.readFile(`${root}/full/checkpoint.safetensors`),
          );
          const wb = decodeSafetensors(
            await Deno.readFile(`${root}/cut/checkpoint.safetensors`),
          );
          for (const [name, t] of wa.tensors) {
            assertEquals(wb.tensors.get(name)!.data, t.data, name);
          }
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      },
    });
  }
});

/** A progress line that keeps the log lines instead of printing them. */
class Capture extends ProgressLine {
  readonly lines: string[] = [];
  constructor() {
    super(true);
  }
  override log(text: string): void {
    this.lines.push(text);
  }
}

describe("raising --steps on resume", () => {
  const cfg = {
    ...TINY,
    mode: "mhc" as const,
    steps: 12,
    evalEvery: 6,
    checkpointEvery: 6,
  };
  const min = cfg.lr * cfg.minLrRatio;

  it("keeps the original learning-rate schedule, says so once and records it", async () => {
    const root = await Deno.makeTempDir({ prefix: "mhc_steps_" });
    try {
      const quiet = new ProgressLine(true);
      const [first] = await execute(
        command(cfg, `${root}/run`, null),
        { requested: false },
        quiet,
      );
      const ui = new Capture();
      const [longer] = await execute(
        {
          ...command({ ...cfg, steps: 20 }, null, `${root}/run`),
          given: { steps: 20 },
        },
        { requested: false },
        ui,
      );
      const lrs = longer.steps.map((s) => s.lr);
      assertEquals(lrs.length, 20);
      // The first 12 steps are the original run's, and the schedule planned
      // for 12 steps ended at its minimum: the new steps hold it there (a
      // schedule re-planned for 20 steps would be back above it).
      assertEquals(lrs.slice(0, 12), first.steps.map((s) => s.lr));
      assertEquals(lrs[11], min);
      assertEquals(lrs.slice(12), new Array(8).fill(min));
      // One line says what happens.
      const said = ui.lines.filter((l) => l.includes("--steps"));
      assertEquals(said.length, 1, ui.lines.join("\n"));
      assertEquals(
        said[0],
        `mhc: --steps 20 (was 12): the learning rate keeps the schedule planned for 12 steps (down to ${min} at step 12) and holds at ${min} for steps 13-20`,
      );
      // The run directory records it.
      const saved = JSON.parse(
        await Deno.readTextFile(`${root}/run/config.json`),
      );
      assertEquals([saved.steps, saved.scheduleSteps], [20, 12]);
      const { resumes } = await readMetrics(`${root}/run`);
      assertEquals(
        resumes.map((r) => [r.step, r.was, r.steps, r.scheduleSteps]),
        [
          [12, 12, 20, 12],
        ],
      );
      assertEquals(resumes[0].note, said[0].slice("mhc: ".length));
      // Resuming again without --steps changes nothing and says nothing.
      const again = new Capture();
      await execute(
        command(cfg, null, `${root}/run`),
        { requested: false },
        again,
      );
      assertEquals(again.lines.filter((l) => l.includes("--steps")), []);
      assertEquals((await readMetrics(`${root}/run`)).resumes.length, 1);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  it("rewrites compare.json and tells the change once for the three modes of --compare", async () => {
    const root = await Deno.makeTempDir({ prefix: "mhc_steps_compare_" });
    try {
      const small = { ...cfg, steps: 8, layers: 1 };
      await execute(
        { ...command(small, `${root}/cmp`, null), compare: true },
        { requested: false },
        new ProgressLine(true),
      );
      const ui = new Capture();
      const results = await execute(
        {
          ...command({ ...small, steps: 11 }, null, `${root}/cmp`),
          given: { steps: 11 },
        },
        { requested: false },
        ui,
      );
      const said = ui.lines.filter((l) => l.includes("--steps"));
      assertEquals(said.length, 1, ui.lines.join("\n"));
      assert(said[0].startsWith("compare: --steps 11 (was 8): "), said[0]);
      const saved = JSON.parse(
        await Deno.readTextFile(`${root}/cmp/compare.json`),
      );
      assertEquals([saved.config.steps, saved.config.scheduleSteps], [11, 8]);
      for (const r of results) {
        assertEquals(r.steps.map((s) => s.lr).slice(7), [min, min, min, min]);
        const c = JSON.parse(
          await Deno.readTextFile(`${root}/cmp/${r.cfg.mode}/config.json`),
        );
        assertEquals([c.steps, c.scheduleSteps], [11, 8], r.cfg.mode);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});
