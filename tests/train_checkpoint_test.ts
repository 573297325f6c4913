// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Checkpoints: the safetensors layout byte by byte, a round trip of a whole
// training state, and corrupt files rejected with one clear line.

import { describe, it } from "@std/testing/bdd";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertThrows,
} from "@std/assert";
import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { syntheticDataset } from "../src/train/data.ts";
import { UsageError } from "../src/train/errors.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  restoreTrainer,
} from "../src/train/checkpoint.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
} from "../src/train/safetensors.ts";
import { Trainer } from "../src/train/trainer.ts";
import { CpuDevice } from "../src/train/cpu/device.ts";
import type { TrainConfig as Cfg } from "../src/train/config.ts";

const cpu = (cfg: Cfg) => new Trainer(cfg, data, new CpuDevice(cfg));
const cpuDevice = (cfg: Cfg) => Promise.resolve(new CpuDevice(cfg));

const CFG: TrainConfig = {
  ...DEFAULTS,
  layers: 1,
  width: 8,
  heads: 2,
  context: 8,
  batch: 2,
  streams: 3,
  steps: 10,
  warmup: 2,
  evalBatches: 1,
};
const data = syntheticDataset(3, 1 << 14);

describe("the safetensors writer", () => {
  it("writes an 8-byte little-endian header length, a padded JSON header and raw little-endian data", () => {
    const a = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const b = new Float64Array([Math.PI]);
    const bytes = encodeSafetensors([
      ["a", { dtype: "F32", shape: [2, 3], data: a }],
      ["b", { dtype: "F64", shape: [1], data: b }],
    ], { note: "hello" });
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    assertEquals(n % 8, 0, "data starts 8-byte aligned");
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + n)),
    );
    assertEquals(header.__metadata__, { note: "hello" });
    assertEquals(header.a, {
      dtype: "F32",
      shape: [2, 3],
      data_offsets: [0, 24],
    });
    assertEquals(header.b, {
      dtype: "F64",
      shape: [1],
      data_offsets: [24, 32],
    });
    assertEquals(bytes.length, 8 + n + 32);
    for (let i = 0; i < a.length; i++) {
      assertEquals(view.getFloat32(8 + n + 4 * i, true), a[i]);
    }
    assertEquals(view.getFloat64(8 + n + 24, true), Math.PI);
    const back = decodeSafetensors(bytes);
    assertEquals(back.metadata, { note: "hello" });
    assertEquals(back.tensors.get("a")!.data, a);
    assertEquals(back.tensors.get("b")!.data, b);
    assertEquals(back.tensors.get("a")!.shape, [2, 3]);
  });

  it("rejects truncated, overlapping, mistyped and garbage files", () => {
    const good = encodeSafetensors([
      ["w", { dtype: "F32", shape: [4], data: new Float32Array(4) }],
    ]);
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    const header = (h: unknown) => {
      let json = new TextEncoder().encode(JSON.stringify(h));
      const pad = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(32);
      pad.set(json);
      json = pad;
      const out = new Uint8Array(8 + json.length + 16);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const cases: [string, Uint8Array][] = [
      ["short", good.subarray(0, 5)],
      ["truncated data", good.subarray(0, good.length - 4)],
      [
        "header longer than file",
        (() => {
          const c = good.slice();
          new DataView(c.buffer).setBigUint64(0, 1n << 40n, true);
          return c;
        })(),
      ],
      [
        "bad JSON",
        (() => {
          const c = good.slice();
          c[8] = 0x7b + 1;
          return c;
        })(),
      ],
      [
        "unknown dtype",
        header({ w: { dtype: "Q4", shape: [4], data_offsets: [0, 16] } }),
      ],
      [
        "size mismatch",
        header({ w: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }),
      ],
      [
        "overlap",
        header({
          w: { dtype: "F32", shape: [4], data_offsets: [0, 16] },
          v: { dtype: "F32", shape: [2], data_offsets: [8, 16] },
        }),
      ],
      [
        "gap",
        header({ w: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }),
      ],
    ];
    assert(n > 0);
    for (const [why, bytes] of cases) {
      assertThrows(
        () => decodeSafetensors(bytes),
        SafetensorsError,
        undefined,
        why,
      );
    }
  });
});

describe("a training checkpoint", () => {
  it("restores weights, moments, step and data position so that training continues identically", async () => {
    const a = cpu(CFG);
    for (let i = 0; i < 4; i++) await a.trainStep();
    const bytes = await encodeCheckpoint(a, {
      trainMs: 12,
      profile: { matmul: 3 },
    });
    const ckpt = decodeCheckpoint(bytes, "mem");
    assertEquals(ckpt.cfg, CFG);
    assertEquals(ckpt.state.step, 4);
    assertEquals(ckpt.state.trainMs, 12);
    assertEquals(ckpt.state.device, "cpu");
    const b = await restoreTrainer(ckpt, data, "mem", cpuDevice);
    assertEquals(await b.device.readState(), await a.device.readState());
    assertEquals(b.step, a.step);
    assertEquals(b.sampler.getState(), a.sampler.getState());
    assertEquals(b.device.profile(), { matmul: 3 });
    for (let i = 0; i < 3; i++) {
      const ra = await a.trainStep(), rb = await b.trainStep();
      assertEquals([rb.step, rb.loss, rb.lr, rb.gradNorm], [
        ra.step,
        ra.loss,
        ra.lr,
        ra.gradNorm,
      ]);
    }
    assertEquals(await b.device.readState(), await a.device.readState());
  });

  it("names the weights plainly and the optimiser moments optimizer.m.* and optimizer.v.*", async () => {
    const t = cpu({ ...CFG, mode: "mhc" });
    const file = decodeSafetensors(
      await encodeCheckpoint(t, { trainMs: 0, profile: {} }),
    );
    for (const spec of (t.device as CpuDevice).model.layout) {
      assertEquals(file.tensors.get(spec.name)!.shape, spec.shape);
      assert(file.tensors.has(`optimizer.m.${spec.name}`));
      assert(file.tensors.has(`optimizer.v.${spec.name}`));
    }
    assert(file.tensors.has("blocks.0.attn_conn.phi"));
    assertEquals(file.metadata.format, "birkhoff-mhc-train/1");
  });

  it("refuses corrupt bytes, another format and other data with one line", async () => {
    const t = cpu(CFG);
    const bytes = await encodeCheckpoint(t, { trainMs: 0, profile: {} });
    const errors: unknown[] = [];
    const catchIt = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    };
    await catchIt(() =>
      decodeCheckpoint(bytes.subarray(0, bytes.length - 1), "x")
    );
    await catchIt(() =>
      decodeCheckpoint(
        encodeSafetensors([], { format: "something-else" }),
        "x",
      )
    );
    await catchIt(() =>
      restoreTrainer(
        decodeCheckpoint(bytes, "x"),
        syntheticDataset(4, 1 << 14),
        "x",
        cpuDevice,
      )
    );
    assertEquals(errors.length, 3);
    for (const e of errors) {
      assertInstanceOf(e, UsageError);
      assertMatch(e.message, /^checkpoint x is (corrupt|not usable): [^\n]+$/);
    }
  });
});
