// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU trainer against the CPU trainer: every parameter tensor's
// gradient for residual, HC and mHC from the same weights and batch; twenty
// training steps' losses; no buffer created after the first step; exact
// resume on the same device and a checkpoint that moves between devices.

import { describe, it } from "@std/testing/bdd";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { CONNECTION_MODES } from "../src/train/connection.ts";
import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { syntheticDataset } from "../src/train/data.ts";
import { Model, VOCAB } from "../src/train/model.ts";
import { Rng } from "../src/train/rng.ts";
import { CpuDevice } from "../src/train/cpu/device.ts";
import { GpuDevice } from "../src/train/gpu/device.ts";
import { fromGpuLayout, toGpuLayout } from "../src/train/gpu/layout.ts";
import { Trainer } from "../src/train/trainer.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  restoreTrainer,
} from "../src/train/checkpoint.ts";
import { runAndRead, SKIP_GPU, testGpu } from "./_train_gpu.ts";

// Odd sizes on purpose: width 36 (not a multiple of 8 or 16), 3 streams,
// 28 tokens per sequence, 3 heads of 12.
const CFG: TrainConfig = {
  ...DEFAULTS,
  layers: 2,
  width: 36,
  heads: 3,
  context: 28,
  batch: 3,
  streams: 3,
  sinkhornIters: 20,
  steps: 20,
  warmup: 4,
  evalEvery: 10,
  evalBatches: 1,
  lr: 3e-3,
};
const data = syntheticDataset(5, 1 << 15);

describe("the WebGPU trainer", { ignore: SKIP_GPU }, () => {
  for (const mode of CONNECTION_MODES) {
    it(`computes every ${mode} gradient tensor as the CPU trainer does`, async () => {
      const cfg = { ...CFG, mode };
      const gpu = await testGpu();
      const cpu = new Model(cfg, cfg.batch, Float32Array);
      const rng = new Rng(11);
      cpu.init(rng);
      // Move every parameter off its structured init so that no gradient
      // vanishes by symmetry (φ = θ = 0, equal α, unit gains).
      for (let i = 0; i < cpu.params.length; i++) {
        cpu.params[i] += 0.05 * rng.normal();
      }
      const BT = cfg.batch * cfg.context;
      const inputs = Uint8Array.from({ length: BT }, () => rng.int(VOCAB));
      const targets = Uint8Array.from({ length: BT }, () => rng.int(VOCAB));
      cpu.zeroGrad();
      const cpuLoss = cpu.forward(inputs, targets, cfg.batch, cfg.context);
      cpu.backward();

      const dev = await GpuDevice.create(gpu, cfg);
      try {
        const m = dev.model;
        const zeros = new Float32Array(m.layout.floats);
        m.writeParams(toGpuLayout(m.layout, cpu.params), zeros, zeros);
        gpu.device.queue.writeBuffer(m.tokens, 0, Uint32Array.from(inputs));
        gpu.device.queue.writeBuffer(m.targets, 0, Uint32Array.from(targets));
        const [grads, stats] = await runAndRead(gpu, async (enc) => {
          await m.encodeForward(enc, cfg.batch);
          await m.encodeBackward(enc);
        }, [[m.grads, m.layout.floats], [m.stats, 4]]);
        assertLessOrEqual(Math.abs(stats[0] - cpuLoss), 1e-5 * cpuLoss);
        const g = fromGpuLayout(m.layout, grads);
        for (const spec of m.layout.tensors) {
          let diff = 0, big = 0;
          for (let i = spec.offset; i < spec.offset + spec.size; i++) {
            diff = Math.max(diff, Math.abs(g[i] - cpu.grads[i]));
            big = Math.max(big, Math.abs(cpu.grads[i]));
          }
          assert(big > 0, `${spec.name}: the CPU gradient is all zero`);
          assertLessOrEqual(
            diff / big,
            1e-4,
            `${spec.name}: largest |difference| ${diff} vs largest |value| ${big}`,
          );
        }
      } finally {
        dev.destroy();
      }
    });
  }

  it("trains twenty steps with the CPU trainer's losses in every mode", async () => {
    const gpu = await testGpu();
    for (const mode of CONNECTION_MODES) {
      const cfg = { ...CFG, mode };
      const a = new Trainer(cfg, data, new CpuDevice(cfg));
      const b = new Trainer(cfg, data, await GpuDevice.create(gpu, cfg));
      try {
        const la: number[] = [], lb: number[] = [];
        // The GPU steps are submitted back to back (pipelined).
        const pending = [];
        for (let i = 0; i < 20; i++) pending.push(b.trainStep());
        for (let i = 0; i < 20; i++) la.push((await a.trainStep()).loss);
        for (const p of pending) lb.push((await p).loss);
        for (let i = 0; i < 20; i++) {
          assertLessOrEqual(
            Math.abs(la[i] - lb[i]),
            1e-3,
            `${mode} step ${i + 1}: cpu ${la[i]} vs webgpu ${lb[i]}`,
          );
        }
        assert(lb[19] < lb[0], `${mode}: the loss did not fall`);
      } finally {
        b.device.destroy();
      }
    }
  });

  it("creates no buffer after the first step", async () => {
    const gpu = await testGpu();
    const cfg = { ...CFG, mode: "mhc" as const };
    const t = new Trainer(cfg, data, await GpuDevice.create(gpu, cfg));
    const device = gpu.device;
    const original = device.createBuffer;
    let created = 0;
    device.createBuffer = function (d: GPUBufferDescriptor) {
      created++;
      return original.call(device, d);
    };
    try {
      await t.trainStep();
      const warm = created;
      for (let i = 0; i < 5; i++) await t.trainStep();
      assertEquals(created - warm, 0, "buffers created after warm-up");
    } finally {
      device.createBuffer = original;
      t.device.destroy();
    }
  });

  it("resumes exactly on the same device and moves a checkpoint between devices", async () => {
    const gpu = await testGpu();
    const cfg = { ...CFG, mode: "mhc" as const };
    const gpuDevice = (c: TrainConfig) => GpuDevice.create(gpu, c);
    const cpuDevice = (c: TrainConfig) => Promise.resolve(new CpuDevice(c));
    const a = new Trainer(cfg, data, await gpuDevice(cfg));
    try {
      for (let i = 0; i < 5; i++) await a.trainStep();
      const ckpt = decodeCheckpoint(
        await encodeCheckpoint(a, { trainMs: 0, profile: {} }),
        "mem",
      );
      assertEquals(ckpt.state.device, "webgpu");
      const b = await restoreTrainer(ckpt, data, "mem", gpuDevice);
      const c = await restoreTrainer(ckpt, data, "mem", cpuDevice);
      try {
        for (let i = 0; i < 3; i++) {
          const ra = await a.trainStep(), rb = await b.trainStep();
          const rc = await c.trainStep();
          // Same device: bit for bit.
          assertEquals([rb.loss, rb.gradNorm], [ra.loss, ra.gradNorm]);
          // The other device: the same run within float32 differences.
          assertLessOrEqual(Math.abs(rc.loss - ra.loss), 1e-3);
        }
        assertEquals(await b.device.readState(), await a.device.readState());
      } finally {
        b.device.destroy();
      }
    } finally {
      a.device.destroy();
    }
  });
});
