// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The CPU trainer allocates nothing per step (issue 11 point 6): once the
// first steps have sized its buffers, a step constructs no Float32Array or
// Float64Array at all, and the arrays it writes are the same objects step
// after step.

import { describe, it } from "@std/testing/bdd";
import { assertEquals, assertGreater, assertStrictEquals } from "@std/assert";
import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { CpuDevice } from "../src/train/cpu/device.ts";
import type { ConnectionMode } from "../src/train/connection.ts";
import { countFloatArrays } from "./_alloc_spy.ts";
import { rng } from "./_rand.ts";

// Odd sizes throughout: nothing is a multiple of 4 but the heads' split.
const SMALL: TrainConfig = {
  ...DEFAULTS,
  layers: 2,
  width: 10,
  heads: 2,
  context: 7,
  batch: 3,
  streams: 3,
  sinkhornIters: 5,
};

function batches(count: number, cfg: TrainConfig) {
  const r = rng(7), N = cfg.batch * cfg.context;
  return Array.from({ length: count }, () => ({
    inputs: new Uint8Array(N).map(() => r.int(256)),
    targets: new Uint8Array(N).map(() => r.int(256)),
  }));
}

describe("the CPU trainer", () => {
  for (const mode of ["mhc", "hc", "residual"] as ConnectionMode[]) {
    it(`constructs no float array in steps 3 to 5 of a ${mode} run`, async () => {
      const cfg = { ...SMALL, mode };
      const device = new CpuDevice(cfg);
      const data = batches(5, cfg);
      const hyper = { lr: 1e-2, clip: 1 };
      for (const b of data.slice(0, 2)) {
        await device.step(b.inputs, b.targets, hyper);
      }
      const losses: number[] = [];
      const made = await countFloatArrays(async () => {
        for (const b of data.slice(2)) {
          losses.push((await device.step(b.inputs, b.targets, hyper)).loss);
        }
      });
      assertEquals(losses.length, 3);
      assertEquals(made, []);
    });
  }

  it("keeps the same H_res arrays from step to step", async () => {
    const cfg = { ...SMALL, mode: "mhc" as const };
    const device = new CpuDevice(cfg);
    const [a, b] = batches(2, cfg);
    const hyper = { lr: 1e-2, clip: 1 };
    await device.step(a.inputs, a.targets, hyper);
    const first = device.model.connection.mixing(0)!;
    const before = first.slice();
    await device.step(b.inputs, b.targets, hyper);
    const second = device.model.connection.mixing(0)!;
    assertStrictEquals(second, first);
    // The same object now holds the second step's mixing matrices.
    assertGreater(
      before.reduce((s, v, i) => s + Math.abs(v - second[i]), 0),
      0,
    );
  });
});

describe("countFloatArrays", () => {
  it("sees the float arrays that code constructs", async () => {
    const made = await countFloatArrays(() => {
      new Float32Array(3);
      new Float64Array(5);
    });
    assertEquals(made, [
      { type: "Float32Array", length: 3 },
      { type: "Float64Array", length: 5 },
    ]);
  });
});
