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
): Command {
  return {
    help: false,
    compare: false,
    cfg,
    given: {},
    out,
    resume,
    sampleBytes: 0,
    device: "cpu",
    recompute: false,
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

  it("resumes after an interruption with exactly the same losses and weights", async () => {
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
        command(cfg, `${root}/full`, null),
        { requested: false },
        quiet,
      );
      // Stop after step 13: not a checkpoint step, so the Ctrl-C path writes it.
      let interrupted = false;
      try {
        await execute(
          command(cfg, `${root}/cut`, null),
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
        command(cfg, null, `${root}/cut`),
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
  });
});
