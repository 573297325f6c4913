// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The encode-API options a GPU trainer needs, on the mHC coefficient and
// pre-aggregation kernels: the three α read from a GPU buffer (same results
// as numeric α, bit for bit, also at a nonzero aligned offset), gradients of
// x added to a buffer that already holds one (`accumulate`), the argument
// checks of both, and the coefficient pass with α in a buffer on a device
// with WebGPU's default limits (8 storage buffers per shader stage).
import { assertEquals, assertRejects } from "@std/assert";
import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  encodeMhcPreBackward,
  mhcCoefficientsBackwardGpu,
  mhcCoefficientsGpu,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  MhcGpu,
  type MhcParams,
  type StreamPrecision,
} from "@birkhoff/mhc";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { rng } from "./_rand.ts";
import {
  assertAccumulated,
  bits,
  buffers,
  HAS_F16,
  stored,
} from "./_encode.ts";

/**
 * `[n, C, T]` of the coefficient checks: odd widths, token counts that are
 * multiples of no tile, and both tile layouts of the kernels (n <= 4 and
 * n > 4). The same shapes in every test, so each pipeline compiles once.
 */
const SHAPES = [[3, 37, 19], [5, 9, 70]] as const;

function coefInputs(seed: number, n: number, C: number, T: number) {
  const r = rng(seed), K = n * n + 2 * n;
  const f = (len: number, scale = 1) =>
    Float32Array.from(r.normals(len, scale));
  const params: MhcParams<Float32Array> = {
    phi: f(n * C * K, 1 / Math.sqrt(n * C)),
    bias: f(K),
    alphaPre: 0.8,
    alphaPost: -0.55,
    alphaRes: 1.3,
  };
  return {
    x: f(T * n * C),
    params,
    gPre: f(T * n),
    gPost: f(T * n),
    gRes: f(T * n * n),
    gx0: f(T * n * C),
  };
}

describe({
  name: "the mHC coefficient encode API",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    /**
     * Records forward and backward with numeric α and with α read from a
     * buffer at a nonzero aligned offset (after 1.5 alignments of other
     * values), plus a backward that accumulates into a gradient of x that
     * holds random values; returns what each wrote.
     */
    async function run(
      n: number,
      C: number,
      T: number,
      precision: StreamPrecision,
    ) {
      const K = n * n + 2 * n;
      const d = coefInputs(40 + n, n, C, T);
      const o = { n, C, T, iterations: 9, precision };
      const B = buffers(gpu);
      const align = gpu.limits.minStorageBufferOffsetAlignment;
      const alphaValues = new Float32Array([
        d.params.alphaPre,
        d.params.alphaPost,
        d.params.alphaRes,
      ]);
      // Other values before the α, so that reading at offset 0 would be wrong.
      const filler = new Float32Array(align / 4).fill(-7);
      const alphaBuf = B.make(align + 12);
      gpu.device.queue.writeBuffer(alphaBuf, 0, filler);
      gpu.device.queue.writeBuffer(alphaBuf, align, alphaValues);
      const alphaRef = { buffer: alphaBuf, offset: align };
      const x = B.uploadStreams(d.x, precision);
      const phi = B.upload(d.params.phi), bias = B.upload(d.params.bias);
      const gPre = B.upload(d.gPre), gPost = B.upload(d.gPost);
      const gRes = B.upload(d.gRes);
      const es = precision === "f16" ? 2 : 4;
      const fwd = () => ({
        x,
        phi,
        bias,
        hPre: B.make(T * n * 4),
        hPost: B.make(T * n * 4),
        hRes: B.make(T * n * n * 4),
        saved: B.make(mhcCoefficientsSavedBytes({ n, T })),
      });
      const bwd = (saved: GPUBuffer, gradX: GPUBuffer) => ({
        x,
        phi,
        saved,
        gradHPre: gPre,
        gradHPost: gPost,
        gradHRes: gRes,
        gradX,
        gradPhi: B.make(n * C * K * 4),
        gradBias: B.make(K * 4),
        gradAlpha: B.make(12),
        scratch: B.make(mhcCoefficientsScratchBytes({ n, T })),
      });
      const fa = fwd(), fb = fwd();
      const ba = bwd(fa.saved, B.make(T * n * C * es));
      const bb = bwd(fa.saved, B.make(T * n * C * es));
      const bc = bwd(fa.saved, B.uploadStreams(d.gx0, precision));
      const out = await withErrorScopes(gpu.device, async () => {
        const enc = gpu.device.createCommandEncoder();
        await encodeMhcCoefficients(gpu, enc, fa, d.params, o);
        await encodeMhcCoefficients(gpu, enc, fb, alphaRef, o);
        await encodeMhcCoefficientsBackward(gpu, enc, ba, d.params, o);
        await encodeMhcCoefficientsBackward(gpu, enc, bb, alphaRef, o);
        await encodeMhcCoefficientsBackward(gpu, enc, bc, alphaRef, {
          ...o,
          accumulate: true,
        });
        gpu.device.queue.submit([enc.finish()]);
        const f = async (b: ReturnType<typeof fwd>) => ({
          hPre: await B.read(b.hPre, T * n),
          hPost: await B.read(b.hPost, T * n),
          hRes: await B.read(b.hRes, T * n * n),
          saved: await B.read(b.saved, mhcCoefficientsSavedBytes({ n, T }) / 4),
        });
        const g = async (b: ReturnType<typeof bwd>) => ({
          x: await B.readStreams(b.gradX, T * n * C, precision),
          phi: await B.read(b.gradPhi, n * C * K),
          bias: await B.read(b.gradBias, K),
          alpha: await B.read(b.gradAlpha, 3),
        });
        return {
          numbers: { fwd: await f(fa), bwd: await g(ba) },
          buffer: { fwd: await f(fb), bwd: await g(bb) },
          accumulated: await g(bc),
        };
      });
      B.destroy();
      return { ...out, gx0: stored(d.gx0, precision) };
    }

    for (const precision of ["f32", "f16"] as const) {
      it(
        `gives the same bits with α in a buffer as with numeric α (${precision} streams)`,
        { ignore: precision === "f16" && !HAS_F16 },
        async () => {
          for (const [n, C, T] of SHAPES) {
            const r = await run(n, C, T, precision);
            for (const k of ["hPre", "hPost", "hRes", "saved"] as const) {
              assertEquals(
                bits(r.buffer.fwd[k]),
                bits(r.numbers.fwd[k]),
                `${k} n=${n}`,
              );
            }
            for (const k of ["x", "phi", "bias", "alpha"] as const) {
              assertEquals(
                bits(r.buffer.bwd[k]),
                bits(r.numbers.bwd[k]),
                `grad ${k} n=${n}`,
              );
            }
          }
        },
      );

      it(
        `adds the gradient of x to gradX with accumulate (${precision} streams)`,
        { ignore: precision === "f16" && !HAS_F16 },
        async () => {
          for (const [n, C, T] of SHAPES) {
            const r = await run(n, C, T, precision);
            assertAccumulated(
              r.accumulated.x,
              r.gx0,
              r.buffer.bwd.x,
              precision,
              `gradX n=${n}`,
            );
            // Parameter gradients are overwritten, not accumulated.
            for (const k of ["phi", "bias", "alpha"] as const) {
              assertEquals(bits(r.accumulated[k]), bits(r.buffer.bwd[k]), k);
            }
          }
        },
      );
    }

    it("rejects α that are neither numbers nor a buffer, and bad α buffers", async () => {
      const n = 2, C = 3, T = 1;
      const B = buffers(gpu);
      const K = n * n + 2 * n;
      const fwd = {
        x: B.make(T * n * C * 4),
        phi: B.make(n * C * K * 4),
        bias: B.make(K * 4),
        hPre: B.make(T * n * 4),
        hPost: B.make(T * n * 4),
        hRes: B.make(T * n * n * 4),
        saved: B.make(mhcCoefficientsSavedBytes({ n, T })),
      };
      const bwd = {
        x: fwd.x,
        phi: fwd.phi,
        saved: fwd.saved,
        gradHPre: fwd.hPre,
        gradHPost: fwd.hPost,
        gradHRes: fwd.hRes,
        gradX: B.make(T * n * C * 4),
        gradPhi: B.make(n * C * K * 4),
        gradBias: B.make(K * 4),
        gradAlpha: B.make(12),
        scratch: B.make(mhcCoefficientsScratchBytes({ n, T })),
      };
      const o = { n, C, T };
      const enc = gpu.device.createCommandEncoder();
      for (const bad of [0.5, "0.5", null, undefined, {}, [1, 2, 3]]) {
        await assertRejects(
          () => encodeMhcCoefficients(gpu, enc, fwd, bad as never, o),
          TypeError,
          "alphas must be { alphaPre, alphaPost, alphaRes } or a GPUBuffer",
        );
        await assertRejects(
          () => encodeMhcCoefficientsBackward(gpu, enc, bwd, bad as never, o),
          TypeError,
          "alphas must be { alphaPre, alphaPost, alphaRes } or a GPUBuffer",
        );
      }
      await assertRejects(
        () =>
          encodeMhcCoefficients(gpu, enc, fwd, {
            alphaPre: 1,
            alphaPost: Infinity,
            alphaRes: 1,
          }, o),
        RangeError,
        "alphas.alphaPost must be a finite number",
      );
      await assertRejects(
        () => encodeMhcCoefficients(gpu, enc, fwd, B.make(8), o),
        RangeError,
        "alphas must hold 12 bytes",
      );
      await assertRejects(
        () =>
          encodeMhcCoefficientsBackward(gpu, enc, bwd, {
            buffer: B.make(300),
            offset: 260,
          }, o),
        RangeError,
        "alphas offset must be a multiple of minStorageBufferOffsetAlignment",
      );
      await assertRejects(
        () =>
          encodeMhcCoefficientsBackward(gpu, enc, bwd, {
            buffer: B.make(256 + 8),
            offset: 256,
          }, o),
        RangeError,
        "alphas must hold 12 bytes (",
      );
      await assertRejects(
        () =>
          encodeMhcCoefficients(
            gpu,
            enc,
            fwd,
            B.make(12, GPUBufferUsage.UNIFORM),
            o,
          ),
        TypeError,
        "alphas must be a GPUBuffer with STORAGE usage",
      );
      await assertRejects(
        () =>
          encodeMhcCoefficientsBackward(gpu, enc, bwd, B.make(12), {
            ...o,
            accumulate: 1 as never,
          }),
        TypeError,
        "accumulate must be a boolean, got number",
      );
      B.destroy();
    });
  },
});

describe({
  name: "the mHC coefficient encode API on a device with default limits",
  ignore: SKIP_GPU,
  fn() {
    let device: GPUDevice;
    beforeAll(async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      device = await adapter.requestDevice(); // 8 storage buffers per stage
    });
    afterAll(() => device.destroy());

    it("runs forward and backward with α in a buffer, equal to the convenience calls", async () => {
      assertEquals(device.limits.maxStorageBuffersPerShaderStage, 8);
      const gpu = await MhcGpu.create({ device });
      const B = buffers(gpu);
      const n = 2, C = 3, T = 5, K = n * n + 2 * n;
      const d = coefInputs(11, n, C, T);
      const a = [d.params.alphaPre, d.params.alphaPost, d.params.alphaRes];
      const alphas = B.upload(new Float32Array(a));
      const fwd = {
        x: B.upload(d.x),
        phi: B.upload(d.params.phi),
        bias: B.upload(d.params.bias),
        hPre: B.make(T * n * 4),
        hPost: B.make(T * n * 4),
        hRes: B.make(T * n * n * 4),
        saved: B.make(mhcCoefficientsSavedBytes({ n, T })),
      };
      const bwd = {
        x: fwd.x,
        phi: fwd.phi,
        saved: fwd.saved,
        gradHPre: B.upload(d.gPre),
        gradHPost: B.upload(d.gPost),
        gradHRes: B.upload(d.gRes),
        gradX: B.make(T * n * C * 4),
        gradPhi: B.make(n * C * K * 4),
        gradBias: B.make(K * 4),
        gradAlpha: B.make(12),
        scratch: B.make(mhcCoefficientsScratchBytes({ n, T })),
      };
      const got = await withErrorScopes(device, async () => {
        const enc = device.createCommandEncoder();
        await encodeMhcCoefficients(gpu, enc, fwd, alphas, { n, C, T });
        await encodeMhcCoefficientsBackward(gpu, enc, bwd, alphas, { n, C, T });
        device.queue.submit([enc.finish()]);
        return {
          hPre: await B.read(fwd.hPre, T * n),
          x: await B.read(bwd.gradX, T * n * C),
          phi: await B.read(bwd.gradPhi, n * C * K),
          bias: await B.read(bwd.gradBias, K),
          alpha: await B.read(bwd.gradAlpha, 3),
        };
      });
      const want = await mhcCoefficientsGpu(gpu, d.x, d.params, { n, C, T });
      const wantGrads = await mhcCoefficientsBackwardGpu(
        gpu,
        d.x,
        d.params,
        want,
        { hPre: d.gPre, hPost: d.gPost, hRes: d.gRes },
        { n, C, T },
      );
      assertEquals(bits(got.hPre), bits(want.hPre));
      assertEquals(bits(got.x), bits(wantGrads.x));
      assertEquals(bits(got.phi), bits(wantGrads.phi));
      assertEquals(bits(got.bias), bits(wantGrads.bias));
      assertEquals(
        bits(got.alpha),
        bits(
          new Float32Array([
            wantGrads.alphaPre,
            wantGrads.alphaPost,
            wantGrads.alphaRes,
          ]),
        ),
      );
      B.destroy();
    });
  },
});

describe({
  name: "the pre-aggregation backward encode API",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    for (const precision of ["f32", "f16"] as const) {
      it(
        `adds the gradient of x to gradX with accumulate (${precision} streams)`,
        { ignore: precision === "f16" && !HAS_F16 },
        async () => {
          // C = 37: the scalar path; C = 64: vec4 loads.
          for (const [n, C, T] of [[3, 37, 19], [4, 64, 5], [1, 1, 3]]) {
            const r = rng(90 + C);
            const f = (len: number) => Float32Array.from(r.normals(len));
            const x = f(T * n * C), hPre = f(T * n), gU = f(T * C);
            const gx0 = f(T * n * C);
            const B = buffers(gpu);
            const es = precision === "f16" ? 2 : 4;
            const common = {
              x: B.uploadStreams(x, precision),
              hPre: B.upload(hPre),
              gradU: B.uploadStreams(gU, precision),
            };
            const fresh = { ...common, gradX: B.make(T * n * C * es) };
            const acc = {
              ...common,
              gradX: B.uploadStreams(gx0, precision),
            };
            const bufs = [fresh, acc].map((b) => ({
              ...b,
              gradHPre: B.make(T * n * 4),
            }));
            const o = { n, C, T, precision };
            const got = await withErrorScopes(gpu.device, async () => {
              const enc = gpu.device.createCommandEncoder();
              await encodeMhcPreBackward(gpu, enc, bufs[0], o);
              await encodeMhcPreBackward(gpu, enc, bufs[1], {
                ...o,
                accumulate: true,
              });
              gpu.device.queue.submit([enc.finish()]);
              return await Promise.all(bufs.flatMap((b) => [
                B.readStreams(b.gradX, T * n * C, precision),
                B.read(b.gradHPre, T * n),
              ]));
            });
            assertAccumulated(
              got[2],
              stored(gx0, precision),
              got[0],
              precision,
              `gradX n=${n} C=${C}`,
            );
            assertEquals(bits(got[3]), bits(got[1]), "gradHPre is overwritten");
            B.destroy();
          }
        },
      );
    }

    it("rejects an accumulate that is not a boolean", async () => {
      const B = buffers(gpu);
      const b = {
        x: B.make(4),
        hPre: B.make(4),
        gradU: B.make(4),
        gradX: B.make(4),
        gradHPre: B.make(4),
      };
      await assertRejects(
        () =>
          encodeMhcPreBackward(gpu, gpu.device.createCommandEncoder(), b, {
            n: 1,
            C: 1,
            T: 1,
            accumulate: "yes" as never,
          }),
        TypeError,
        "accumulate must be a boolean, got string",
      );
      B.destroy();
    });
  },
});
