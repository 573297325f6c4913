// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU Sinkhorn-Knopp kernels beyond the conformance cases: argument
// checks, the encode API on caller buffers at offsets, determinism,
// finiteness on logits far beyond the conformance range, and the early stop
// (each matrix's own iteration count).
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import {
  encodeSinkhornKnopp,
  encodeSinkhornKnoppBackward,
  MhcGpu,
  sinkhornKnoppBackwardGpu,
  sinkhornKnoppGpu,
} from "@birkhoff/mhc";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { rng } from "./_rand.ts";
import { drawLogits, maxAbs } from "./conformance/cases_sinkhorn.ts";
import { checkEarlyStop } from "./conformance/early_stop.ts";
import { sinkhornTolerance } from "./conformance/tolerance_sinkhorn.ts";
import { U32 } from "./conformance/tolerance.ts";

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer)];

describe({
  name: "the WebGPU Sinkhorn-Knopp kernels",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    it("reject n above 8, bad lengths and non-float32 arrays", async () => {
      const l = new Float32Array(81);
      await assertRejects(
        () => sinkhornKnoppGpu(gpu, l, { n: 9, T: 1 }),
        RangeError,
        "n must be at most 8",
      );
      await assertRejects(
        () => sinkhornKnoppGpu(gpu, l, { n: 4, T: 2 }),
        RangeError,
        "logits must have length 32",
      );
      await assertRejects(
        () =>
          sinkhornKnoppGpu(gpu, new Float64Array(16) as never, { n: 4, T: 1 }),
        TypeError,
        "logits must be a Float32Array",
      );
      await assertRejects(
        () =>
          sinkhornKnoppBackwardGpu(gpu, new Float32Array(16), l, {
            n: 4,
            T: 1,
          }),
        RangeError,
        "gradOutput must have length 16",
      );
      await assertRejects(
        () =>
          sinkhornKnoppGpu(gpu, new Float32Array(16), {
            n: 4,
            T: 1,
            iterations: 0,
          }),
        RangeError,
        "iterations",
      );
      await assertRejects(
        () =>
          sinkhornKnoppBackwardGpu(gpu, l.subarray(0, 16), l.subarray(0, 16), {
            n: 4,
            T: 1,
            tolerance: -1e-3,
          }),
        RangeError,
        "tolerance must be >= 0, got -0.001",
      );
    });

    it("stop each matrix after its own count, equal bit for bit to a run of exactly that many iterations", async () => {
      for (
        const [n, T, eps, tolerance, seed] of [[4, 37, 0, 0.05, 8001], [
          3,
          19,
          0.01,
          0.05,
          8001,
        ]]
      ) {
        const iterations = 20, nn = n * n;
        const logits = drawLogits(seed, T * nn, nn, "normal");
        const g = Float32Array.from(rng(seed + 1).normals(T * nn));
        const o = { n, T, iterations, eps, tolerance };
        // Counts of the float64 reference, far enough from every switch that
        // float32 must agree (see early_stop.ts); they differ across tokens.
        const delta = n *
          (sinkhornTolerance(iterations, maxAbs(logits, 1), 1).forward.atol +
            U32);
        const counts = checkEarlyStop(
          Float64Array.from(logits),
          o,
          delta,
          "gpu",
        );
        const [h, gl] = await withErrorScopes(gpu.device, () =>
          Promise.all([
            sinkhornKnoppGpu(gpu, logits, o),
            sinkhornKnoppBackwardGpu(gpu, logits, g, o),
          ]));
        for (const k of new Set(counts)) {
          const fixed = { n, T, iterations: k, eps };
          const [hk, gk] = await withErrorScopes(gpu.device, () =>
            Promise.all([
              sinkhornKnoppGpu(gpu, logits, fixed),
              sinkhornKnoppBackwardGpu(gpu, logits, g, fixed),
            ]));
          for (let t = 0; t < T; t++) {
            if (counts[t] !== k) continue;
            const tok = (a: Float32Array) =>
              bits(a.slice(t * nn, (t + 1) * nn));
            assertEquals(
              tok(h),
              tok(hk),
              `eps ${eps}: output of token ${t} (count ${k})`,
            );
            assertEquals(
              tok(gl),
              tok(gk),
              `eps ${eps}: gradient of token ${t} (count ${k})`,
            );
          }
        }
      }
    });

    it("run exactly `iterations` iterations, bit for bit, with a tolerance of 0", async () => {
      const n = 3, T = 21, r = rng(13);
      const logits = Float32Array.from(r.normals(T * n * n, 3));
      const g = Float32Array.from(r.normals(T * n * n));
      for (const eps of [0, 1e-3]) {
        const o = { n, T, iterations: 9, eps };
        const z = { ...o, tolerance: 0 };
        assertEquals(
          bits(await sinkhornKnoppGpu(gpu, logits, z)),
          bits(await sinkhornKnoppGpu(gpu, logits, o)),
        );
        assertEquals(
          bits(await sinkhornKnoppBackwardGpu(gpu, logits, g, z)),
          bits(await sinkhornKnoppBackwardGpu(gpu, logits, g, o)),
        );
      }
    });

    it("stay finite and doubly stochastic for logits of ±1e30", async () => {
      const n = 4, T = 9, r = rng(11);
      const logits = Float32Array.from(
        { length: T * n * n },
        () => (r.uniform() < 0.5 ? -1 : 1) * 1e30 * r.uniform(),
      );
      for (const eps of [0, 1e-6]) {
        const h = await sinkhornKnoppGpu(gpu, logits, { n, T, eps });
        const g = await sinkhornKnoppBackwardGpu(
          gpu,
          logits,
          Float32Array.from(r.normals(T * n * n)),
          { n, T, eps },
        );
        assert(g.every(Number.isFinite), `eps ${eps}: gradient not finite`);
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < n; i++) {
            let row = 0;
            for (let j = 0; j < n; j++) {
              const v = h[t * n * n + i * n + j];
              assert(v >= 0 && v <= 1, `eps ${eps}: entry ${v} out of [0, 1]`);
              row += v;
            }
            assert(Math.abs(row - 1) < 1e-5, `eps ${eps}: row sum ${row}`);
          }
        }
      }
    });

    it("give identical bits on repeated runs", async () => {
      const n = 3, T = 50, r = rng(12);
      const logits = Float32Array.from(r.normals(T * n * n, 3));
      const g = Float32Array.from(r.normals(T * n * n));
      const o = { n, T, iterations: 20 };
      const a = await sinkhornKnoppBackwardGpu(gpu, logits, g, o);
      const b = await sinkhornKnoppBackwardGpu(gpu, logits, g, o);
      assertEquals(bits(a), bits(b));
    });

    it("record into a caller's encoder at buffer offsets", async () => {
      const n = 4, T = 7, r = rng(13), bytes = T * n * n * 4;
      const logits = Float32Array.from(r.normals(T * n * n, 2));
      const grad = Float32Array.from(r.normals(T * n * n));
      const o = { n, T, iterations: 5, eps: 0 };
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
        GPUBufferUsage.COPY_DST;
      // Inputs share one buffer at 256-byte aligned offsets; each output has
      // its own (a buffer written by a dispatch cannot also be read by it).
      const make = () => gpu.device.createBuffer({ size: 2048, usage });
      const inputs = make(), out = make(), outGrad = make();
      gpu.device.queue.writeBuffer(inputs, 256, logits);
      gpu.device.queue.writeBuffer(inputs, 1024, grad);
      const [h, gl] = await withErrorScopes(gpu.device, async () => {
        const encoder = gpu.device.createCommandEncoder();
        await encodeSinkhornKnopp(gpu, encoder, {
          logits: { buffer: inputs, offset: 256 },
          output: { buffer: out, offset: 512 },
        }, o);
        await encodeSinkhornKnoppBackward(gpu, encoder, {
          logits: { buffer: inputs, offset: 256 },
          gradOutput: { buffer: inputs, offset: 1024 },
          gradLogits: { buffer: outGrad, offset: 768 },
        }, o);
        gpu.device.queue.submit([encoder.finish()]);
        return [
          new Float32Array(await gpu.read(out, bytes, 512)),
          new Float32Array(await gpu.read(outGrad, bytes, 768)),
        ];
      });
      for (const b of [inputs, out, outGrad]) b.destroy();
      assertEquals(bits(h), bits(await sinkhornKnoppGpu(gpu, logits, o)));
      assertEquals(
        bits(gl),
        bits(await sinkhornKnoppBackwardGpu(gpu, logits, grad, o)),
      );
    });

    it("name the buffer that is too small", async () => {
      const usage = GPUBufferUsage.STORAGE;
      const small = gpu.device.createBuffer({ size: 32, usage });
      const big = gpu.device.createBuffer({ size: 64, usage });
      const e = await assertRejects(
        () =>
          encodeSinkhornKnopp(gpu, gpu.device.createCommandEncoder(), {
            logits: big,
            output: small,
          }, { n: 4, T: 1 }),
        RangeError,
      );
      assertStringIncludes(e.message, "output");
      small.destroy();
      big.destroy();
    });

    it("name the buffer that is missing", async () => {
      const usage = GPUBufferUsage.STORAGE;
      const logits = gpu.device.createBuffer({ size: 64, usage });
      await assertRejects(
        () =>
          encodeSinkhornKnopp(gpu, gpu.device.createCommandEncoder(), {
            logits,
            output: { buffer: undefined as never },
          }, { n: 4, T: 1 }),
        TypeError,
        "output must be a GPUBuffer or { buffer, offset }, got Object",
      );
      logits.destroy();
    });
  },
});
