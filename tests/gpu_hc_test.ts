// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU HC coefficient kernels beyond the conformance cases: argument
// checks, the encode API chaining forward and backward on the GPU with α
// read from a buffer (equal, bit for bit, to the convenience calls with
// numeric α), gradients of x added to a buffer (`accumulate`), determinism
// of the token reductions, and a device with default limits.
import { assertEquals, assertRejects } from "@std/assert";
import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import {
  encodeHcCoefficients,
  encodeHcCoefficientsBackward,
  GpuError,
  hcCoefficientsBackwardGpu,
  hcCoefficientsGpu,
  hcCoefficientsSavedBytes,
  hcCoefficientsScratchBytes,
  MhcGpu,
  type StreamPrecision,
} from "@birkhoff/mhc";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { rng } from "./_rand.ts";
import {
  assertAccumulated,
  bits,
  type Buffers,
  buffers,
  HAS_F16,
  stored,
} from "./_encode.ts";

function inputs(seed: number, n: number, C: number, T: number) {
  const r = rng(seed), K = n * n + 2 * n;
  const f = (len: number, scale = 1) =>
    Float32Array.from(r.normals(len, scale));
  return {
    x: f(T * n * C),
    params: {
      theta: f((n + 2) * C, 1 / Math.sqrt(C)),
      bias: f(K),
      alphaPre: 0.8,
      alphaPost: -0.55,
      alphaRes: 1.3,
    },
    grads: { hPre: f(T * n), hPost: f(T * n), hRes: f(T * n * n) },
    gx0: f(T * n * C),
  };
}

/** The forward's buffers, outputs fresh. */
function forwardBuffers(
  B: Buffers,
  x: GPUBuffer,
  theta: GPUBuffer,
  bias: GPUBuffer,
  n: number,
  T: number,
) {
  return {
    x,
    theta,
    bias,
    hPre: B.make(T * n * 4),
    hPost: B.make(T * n * 4),
    hRes: B.make(T * n * n * 4),
    saved: B.make(hcCoefficientsSavedBytes({ n, T })),
  };
}

/**
 * `[n, C, T]` of the encode checks: odd widths, token counts that are
 * multiples of no tile (8 tokens backward, 64 rows forward), n > 4.
 */
const SHAPES = [[3, 37, 19], [5, 9, 70]] as const;

describe({
  name: "the WebGPU HC coefficient kernels",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    it("reject bad sizes, lengths, types and precisions", async () => {
      const { x, params, grads } = inputs(1, 2, 3, 1);
      const o = { n: 2, C: 3, T: 1 };
      await assertRejects(
        () => hcCoefficientsGpu(gpu, x, params, { ...o, T: 2 }),
        RangeError,
        "x must have length 12",
      );
      await assertRejects(
        () =>
          hcCoefficientsGpu(gpu, x, {
            ...params,
            theta: new Float32Array(5),
          }, o),
        RangeError,
        "params.theta must have length 12 ([n + 2, C] = [4, 3])",
      );
      await assertRejects(
        () =>
          hcCoefficientsGpu(gpu, x, {
            ...params,
            bias: new Float64Array(8) as never,
          }, o),
        TypeError,
        "params.bias must be a Float32Array",
      );
      await assertRejects(
        () => hcCoefficientsGpu(gpu, x, { ...params, alphaPost: NaN }, o),
        RangeError,
        "params.alphaPost must be a finite number",
      );
      await assertRejects(
        () => hcCoefficientsGpu(gpu, x, params, { n: 9, C: 3, T: 1 }),
        RangeError,
        "n must be at most 8",
      );
      await assertRejects(
        () =>
          hcCoefficientsGpu(gpu, x, params, {
            ...o,
            precision: "bf16" as never,
          }),
        RangeError,
        "precision",
      );
      await assertRejects(
        () => hcCoefficientsGpu(gpu, x, params, { ...o, normEps: 0 }),
        RangeError,
        "normEps",
      );
      const fwd = await hcCoefficientsGpu(gpu, x, params, o);
      await assertRejects(
        () =>
          hcCoefficientsBackwardGpu(
            gpu,
            x,
            params,
            {
              ...fwd,
              invRms: new Float32Array(1),
            },
            grads,
            o,
          ),
        RangeError,
        "forward.invRms must have length 2 ([T, n] = [1, 2])",
      );
      await assertRejects(
        () =>
          hcCoefficientsBackwardGpu(gpu, x, params, fwd, {
            ...grads,
            hRes: new Float32Array(3),
          }, o),
        RangeError,
        "grads.hRes must have length 4",
      );
      assertEquals(hcCoefficientsSavedBytes({ n: 2, T: 3 }), 3 * 16 * 4);
      assertEquals(hcCoefficientsScratchBytes({ n: 2, T: 3 }), 3 * 24 * 4);
    });

    it("reject α that are neither numbers nor a buffer, bad α buffers and a non-boolean accumulate", async () => {
      const n = 2, C = 3, T = 1, K = n * n + 2 * n;
      const B = buffers(gpu);
      const fwd = forwardBuffers(
        B,
        B.make(T * n * C * 4),
        B.make((n + 2) * C * 4),
        B.make(K * 4),
        n,
        T,
      );
      const bwd = {
        x: fwd.x,
        theta: fwd.theta,
        saved: fwd.saved,
        gradHPre: fwd.hPre,
        gradHPost: fwd.hPost,
        gradHRes: fwd.hRes,
        gradX: B.make(T * n * C * 4),
        gradTheta: B.make((n + 2) * C * 4),
        gradBias: B.make(K * 4),
        gradAlpha: B.make(12),
        scratch: B.make(hcCoefficientsScratchBytes({ n, T })),
      };
      const o = { n, C, T };
      const enc = gpu.device.createCommandEncoder();
      for (const bad of [1, "a", null, undefined, {}, new Float32Array(3)]) {
        await assertRejects(
          () => encodeHcCoefficients(gpu, enc, fwd, bad as never, o),
          TypeError,
          "alphas must be { alphaPre, alphaPost, alphaRes } or a GPUBuffer",
        );
        await assertRejects(
          () => encodeHcCoefficientsBackward(gpu, enc, bwd, bad as never, o),
          TypeError,
          "alphas must be { alphaPre, alphaPost, alphaRes } or a GPUBuffer",
        );
      }
      await assertRejects(
        () =>
          encodeHcCoefficients(gpu, enc, fwd, {
            alphaPre: 1,
            alphaPost: 1,
            alphaRes: "1" as never,
          }, o),
        RangeError,
        "alphas.alphaRes must be a finite number",
      );
      await assertRejects(
        () => encodeHcCoefficientsBackward(gpu, enc, bwd, B.make(4), o),
        RangeError,
        "alphas must hold 12 bytes",
      );
      await assertRejects(
        () =>
          encodeHcCoefficients(gpu, enc, fwd, {
            buffer: B.make(512),
            offset: 100,
          }, o),
        RangeError,
        "alphas offset must be a multiple of minStorageBufferOffsetAlignment",
      );
      await assertRejects(
        () =>
          encodeHcCoefficientsBackward(gpu, enc, bwd, B.make(12), {
            ...o,
            accumulate: "true" as never,
          }),
        TypeError,
        "accumulate must be a boolean, got string",
      );
      await assertRejects(
        () =>
          encodeHcCoefficientsBackward(
            gpu,
            enc,
            { ...bwd, gradTheta: B.make(8) },
            B.make(12),
            o,
          ),
        RangeError,
        "gradTheta must hold 48 bytes ([n + 2, C] = [4, 3] as f32)",
      );
      B.destroy();
    });

    for (const precision of ["f32", "f16"] as const) {
      it(
        `chain forward and backward with α in a buffer, equal bit for bit to the convenience calls (${precision} streams)`,
        {
          ignore: precision === "f16" && !HAS_F16,
        },
        async () => {
          for (const [n, C, T] of SHAPES) {
            const K = n * n + 2 * n;
            const d = inputs(20 + n, n, C, T);
            const o = { n, C, T, precision };
            const B = buffers(gpu);
            // α after one alignment of other values (-7), so that reading at
            // offset 0 would be wrong.
            const align = gpu.limits.minStorageBufferOffsetAlignment;
            const alphaBuf = B.make(align + 12);
            gpu.device.queue.writeBuffer(
              alphaBuf,
              0,
              new Float32Array(align / 4).fill(-7),
            );
            gpu.device.queue.writeBuffer(
              alphaBuf,
              align,
              new Float32Array([
                d.params.alphaPre,
                d.params.alphaPost,
                d.params.alphaRes,
              ]),
            );
            const alphas = { buffer: alphaBuf, offset: align };
            const x = B.uploadStreams(d.x, precision);
            const theta = B.upload(d.params.theta);
            const fwd = forwardBuffers(
              B,
              x,
              theta,
              B.upload(d.params.bias),
              n,
              T,
            );
            const es = precision === "f16" ? 2 : 4;
            const bwd = {
              x,
              theta,
              saved: fwd.saved,
              gradHPre: B.upload(d.grads.hPre),
              gradHPost: B.upload(d.grads.hPost),
              gradHRes: B.upload(d.grads.hRes),
              gradX: B.make(T * n * C * es),
              gradTheta: B.make((n + 2) * C * 4),
              gradBias: B.make(K * 4),
              gradAlpha: B.make(12),
              scratch: B.make(hcCoefficientsScratchBytes({ n, T })),
            };
            const got = await withErrorScopes(gpu.device, async () => {
              const enc = gpu.device.createCommandEncoder();
              await encodeHcCoefficients(gpu, enc, fwd, alphas, o);
              await encodeHcCoefficientsBackward(gpu, enc, bwd, alphas, o);
              gpu.device.queue.submit([enc.finish()]);
              return {
                hPre: await B.read(fwd.hPre, T * n),
                hPost: await B.read(fwd.hPost, T * n),
                hRes: await B.read(fwd.hRes, T * n * n),
                x: await B.readStreams(bwd.gradX, T * n * C, precision),
                theta: await B.read(bwd.gradTheta, (n + 2) * C),
                bias: await B.read(bwd.gradBias, K),
                alpha: await B.read(bwd.gradAlpha, 3),
              };
            });
            B.destroy();
            const f = await hcCoefficientsGpu(gpu, d.x, d.params, o);
            const g = await hcCoefficientsBackwardGpu(
              gpu,
              d.x,
              d.params,
              f,
              d.grads,
              o,
            );
            for (const k of ["hPre", "hPost", "hRes"] as const) {
              assertEquals(bits(got[k]), bits(f[k]), `${k} n=${n}`);
            }
            for (const k of ["x", "theta", "bias"] as const) {
              assertEquals(bits(got[k]), bits(g[k]), `grad ${k} n=${n}`);
            }
            assertEquals(
              bits(got.alpha),
              bits(new Float32Array([g.alphaPre, g.alphaPost, g.alphaRes])),
            );
          }
        },
      );

      it(
        `add the gradient of x to gradX with accumulate (${precision} streams)`,
        {
          ignore: precision === "f16" && !HAS_F16,
        },
        async () => {
          for (const [n, C, T] of SHAPES) {
            const K = n * n + 2 * n;
            const d = inputs(30 + n, n, C, T);
            const o = { n, C, T, precision };
            const B = buffers(gpu);
            const x = B.uploadStreams(d.x, precision);
            const theta = B.upload(d.params.theta);
            const fwd = forwardBuffers(
              B,
              x,
              theta,
              B.upload(d.params.bias),
              n,
              T,
            );
            const es = precision === "f16" ? 2 : 4;
            const bwd = (gradX: GPUBuffer) => ({
              x,
              theta,
              saved: fwd.saved,
              gradHPre: B.upload(d.grads.hPre),
              gradHPost: B.upload(d.grads.hPost),
              gradHRes: B.upload(d.grads.hRes),
              gradX,
              gradTheta: B.make((n + 2) * C * 4),
              gradBias: B.make(K * 4),
              gradAlpha: B.make(12),
              scratch: B.make(hcCoefficientsScratchBytes({ n, T })),
            });
            const fresh = bwd(B.make(T * n * C * es));
            const acc = bwd(B.uploadStreams(d.gx0, precision));
            const got = await withErrorScopes(gpu.device, async () => {
              const enc = gpu.device.createCommandEncoder();
              await encodeHcCoefficients(gpu, enc, fwd, d.params, o);
              await encodeHcCoefficientsBackward(gpu, enc, fresh, d.params, o);
              await encodeHcCoefficientsBackward(gpu, enc, acc, d.params, {
                ...o,
                accumulate: true,
              });
              gpu.device.queue.submit([enc.finish()]);
              const read = async (b: typeof fresh) => ({
                x: await B.readStreams(b.gradX, T * n * C, precision),
                theta: await B.read(b.gradTheta, (n + 2) * C),
                bias: await B.read(b.gradBias, K),
                alpha: await B.read(b.gradAlpha, 3),
              });
              return { fresh: await read(fresh), acc: await read(acc) };
            });
            B.destroy();
            assertAccumulated(
              got.acc.x,
              stored(d.gx0, precision),
              got.fresh.x,
              precision,
              `gradX n=${n}`,
            );
            // Parameter gradients are overwritten, not accumulated.
            for (const k of ["theta", "bias", "alpha"] as const) {
              assertEquals(bits(got.acc[k]), bits(got.fresh[k]), k);
            }
          }
        },
      );
    }

    it("sum parameter gradients over tokens deterministically", async () => {
      const n = 4, C = 20, T = 200;
      const { x, params, grads } = inputs(3, n, C, T);
      const o = { n, C, T };
      const fwd = await hcCoefficientsGpu(gpu, x, params, o);
      const a = await hcCoefficientsBackwardGpu(gpu, x, params, fwd, grads, o);
      const b = await hcCoefficientsBackwardGpu(gpu, x, params, fwd, grads, o);
      assertEquals(bits(a.theta), bits(b.theta));
      assertEquals(bits(a.bias), bits(b.bias));
      assertEquals(
        [a.alphaPre, a.alphaPost, a.alphaRes],
        [b.alphaPre, b.alphaPost, b.alphaRes],
      );
    });
  },
});

describe({
  name: "the WebGPU HC coefficient kernels on a device with default limits",
  ignore: SKIP_GPU,
  fn() {
    let device: GPUDevice;
    beforeAll(async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      device = await adapter.requestDevice(); // 8 storage buffers per stage
    });
    afterAll(() => device.destroy());

    it("run the forward with α in a buffer, and say what the backward needs", async () => {
      assertEquals(device.limits.maxStorageBuffersPerShaderStage, 8);
      const gpu = await MhcGpu.create({ device });
      const B = buffers(gpu);
      const n = 2, C = 3, T = 2, K = n * n + 2 * n;
      const alphas = B.upload(new Float32Array([0.5, 0.5, 0.5]));
      const bias = new Float32Array(K).map((_, i) => i);
      const fwd = forwardBuffers(
        B,
        B.upload(new Float32Array(T * n * C).fill(1)),
        B.make((n + 2) * C * 4),
        B.upload(bias),
        n,
        T,
      );
      const precision: StreamPrecision = "f32";
      const hRes = await withErrorScopes(device, async () => {
        const enc = device.createCommandEncoder();
        await encodeHcCoefficients(gpu, enc, fwd, alphas, {
          n,
          C,
          T,
          precision,
        });
        device.queue.submit([enc.finish()]);
        return await B.read(fwd.hRes, T * n * n);
      });
      // θ = 0: the coefficients are the biases.
      assertEquals([...hRes], [4, 5, 6, 7, 4, 5, 6, 7]);
      const e = await assertRejects(
        () =>
          encodeHcCoefficientsBackward(
            gpu,
            device.createCommandEncoder(),
            {
              x: fwd.x,
              theta: fwd.theta,
              saved: fwd.saved,
              gradHPre: fwd.hPre,
              gradHPost: fwd.hPost,
              gradHRes: fwd.hRes,
              gradX: B.make(T * n * C * 4),
              gradTheta: B.make((n + 2) * C * 4),
              gradBias: B.make(K * 4),
              gradAlpha: B.make(12),
              scratch: B.make(hcCoefficientsScratchBytes({ n, T })),
            },
            alphas,
            { n, C, T },
          ),
        GpuError,
        "maxStorageBuffersPerShaderStage >= 9",
      );
      assertEquals(e.kind, "unsupported");
      B.destroy();
    });
  },
});
