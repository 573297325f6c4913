// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * One asynchronous interface over both implementations of the mHC ops: the
 * TypeScript reference and the WebGPU kernels. Code written against
 * {@linkcode MhcBackend} runs with or without a GPU, and the conformance
 * suite runs one set of cases against every backend.
 * {@linkcode createMhcBackend} picks WebGPU when an adapter is found and
 * falls back to the reference, with a one-line notice, when not.
 *
 * @module
 */

import type {
  MhcCoefficientGrads,
  MhcCoefficients,
  MhcCoefficientsOptions,
  MhcParamGrads,
  MhcParams,
} from "../reference/coefficients.ts";
import {
  mhcCoefficients,
  mhcCoefficientsBackward,
} from "../reference/coefficients.ts";
import {
  type HcCoefficients,
  hcCoefficients,
  hcCoefficientsBackward,
  type HcCoefficientsOptions,
  type HcParamGrads,
  type HcParams,
} from "../reference/hc.ts";
import {
  mhcPost,
  mhcPostBackward,
  type MhcPostGrads,
} from "../reference/post.ts";
import { mhcPre, mhcPreBackward, type MhcPreGrads } from "../reference/pre.ts";
import {
  sinkhornKnopp,
  sinkhornKnoppBackward,
  type SinkhornKnoppOptions,
} from "../reference/sinkhorn.ts";
import type { StreamShape } from "../reference/types.ts";
import { checkPrecision } from "./_validate.ts";
import { mhcPostBackwardGpu, mhcPostGpu } from "./post.ts";
import { mhcPreBackwardGpu, mhcPreGpu } from "./pre.ts";
import { sinkhornKnoppBackwardGpu, sinkhornKnoppGpu } from "./sinkhorn.ts";
import {
  mhcCoefficientsBackwardGpu,
  mhcCoefficientsGpu,
} from "./coefficients.ts";
import { hcCoefficientsBackwardGpu, hcCoefficientsGpu } from "./hc.ts";
import { MhcGpu, type MhcGpuOptions, type StreamPrecision } from "./runtime.ts";

/**
 * The mHC ops, forward and backward, on `Float32Array`s, as promises. Every
 * method has the arguments and result of the reference function of the
 * same name (src/reference/).
 */
export interface MhcBackend {
  /** `"reference"`, `"webgpu"` or `"webgpu-f16"`. */
  readonly name: string;
  /** The runtime, for WebGPU backends (to use the encode API). */
  readonly gpu?: MhcGpu;
  /**
   * Pre-aggregation `u = H_pre·x`.
   *
   * @param x Residual states `[T, n, C]`.
   * @param hPre Weights `[T, n]`.
   * @param options Sizes `n`, `C`, `T`.
   * @returns `u`, `[T, C]`.
   */
  mhcPre(
    x: Float32Array,
    hPre: Float32Array,
    options: StreamShape,
  ): Promise<Float32Array>;
  /**
   * Backward of {@linkcode MhcBackend.mhcPre}.
   *
   * @param x Residual states `[T, n, C]`.
   * @param hPre Weights `[T, n]`.
   * @param gradU Upstream gradient `[T, C]`.
   * @param options Sizes `n`, `C`, `T`.
   * @returns Gradients of `x` and `hPre`.
   */
  mhcPreBackward(
    x: Float32Array,
    hPre: Float32Array,
    gradU: Float32Array,
    options: StreamShape,
  ): Promise<MhcPreGrads<Float32Array>>;
  /**
   * Fused post mixing `x' = H_res·x + H_post·y`.
   *
   * @param x Residual states `[T, n, C]`.
   * @param y Sub-layer output `[T, C]`.
   * @param hPost Weights `[T, n]`.
   * @param hRes Mixing matrices `[T, n, n]`.
   * @param options Sizes `n`, `C`, `T`.
   * @returns `x'`, `[T, n, C]`.
   */
  mhcPost(
    x: Float32Array,
    y: Float32Array,
    hPost: Float32Array,
    hRes: Float32Array,
    options: StreamShape,
  ): Promise<Float32Array>;
  /**
   * Backward of {@linkcode MhcBackend.mhcPost}.
   *
   * @param x Residual states `[T, n, C]`.
   * @param y Sub-layer output `[T, C]`.
   * @param hPost Weights `[T, n]`.
   * @param hRes Mixing matrices `[T, n, n]`.
   * @param gradOut Upstream gradient `[T, n, C]`.
   * @param options Sizes `n`, `C`, `T`.
   * @returns Gradients of `x`, `y`, `hPost`, `hRes`.
   */
  mhcPostBackward(
    x: Float32Array,
    y: Float32Array,
    hPost: Float32Array,
    hRes: Float32Array,
    gradOut: Float32Array,
    options: StreamShape,
  ): Promise<MhcPostGrads<Float32Array>>;
  /**
   * Sinkhorn-Knopp projection of `[T, n, n]` logits.
   *
   * @param logits Logits `[T, n, n]`.
   * @param options `n`, `T`, `iterations`, `eps`.
   * @returns The projected matrices `[T, n, n]`.
   */
  sinkhornKnopp(
    logits: Float32Array,
    options: SinkhornKnoppOptions,
  ): Promise<Float32Array>;
  /**
   * Backward of {@linkcode MhcBackend.sinkhornKnopp}.
   *
   * @param logits Logits `[T, n, n]`.
   * @param gradOutput Upstream gradient `[T, n, n]`.
   * @param options As the forward.
   * @returns Gradient of the logits.
   */
  sinkhornKnoppBackward(
    logits: Float32Array,
    gradOutput: Float32Array,
    options: SinkhornKnoppOptions,
  ): Promise<Float32Array>;
  /**
   * The per-token coefficients `H_pre`, `H_post`, `H_res` of one site.
   *
   * @param x Residual states `[T, n, C]`.
   * @param params The site's parameters.
   * @param options `n`, `C`, `T`, Sinkhorn options, `normEps`.
   * @returns The coefficients and the saved logits and `1/r`.
   */
  mhcCoefficients(
    x: Float32Array,
    params: MhcParams<Float32Array>,
    options: MhcCoefficientsOptions,
  ): Promise<MhcCoefficients<Float32Array>>;
  /**
   * Backward of {@linkcode MhcBackend.mhcCoefficients}.
   *
   * @param x Residual states `[T, n, C]`.
   * @param params The site's parameters.
   * @param forward The forward's result.
   * @param grads Upstream gradients of the coefficients.
   * @param options As the forward.
   * @returns Gradients of `x` and the parameters.
   */
  mhcCoefficientsBackward(
    x: Float32Array,
    params: MhcParams<Float32Array>,
    forward: MhcCoefficients<Float32Array>,
    grads: MhcCoefficientGrads<Float32Array>,
    options: MhcCoefficientsOptions,
  ): Promise<MhcParamGrads<Float32Array>>;
  /**
   * The per-token coefficients of one HC site (SPEC §6, the unconstrained
   * baseline).
   *
   * @param x Residual states `[T, n, C]`.
   * @param params The site's `θ`, `b` and `α`.
   * @param options `n`, `C`, `T`, `normEps`.
   * @returns The coefficients and the saved logits and per-stream `1/r`.
   */
  hcCoefficients(
    x: Float32Array,
    params: HcParams<Float32Array>,
    options: HcCoefficientsOptions,
  ): Promise<HcCoefficients<Float32Array>>;
  /**
   * Backward of {@linkcode MhcBackend.hcCoefficients}.
   *
   * @param x Residual states `[T, n, C]`.
   * @param params The site's parameters.
   * @param forward The forward's result.
   * @param grads Upstream gradients of the coefficients.
   * @param options As the forward.
   * @returns Gradients of `x` and the parameters.
   */
  hcCoefficientsBackward(
    x: Float32Array,
    params: HcParams<Float32Array>,
    forward: HcCoefficients<Float32Array>,
    grads: MhcCoefficientGrads<Float32Array>,
    options: HcCoefficientsOptions,
  ): Promise<HcParamGrads<Float32Array>>;
  /** Releases the backend's GPU resources (a no-op for the reference). */
  destroy(): void;
}

/**
 * The TypeScript reference as an {@linkcode MhcBackend} (float32 arrays).
 *
 * @returns The backend.
 *
 * @example Runs anywhere
 * ```ts
 * import { referenceBackend } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const b = referenceBackend();
 * const u = await b.mhcPre(new Float32Array([1, 2]), new Float32Array([1, 1]), {
 *   n: 2, C: 1, T: 1,
 * });
 * assertEquals([...u], [3]);
 * ```
 */
export function referenceBackend(): MhcBackend {
  return {
    name: "reference",
    mhcPre: async (x, hPre, o) => await mhcPre(x, hPre, o),
    mhcPreBackward: async (x, hPre, g, o) =>
      await mhcPreBackward(x, hPre, g, o),
    mhcPost: async (x, y, hp, hr, o) => await mhcPost(x, y, hp, hr, o),
    mhcPostBackward: async (x, y, hp, hr, g, o) =>
      await mhcPostBackward(x, y, hp, hr, g, o),
    sinkhornKnopp: async (l, o) => await sinkhornKnopp(l, o),
    sinkhornKnoppBackward: async (l, g, o) =>
      await sinkhornKnoppBackward(l, g, o),
    mhcCoefficients: async (x, p, o) => await mhcCoefficients(x, p, o),
    mhcCoefficientsBackward: async (x, p, f, g, o) =>
      await mhcCoefficientsBackward(x, p, f, g, o),
    hcCoefficients: async (x, p, o) => await hcCoefficients(x, p, o),
    hcCoefficientsBackward: async (x, p, f, g, o) =>
      await hcCoefficientsBackward(x, p, f, g, o),
    destroy() {},
  };
}

/** Options of {@linkcode webgpuBackend}. */
export interface WebgpuBackendOptions {
  /** Storage precision of the streams for the stream ops. Default `"f32"`. */
  precision?: StreamPrecision;
}

/**
 * The WebGPU kernels as an {@linkcode MhcBackend}, on an existing runtime.
 * With `precision: "f16"` the stream ops store the streams in f16.
 *
 * @param gpu The runtime.
 * @param options The stream precision.
 * @returns The backend; `destroy()` does not destroy `gpu`.
 *
 * @example On a runtime you already have (needs WebGPU)
 * ```ts ignore
 * import { MhcGpu, webgpuBackend } from "@birkhoff/mhc";
 *
 * const backend = webgpuBackend(await MhcGpu.create(), { precision: "f16" });
 * ```
 */
export function webgpuBackend(
  gpu: MhcGpu,
  options: WebgpuBackendOptions = {},
): MhcBackend {
  const precision = checkPrecision(gpu, options.precision);
  const p = { precision };
  return {
    name: precision === "f16" ? "webgpu-f16" : "webgpu",
    gpu,
    mhcPre: (x, hPre, o) => mhcPreGpu(gpu, x, hPre, { ...o, ...p }),
    mhcPreBackward: (x, hPre, g, o) =>
      mhcPreBackwardGpu(gpu, x, hPre, g, { ...o, ...p }),
    mhcPost: (x, y, hp, hr, o) => mhcPostGpu(gpu, x, y, hp, hr, { ...o, ...p }),
    mhcPostBackward: (x, y, hp, hr, g, o) =>
      mhcPostBackwardGpu(gpu, x, y, hp, hr, g, { ...o, ...p }),
    sinkhornKnopp: (l, o) => sinkhornKnoppGpu(gpu, l, o),
    sinkhornKnoppBackward: (l, g, o) => sinkhornKnoppBackwardGpu(gpu, l, g, o),
    mhcCoefficients: (x, pr, o) =>
      mhcCoefficientsGpu(gpu, x, pr, { ...o, ...p }),
    mhcCoefficientsBackward: (x, pr, f, g, o) =>
      mhcCoefficientsBackwardGpu(gpu, x, pr, f, g, { ...o, ...p }),
    hcCoefficients: (x, pr, o) => hcCoefficientsGpu(gpu, x, pr, { ...o, ...p }),
    hcCoefficientsBackward: (x, pr, f, g, o) =>
      hcCoefficientsBackwardGpu(gpu, x, pr, f, g, { ...o, ...p }),
    destroy() {},
  };
}

/** Options of {@linkcode createMhcBackend}. */
export interface CreateMhcBackendOptions extends MhcGpuOptions {
  /** Storage precision of the streams on WebGPU. Default `"f32"`. */
  precision?: StreamPrecision;
  /** Where the one-line fallback notice goes. Default `console.warn`. */
  notice?: (line: string) => void;
}

/**
 * Returns the WebGPU backend when a WebGPU device can be had, and otherwise
 * the TypeScript reference, after one line saying why (through
 * `options.notice`, default `console.warn`). Either way the ops give the
 * same results (within float32 rounding).
 *
 * @param options Runtime options, stream precision, notice sink.
 * @returns A backend; call `destroy()` when done.
 *
 * @example Works with or without a GPU
 * ```ts
 * import { createMhcBackend } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const backend = await createMhcBackend();
 * const out = await backend.mhcPost(
 *   new Float32Array([1, 2]), new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), { n: 2, C: 1, T: 1 },
 * );
 * assertEquals([...out], [12, 1]);
 * backend.destroy();
 * ```
 */
export async function createMhcBackend(
  options: CreateMhcBackendOptions = {},
): Promise<MhcBackend> {
  const { precision, notice, ...runtime } = options;
  let gpu: MhcGpu;
  try {
    gpu = await MhcGpu.create(runtime);
  } catch (e) {
    (notice ?? console.warn)(
      `@birkhoff/mhc: WebGPU unavailable (${
        (e as Error).message
      }); using the TypeScript reference`,
    );
    return referenceBackend();
  }
  const release = () => {
    if (!runtime.device) gpu.destroy();
  };
  let backend: MhcBackend;
  try {
    backend = webgpuBackend(gpu, { precision });
  } catch (e) {
    release(); // e.g. f16 asked for without shader-f16
    throw e;
  }
  return {
    ...backend,
    destroy: release,
  };
}
