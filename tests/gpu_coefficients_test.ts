// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU mHC coefficient kernels beyond the conformance cases: argument
// checks, the encode API chaining forward and backward on the GPU,
// determinism of the token reductions. (The split paths, chunks and 2D grids,
// are conformance cases: SPLITS in tests/conformance/cases_coefficients.ts.)
import { assertEquals, assertRejects } from "@std/assert";
import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  mhcCoefficientsBackwardGpu,
  mhcCoefficientsGpu,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  MhcGpu,
  type MhcParams,
} from "@birkhoff/mhc";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { rng } from "./_rand.ts";

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer)];

function inputs(seed: number, n: number, C: number, T: number) {
  const r = rng(seed), K = n * n + 2 * n;
  const f = (len: number, scale = 1) =>
    Float32Array.from(r.normals(len, scale));
  const params: MhcParams<Float32Array> = {
    phi: f(n * C * K, 1 / Math.sqrt(n * C)),
    bias: f(K),
    alphaPre: 0.8,
    alphaPost: -0.5,
    alphaRes: 1.1,
  };
  return {
    x: f(T * n * C),
    params,
    grads: { hPre: f(T * n), hPost: f(T * n), hRes: f(T * n * n) },
  };
}

describe({
  name: "the WebGPU mHC coefficient kernels",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    it("reject bad sizes, lengths, types and precisions", async () => {
      const { x, params } = inputs(1, 2, 3, 1);
      await assertRejects(
        () => mhcCoefficientsGpu(gpu, x, params, { n: 2, C: 3, T: 2 }),
        RangeError,
        "x must have length 12",
      );
      await assertRejects(
        () =>
          mhcCoefficientsGpu(gpu, x, {
            ...params,
            phi: new Float64Array(params.phi) as never,
          }, { n: 2, C: 3, T: 1 }),
        TypeError,
        "params.phi must be a Float32Array",
      );
      await assertRejects(
        () =>
          mhcCoefficientsGpu(gpu, x, { ...params, alphaRes: NaN }, {
            n: 2,
            C: 3,
            T: 1,
          }),
        RangeError,
        "params.alphaRes must be a finite number",
      );
      await assertRejects(
        () => mhcCoefficientsGpu(gpu, x, params, { n: 9, C: 3, T: 1 }),
        RangeError,
        "n must be at most 8",
      );
      await assertRejects(
        () =>
          mhcCoefficientsGpu(gpu, x, params, {
            n: 2,
            C: 3,
            T: 1,
            precision: "bf16" as never,
          }),
        RangeError,
        "precision",
      );
      await assertRejects(
        () =>
          mhcCoefficientsGpu(gpu, x, params, { n: 2, C: 3, T: 1, normEps: 0 }),
        RangeError,
        "normEps",
      );
    });

    it("chain forward and backward in one encoder, equal to the convenience calls", async () => {
      const n = 4, C = 12, T = 9, K = n * n + 2 * n;
      const { x, params, grads } = inputs(2, n, C, T);
      const o = { n, C, T, iterations: 7, eps: 0 };
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
        GPUBufferUsage.COPY_DST;
      const dev = gpu.device;
      const make = (bytes: number) =>
        dev.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage });
      const upload = (a: Float32Array) => {
        const b = make(a.byteLength);
        dev.queue.writeBuffer(b, 0, a);
        return b;
      };
      const xb = upload(x), phi = upload(params.phi);
      const bias = upload(params.bias);
      const gPre = upload(grads.hPre), gPost = upload(grads.hPost);
      const gRes = upload(grads.hRes);
      const hPre = make(T * n * 4), hPost = make(T * n * 4);
      const hRes = make(T * n * n * 4);
      const saved = make(mhcCoefficientsSavedBytes({ n, T }));
      const gx = make(T * n * C * 4), gPhi = make(n * C * K * 4);
      const gBias = make(K * 4), gAlpha = make(12);
      const scratch = make(mhcCoefficientsScratchBytes({ n, T }));
      const read = async (b: GPUBuffer, count: number) =>
        new Float32Array(await gpu.read(b, count * 4));
      const got = await withErrorScopes(dev, async () => {
        const encoder = dev.createCommandEncoder();
        await encodeMhcCoefficients(
          gpu,
          encoder,
          {
            x: xb,
            phi,
            bias,
            hPre,
            hPost,
            hRes,
            saved,
          },
          params,
          o,
        );
        await encodeMhcCoefficientsBackward(
          gpu,
          encoder,
          {
            x: xb,
            phi,
            saved,
            gradHPre: gPre,
            gradHPost: gPost,
            gradHRes: gRes,
            gradX: gx,
            gradPhi: gPhi,
            gradBias: gBias,
            gradAlpha: gAlpha,
            scratch,
          },
          params,
          o,
        );
        dev.queue.submit([encoder.finish()]);
        return {
          hRes: await read(hRes, T * n * n),
          x: await read(gx, T * n * C),
          phi: await read(gPhi, n * C * K),
          bias: await read(gBias, K),
          alpha: await read(gAlpha, 3),
        };
      });
      for (
        const b of [xb, phi, bias, gPre, gPost, gRes, hPre, hPost, hRes]
      ) b.destroy();
      for (const b of [saved, gx, gPhi, gBias, gAlpha, scratch]) b.destroy();
      const fwd = await mhcCoefficientsGpu(gpu, x, params, o);
      const bwd = await mhcCoefficientsBackwardGpu(
        gpu,
        x,
        params,
        fwd,
        grads,
        o,
      );
      assertEquals(bits(got.hRes), bits(fwd.hRes));
      assertEquals(bits(got.x), bits(bwd.x));
      assertEquals(bits(got.phi), bits(bwd.phi));
      assertEquals(bits(got.bias), bits(bwd.bias));
      assertEquals(
        bits(got.alpha),
        bits(new Float32Array([bwd.alphaPre, bwd.alphaPost, bwd.alphaRes])),
      );
    });

    it("sum parameter gradients over tokens deterministically", async () => {
      const n = 4, C = 20, T = 200;
      const { x, params, grads } = inputs(3, n, C, T);
      const o = { n, C, T };
      const fwd = await mhcCoefficientsGpu(gpu, x, params, o);
      const a = await mhcCoefficientsBackwardGpu(gpu, x, params, fwd, grads, o);
      const b = await mhcCoefficientsBackwardGpu(gpu, x, params, fwd, grads, o);
      assertEquals(bits(a.phi), bits(b.phi));
      assertEquals(bits(a.bias), bits(b.bias));
      assertEquals(
        [a.alphaPre, a.alphaPost, a.alphaRes],
        [b.alphaPre, b.alphaPost, b.alphaRes],
      );
    });
  },
});
