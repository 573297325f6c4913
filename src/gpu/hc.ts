// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The HC coefficient pass on WebGPU (SPEC §6, the unconstrained
 * hyper-connections baseline), forward and backward, with the semantics of
 * the reference {@linkcode hcCoefficients} and
 * {@linkcode hcCoefficientsBackward}: per-stream RMSNorm, then
 * `H = α·tanh(θ·x̃) + b` for every coefficient, no sigmoid and no Sinkhorn.
 *
 * Forward: one kernel, one invocation per (token, stream) row of `x`, 64
 * rows per workgroup; the rows and `θ` are walked in chunks through
 * workgroup memory, so each `θ` element read serves 64 rows and one read of
 * `x` gives both `θ·x` and `Σx²`. Besides `H_pre`, `H_post` and `H_res` it
 * writes a `saved` buffer (per token the logits `θ_r·x̃_j` in the segment
 * layout, then `1/r_j` per stream) for the backward.
 *
 * Backward: a kernel per tile of 8 tokens (the gradients of the logits,
 * `g_x`, and per-token partials in a scratch buffer), then one kernel for
 * `g_θ = Σ_t Σ_j G'_{t,j} ⊗ x_{t,j}` (a block of channels per workgroup,
 * tokens in order) and one that sums the other partials over tokens, both in
 * a fixed order for `g_θ`, `g_b` and the three `g_α`: deterministic, no
 * atomics.
 *
 * `K = n² + 2n`, `n` from 1 to 8. Streams (`x`, `g_x`) may be stored as f16
 * (`precision: "f16"`, needs `shader-f16`); everything else is f32 and all
 * arithmetic is f32. As for mHC, the encode API takes the three `α` as
 * numbers or as a GPU buffer of `[α_pre, α_post, α_res]`, and the backward
 * can add its `g_x` to the buffer's values (`accumulate`).
 *
 * @module
 */

import type { BufferRef, MhcGpu, StreamPrecision } from "./runtime.ts";
import type {
  HcCoefficients,
  HcCoefficientsOptions,
  HcParamGrads,
  HcParams,
} from "../reference/hc.ts";
import type { MhcCoefficientGrads } from "../reference/coefficients.ts";
import { DEFAULT_NORM_EPS } from "../reference/coefficients.ts";
import {
  checkNonNegative,
  checkObject,
  checkPositiveInt,
} from "../reference/_validate.ts";
import {
  checkF32,
  checkGpu,
  checkOptionalBoolean,
  checkPrecision,
} from "./_validate.ts";
import {
  MAX_STREAMS,
  requireStorageBuffers,
  streamValues,
} from "./_streams.ts";
import {
  cachedSource,
  f32Bits,
  withConstants,
  withPrecision,
} from "./specialize.ts";
import {
  alphaBindings,
  alphaKey,
  type AlphaSource,
  alphaSourceWgsl,
  alphaWords,
  checkAlphaSource,
  type MhcAlphas,
  numberAlphas,
} from "./alphas.ts";
import { hcCoefficientsCoreWgsl } from "../kernels/hc_coefficients_core.ts";
import { hcCoefficientsWgsl } from "../kernels/hc_coefficients.ts";
import { hcCoefficientsBackwardWgsl } from "../kernels/hc_coefficients_backward.ts";
import { hcCoefficientsGradThetaWgsl } from "../kernels/hc_coefficients_grad_theta.ts";
import { columnSumsWgsl } from "../kernels/column_sums.ts";

/** Rows of `x` (token, stream) per workgroup of the forward (HF_RT). */
const FORWARD_ROWS = 64;
/** Tokens per workgroup of the backward (HB_TT). */
const BACKWARD_TOKENS = 8;
/** Channels per workgroup of the `g_θ` kernel (GT_CL). */
const GRAD_THETA_CHANNELS = 16;
/** Storage buffers of the backward kernel when `α` comes from a buffer. */
const BACKWARD_ALPHA_BUFFER_STORAGE = 9;

/** Options of the WebGPU HC coefficient ops. */
export interface HcCoefficientsGpuOptions extends HcCoefficientsOptions {
  /**
   * Storage precision of `x` and `g_x`: `"f32"` (default) or `"f16"` (needs
   * `shader-f16`). Everything else stays f32.
   */
  precision?: StreamPrecision;
}

/** Options of {@linkcode encodeHcCoefficientsBackward}. */
export interface HcCoefficientsBackwardGpuOptions
  extends HcCoefficientsGpuOptions {
  /**
   * `true`: add the gradient of `x` to the values already in `gradX` (read,
   * add in f32, store in the precision of `x`); `false` (default): overwrite
   * them. The parameter gradients are always overwritten.
   */
  accumulate?: boolean;
}

/**
 * Buffers of {@linkcode encodeHcCoefficients}, each with `STORAGE` usage.
 * `K = n² + 2n`.
 */
export interface HcCoefficientsBuffers {
  /** Residual states `[T, n, C]`, f32 or f16 (`precision`). */
  x: BufferRef;
  /** `θ`, `[n + 2, C]` f32: rows `θ_pre`, `θ_post`, then `θ_res`. */
  theta: BufferRef;
  /** Bias `b`, `[K]` f32: `b_pre`, `b_post`, then `b_res` row-major. */
  bias: BufferRef;
  /** Receives `H_pre`, `[T, n]` f32. */
  hPre: BufferRef;
  /** Receives `H_post`, `[T, n]` f32. */
  hPost: BufferRef;
  /** Receives `H_res`, `[T, n, n]` f32. */
  hRes: BufferRef;
  /**
   * Receives what the backward needs: {@linkcode hcCoefficientsSavedBytes}
   * bytes, rows of `K + n` rounded up to a multiple of 8 f32s: per token the
   * logits `θ_r·x̃_j` (K, segment layout), `1/r_j` per stream (n), then
   * padding.
   */
  saved: BufferRef;
}

/**
 * Buffers of {@linkcode encodeHcCoefficientsBackward}, each with `STORAGE`
 * usage. `K = n² + 2n`.
 */
export interface HcCoefficientsBackwardBuffers {
  /** Residual states `[T, n, C]` given to the forward, f32 or f16. */
  x: BufferRef;
  /** `θ`, `[n + 2, C]` f32. */
  theta: BufferRef;
  /** The forward's `saved` buffer. */
  saved: BufferRef;
  /** Upstream gradient of `H_pre`, `[T, n]` f32. */
  gradHPre: BufferRef;
  /** Upstream gradient of `H_post`, `[T, n]` f32. */
  gradHPost: BufferRef;
  /** Upstream gradient of `H_res`, `[T, n, n]` f32. */
  gradHRes: BufferRef;
  /** Receives (or, with `accumulate`, adds) the gradient of `x`, `[T, n, C]`, in the precision of `x`. */
  gradX: BufferRef;
  /** Receives the gradient of `θ`, `[n + 2, C]` f32, summed over tokens. */
  gradTheta: BufferRef;
  /** Receives the gradient of `b`, `[K]` f32, summed over tokens. */
  gradBias: BufferRef;
  /** Receives the gradients of `α_pre`, `α_post`, `α_res`, `[3]` f32. */
  gradAlpha: BufferRef;
  /**
   * Scratch of {@linkcode hcCoefficientsScratchBytes} bytes; its contents
   * are overwritten.
   */
  scratch: BufferRef;
}

/** Checked sizes and settings. */
interface HcConfig {
  n: number;
  C: number;
  T: number;
  K: number;
  normEps: number;
  precision: StreamPrecision;
  /** Bytes per stream element. */
  es: number;
}

function checkHcN(n: unknown): number {
  checkPositiveInt("n", n);
  if ((n as number) > MAX_STREAMS) {
    throw new RangeError(
      `n must be at most ${MAX_STREAMS} on the GPU, got ${String(n)}`,
    );
  }
  return n as number;
}

function hcConfig(gpu: MhcGpu, options: HcCoefficientsGpuOptions): HcConfig {
  checkGpu(gpu);
  checkObject("options", options);
  const n = checkHcN(options.n);
  const C = checkPositiveInt("C", options.C);
  const T = checkPositiveInt("T", options.T);
  const normEps = checkNonNegative(
    "normEps",
    options.normEps ?? DEFAULT_NORM_EPS,
    true,
  );
  const precision = checkPrecision(gpu, options.precision);
  return {
    n,
    C,
    T,
    K: n * n + 2 * n,
    normEps,
    precision,
    es: precision === "f16" ? 2 : 4,
  };
}

/** Row length in f32s of `saved`: `K + n` rounded up to a multiple of 8. */
function savedWidth(n: number): number {
  return Math.ceil((n * n + 3 * n) / 8) * 8;
}

/**
 * Row length in f32s of the backward scratch: `K + 3 + n·(n + 2)` rounded
 * up to a multiple of 8.
 */
function scratchWidth(n: number): number {
  return Math.ceil((2 * n * n + 4 * n + 3) / 8) * 8;
}

function checkNT(options: { n: number; T: number }): { n: number; T: number } {
  checkObject("options", options);
  return {
    n: checkPositiveInt("n", options.n),
    T: checkPositiveInt("T", options.T),
  };
}

/**
 * Bytes of the `saved` buffer that {@linkcode encodeHcCoefficients} writes
 * and {@linkcode encodeHcCoefficientsBackward} reads: `T` rows of `K + n`
 * f32s rounded up to a multiple of 8 (`K = n² + 2n`), so that chunks of
 * tokens stay aligned.
 *
 * @param options Sizes `n` and `T`.
 * @returns The byte size.
 * @throws {RangeError} When a size is not a positive integer.
 *
 * @example For n = 4 (K = 24, 28 f32s a token) and 1000 tokens
 * ```ts
 * import { hcCoefficientsSavedBytes } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(hcCoefficientsSavedBytes({ n: 4, T: 1000 }), 1000 * 32 * 4);
 * ```
 */
export function hcCoefficientsSavedBytes(
  options: { n: number; T: number },
): number {
  const { n, T } = checkNT(options);
  return T * savedWidth(n) * 4;
}

/**
 * Bytes of the scratch buffer that {@linkcode encodeHcCoefficientsBackward}
 * needs: `T` rows of `K + 3 + n·(n + 2)` f32s rounded up to a multiple of 8
 * (`K = n² + 2n`).
 *
 * @param options Sizes `n` and `T`.
 * @returns The byte size.
 * @throws {RangeError} When a size is not a positive integer.
 *
 * @example For n = 4 (51 f32s a token) and 1000 tokens
 * ```ts
 * import { hcCoefficientsScratchBytes } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(hcCoefficientsScratchBytes({ n: 4, T: 1000 }), 1000 * 56 * 4);
 * ```
 */
export function hcCoefficientsScratchBytes(
  options: { n: number; T: number },
): number {
  const { n, T } = checkNT(options);
  return T * scratchWidth(n) * 4;
}

interface HcPipelines {
  main: GPUComputePipeline;
  gradTheta?: GPUComputePipeline;
  sums?: GPUComputePipeline;
}

async function pipelines(
  gpu: MhcGpu,
  c: HcConfig,
  backward: boolean,
  alpha: AlphaSource,
  accumulate: boolean,
): Promise<HcPipelines> {
  const entryPoint = backward
    ? "hc_coefficients_backward"
    : "hc_coefficients_forward";
  const body = backward ? hcCoefficientsBackwardWgsl : hcCoefficientsWgsl;
  const acc = backward && accumulate;
  const mainKey = `hc|${entryPoint}|n=${c.n}|${c.precision}|${alphaKey(alpha)}${
    acc ? "|accumulate" : ""
  }`;
  const constants: Record<string, number> = { N: c.n };
  if (backward) constants.HB_ACCUMULATE = acc ? 1 : 0;
  const main = gpu.pipeline({
    label: entryPoint,
    code: cachedSource(mainKey, () =>
      withPrecision(
        withConstants(
          hcCoefficientsCoreWgsl + body + alphaSourceWgsl(alpha),
          constants,
        ),
        c.precision,
      )),
    entryPoint,
    key: mainKey,
  });
  if (!backward) return { main: await main };
  const gradThetaKey = `hc|grad_theta|n=${c.n}|${c.precision}`;
  const gradTheta = gpu.pipeline({
    label: "hc_coefficients_grad_theta",
    code: cachedSource(gradThetaKey, () =>
      withPrecision(
        withConstants(hcCoefficientsCoreWgsl + hcCoefficientsGradThetaWgsl, {
          N: c.n,
        }),
        c.precision,
      )),
    entryPoint: "hc_coefficients_grad_theta",
    key: gradThetaKey,
  });
  const sums = gpu.pipeline({
    label: "column_sums",
    code: columnSumsWgsl,
    entryPoint: "column_sums",
    key: "column_sums",
  });
  return { main: await main, gradTheta: await gradTheta, sums: await sums };
}

function shapes(c: HcConfig) {
  const { n, C, T, K } = c;
  return {
    x: `[T, n, C] = [${T}, ${n}, ${C}] as ${c.precision}`,
    theta: `[n + 2, C] = [${n + 2}, ${C}] as f32`,
    bias: `[K] = [${K}] as f32`,
    tn: `[T, n] = [${T}, ${n}] as f32`,
    tnn: `[T, n, n] = [${T}, ${n}, ${n}] as f32`,
    saved: `[T, ${savedWidth(n)}] as f32`,
    scratch: `[T, ${scratchWidth(n)}] as f32`,
  };
}

function recordForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  p: HcPipelines,
  b: HcCoefficientsBuffers,
  alphas: AlphaSource,
  c: HcConfig,
): void {
  const { n, C, K } = c;
  const s = shapes(c);
  gpu.encodeTokens(encoder, {
    label: "hcCoefficients",
    pipeline: p.main,
    T: c.T,
    buffers: [
      { name: "x", ref: b.x, bytesPerToken: n * C * c.es, shape: s.x },
      {
        name: "theta",
        ref: b.theta,
        bytesPerToken: 0,
        size: (n + 2) * C * 4,
        shape: s.theta,
      },
      {
        name: "bias",
        ref: b.bias,
        bytesPerToken: 0,
        size: K * 4,
        shape: s.bias,
      },
      { name: "hPre", ref: b.hPre, bytesPerToken: n * 4, shape: s.tn },
      { name: "hPost", ref: b.hPost, bytesPerToken: n * 4, shape: s.tn },
      { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4, shape: s.tnn },
      {
        name: "saved",
        ref: b.saved,
        bytesPerToken: savedWidth(n) * 4,
        shape: s.saved,
      },
      ...alphaBindings(alphas),
    ],
    workgroups: (tokens) => Math.ceil(tokens * n / FORWARD_ROWS),
    params: (tokens) =>
      new Uint32Array([tokens, C, f32Bits(c.normEps), ...alphaWords(alphas)]),
  });
}

function recordBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  p: HcPipelines,
  b: HcCoefficientsBackwardBuffers,
  alphas: AlphaSource,
  c: HcConfig,
): void {
  const { n, C, K } = c;
  const s = shapes(c);
  const width = scratchWidth(n);
  // The column sums loop when the grid holds fewer workgroups.
  const maxGrid = gpu.limits.maxComputeWorkgroupsPerDimension ** 2;
  const x = { name: "x", ref: b.x, bytesPerToken: n * C * c.es, shape: s.x };
  const theta = {
    name: "theta",
    ref: b.theta,
    bytesPerToken: 0,
    size: (n + 2) * C * 4,
    shape: s.theta,
  };
  const scratch = {
    name: "scratch",
    ref: b.scratch,
    bytesPerToken: width * 4,
    shape: s.scratch,
  };
  // Per token: g_x and the partials of the parameter gradients.
  gpu.encodeTokens(encoder, {
    label: "hcCoefficientsBackward",
    pipeline: p.main,
    T: c.T,
    buffers: [
      x,
      theta,
      {
        name: "saved",
        ref: b.saved,
        bytesPerToken: savedWidth(n) * 4,
        shape: s.saved,
      },
      { name: "gradHPre", ref: b.gradHPre, bytesPerToken: n * 4, shape: s.tn },
      {
        name: "gradHPost",
        ref: b.gradHPost,
        bytesPerToken: n * 4,
        shape: s.tn,
      },
      {
        name: "gradHRes",
        ref: b.gradHRes,
        bytesPerToken: n * n * 4,
        shape: s.tnn,
      },
      { name: "gradX", ref: b.gradX, bytesPerToken: n * C * c.es, shape: s.x },
      scratch,
      ...alphaBindings(alphas),
    ],
    workgroups: (tokens) => Math.ceil(tokens / BACKWARD_TOKENS),
    params: (tokens) => new Uint32Array([tokens, C, ...alphaWords(alphas)]),
  });
  // g_θ = Σ_t Σ_j G'[t, j] ⊗ x[t, j]: one workgroup per block of channels,
  // tokens in order; a later chunk of tokens adds to the earlier ones.
  gpu.encodeTokens(encoder, {
    label: "hcCoefficientsBackward gradTheta",
    pipeline: p.gradTheta!,
    T: c.T,
    buffers: [
      x,
      scratch,
      {
        name: "gradTheta",
        ref: b.gradTheta,
        bytesPerToken: 0,
        size: (n + 2) * C * 4,
        shape: s.theta,
      },
    ],
    workgroups: () => Math.ceil(C / GRAD_THETA_CHANNELS),
    params: (tokens, first) =>
      new Uint32Array([tokens, C, first > 0 ? 1 : 0, width]),
  });
  // g_b = Σ_t u[t] and g_α = Σ_t (α partials)[t]: one workgroup per column.
  gpu.encodeTokens(encoder, {
    label: "hcCoefficientsBackward gradBias gradAlpha",
    pipeline: p.sums!,
    T: c.T,
    buffers: [
      scratch,
      {
        name: "gradBias",
        ref: b.gradBias,
        bytesPerToken: 0,
        size: K * 4,
        shape: s.bias,
      },
      {
        name: "gradAlpha",
        ref: b.gradAlpha,
        bytesPerToken: 0,
        size: 12,
        shape: "[3] as f32",
      },
    ],
    workgroups: () => Math.min(K + 3, maxGrid),
    params: (tokens, first) =>
      new Uint32Array([tokens, width, K + 3, K, first > 0 ? 1 : 0]),
  });
}

/**
 * Records the HC coefficient forward into `encoder` (see
 * {@linkcode hcCoefficients}). Large `T` is split into chunks within the
 * device limits.
 * An output must not share a buffer with an input of the same call (WebGPU
 * forbids one dispatch reading and writing one buffer); inputs may share.
 *
 * `alphas` may be numbers, or a buffer holding `[α_pre, α_post, α_res]` as
 * 3 f32 (`STORAGE` usage, offset a multiple of
 * `minStorageBufferOffsetAlignment`) that the kernel reads when it runs: for
 * `α` trained on the GPU, with no new uniform buffer per value. That
 * variant binds 8 storage buffers (the default limit); with numbers, 7.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder; nothing is submitted.
 * @param buffers Inputs `x`, `theta`, `bias`; outputs `hPre`, `hPost`,
 *   `hRes` and `saved` (see {@linkcode hcCoefficientsSavedBytes}).
 * @param alphas The three `α` of the site, as numbers or as a buffer of 3
 *   f32.
 * @param options Sizes `n` (1 to 8), `C`, `T`; optional `normEps` and
 *   `precision` (of `x`).
 * @returns A promise that resolves once the commands are recorded.
 * @throws {RangeError} When a size or `α` is invalid, a buffer too small or
 *   its offset misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage, or
 *   `alphas` is neither numbers nor a buffer.
 * @throws {GpuError} When f16 is asked for without `shader-f16`.
 *
 * @example HC coefficients of GPU-resident states
 * ```ts ignore
 * import {
 *   encodeHcCoefficients,
 *   hcCoefficientsSavedBytes,
 *   MhcGpu,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128, K = n * n + 2 * n;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const make = (bytes: number) => gpu.device.createBuffer({ size: bytes, usage });
 * const alphas = make(12); // [α_pre, α_post, α_res], e.g. trained on the GPU
 * gpu.device.queue.writeBuffer(alphas, 0, new Float32Array([0.01, 0.01, 0.01]));
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeHcCoefficients(gpu, encoder, {
 *   x: make(T * n * C * 4),
 *   theta: make((n + 2) * C * 4),
 *   bias: make(K * 4),
 *   hPre: make(T * n * 4),
 *   hPost: make(T * n * 4),
 *   hRes: make(T * n * n * 4),
 *   saved: make(hcCoefficientsSavedBytes({ n, T })),
 * }, alphas, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export async function encodeHcCoefficients(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: HcCoefficientsBuffers,
  alphas: MhcAlphas | BufferRef,
  options: HcCoefficientsGpuOptions,
): Promise<void> {
  const c = hcConfig(gpu, options);
  checkObject("buffers", buffers);
  const a = checkAlphaSource(alphas, "alphas");
  const p = await pipelines(gpu, c, false, a, false);
  recordForward(gpu, encoder, p, buffers, a, c);
}

/**
 * Records the HC coefficient backward into `encoder` (see
 * {@linkcode hcCoefficientsBackward}): the gradients of `x`, `θ`, `b` and
 * the three `α`. The sums over tokens are deterministic (fixed order, no
 * atomics).
 *
 * `alphas` may be numbers or a buffer of 3 f32 `[α_pre, α_post, α_res]`,
 * as for {@linkcode encodeHcCoefficients}. The buffer variant binds 9
 * storage buffers in one shader, one more than WebGPU's default limit: the
 * device needs `maxStorageBuffersPerShaderStage >= 9` (`MhcGpu.create()`
 * without a device requests the adapter's limit; otherwise a `GpuError` of
 * kind `"unsupported"` says so). With numbers it binds 8.
 *
 * With `accumulate: true` the gradient of `x` is added to the values already
 * in `gradX` (e.g. when several paths through `x` are summed into one
 * gradient); the parameter gradients are always overwritten.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder; nothing is submitted.
 * @param buffers Inputs, upstream gradients, outputs and a scratch buffer of
 *   {@linkcode hcCoefficientsScratchBytes} bytes.
 * @param alphas The three `α` given to the forward, as numbers or as a
 *   buffer of 3 f32.
 * @param options The forward's options, and `accumulate`.
 * @returns A promise that resolves once the commands are recorded.
 * @throws {RangeError} When a size or `α` is invalid, a buffer too small or
 *   its offset misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage,
 *   `alphas` is neither numbers nor a buffer, or `accumulate` is not a
 *   boolean.
 * @throws {GpuError} When f16 is asked for without `shader-f16`, or `α`
 *   comes from a buffer and the device allows fewer than 9 storage buffers.
 *
 * @example Backward on GPU buffers, adding to a gradient of x
 * ```ts ignore
 * import {
 *   encodeHcCoefficientsBackward,
 *   hcCoefficientsSavedBytes,
 *   hcCoefficientsScratchBytes,
 *   MhcGpu,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128, K = n * n + 2 * n;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const make = (bytes: number) => gpu.device.createBuffer({ size: bytes, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeHcCoefficientsBackward(gpu, encoder, {
 *   x: make(T * n * C * 4),
 *   theta: make((n + 2) * C * 4),
 *   saved: make(hcCoefficientsSavedBytes({ n, T })),
 *   gradHPre: make(T * n * 4),
 *   gradHPost: make(T * n * 4),
 *   gradHRes: make(T * n * n * 4),
 *   gradX: make(T * n * C * 4), // holds another path's gradient of x
 *   gradTheta: make((n + 2) * C * 4),
 *   gradBias: make(K * 4),
 *   gradAlpha: make(12),
 *   scratch: make(hcCoefficientsScratchBytes({ n, T })),
 * }, { alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01 }, {
 *   n, C, T, accumulate: true,
 * });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export async function encodeHcCoefficientsBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: HcCoefficientsBackwardBuffers,
  alphas: MhcAlphas | BufferRef,
  options: HcCoefficientsBackwardGpuOptions,
): Promise<void> {
  const c = hcConfig(gpu, options);
  const accumulate = checkOptionalBoolean("accumulate", options.accumulate);
  checkObject("buffers", buffers);
  const a = checkAlphaSource(alphas, "alphas");
  if (a.kind === "buffer") {
    requireStorageBuffers(
      gpu,
      BACKWARD_ALPHA_BUFFER_STORAGE,
      "hcCoefficientsBackward with α in a buffer",
    );
  }
  const p = await pipelines(gpu, c, true, a, accumulate);
  recordBackward(gpu, encoder, p, buffers, a, c);
}

function checkParams(params: HcParams, c: HcConfig): AlphaSource {
  const { n, C, K } = c;
  checkObject("params", params);
  checkF32(
    "params.theta",
    params.theta,
    (n + 2) * C,
    `[n + 2, C] = [${n + 2}, ${C}]`,
  );
  checkF32("params.bias", params.bias, K, `[n²+2n] = [${K}]`);
  return numberAlphas(params, "params");
}

/**
 * {@linkcode hcCoefficients} on the GPU: the per-token `H_pre`, `H_post`,
 * `H_res`, plus the `logits` and `invRms` that the backward reuses.
 * Float32 arrays only; with `precision: "f16"`, `x` is stored as f16 on the
 * GPU (rounded on upload).
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]`.
 * @param params `θ` `[n + 2, C]`, `b` `[K]` and the three `α`.
 * @param options Sizes `n` (1 to 8), `C`, `T`; optional `normEps` and
 *   `precision`.
 * @returns `hPre`, `hPost`, `hRes`, `logits` `[T, K]` and `invRms`
 *   `[T, n]`, as the reference.
 * @throws {RangeError} When a size, a length or an `α` is invalid.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example At θ = 0 the coefficients are the biases
 * ```ts ignore
 * import { hcCoefficientsGpu, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 2, C = 3;
 * const { hRes } = await hcCoefficientsGpu(gpu, new Float32Array(n * C).fill(1), {
 *   theta: new Float32Array((n + 2) * C),
 *   bias: new Float32Array([1, 0, 1, 1, 1, 0, 0, 1]), // pre, post, res = I
 *   alphaPre: 0.01,
 *   alphaPost: 0.01,
 *   alphaRes: 0.01,
 * }, { n, C, T: 1 });
 * console.log(hRes); // Float32Array [1, 0, 0, 1]
 * ```
 */
export async function hcCoefficientsGpu(
  gpu: MhcGpu,
  x: Float32Array,
  params: HcParams<Float32Array>,
  options: HcCoefficientsGpuOptions,
): Promise<HcCoefficients<Float32Array>> {
  const c = hcConfig(gpu, options);
  const { n, C, T, K } = c;
  checkF32("x", x, T * n * C, `[T, n, C] = [${T}, ${n}, ${C}]`);
  const a = checkParams(params, c);
  const sw = savedWidth(n);
  const p = await pipelines(gpu, c, false, a, false);
  const [hPre, hPost, hRes, saved] = await gpu.compute(
    "hcCoefficients",
    (ctx) => {
      const b: HcCoefficientsBuffers = {
        x: ctx.uploadStreams(x, c.precision, "x"),
        theta: ctx.upload(params.theta, "theta"),
        bias: ctx.upload(params.bias, "bias"),
        hPre: ctx.output(T * n * 4, "hPre"),
        hPost: ctx.output(T * n * 4, "hPost"),
        hRes: ctx.output(T * n * n * 4, "hRes"),
        saved: ctx.output(T * sw * 4, "saved"),
      };
      recordForward(gpu, ctx.encoder, p, b, a, c);
      return [
        { buffer: b.hPre as GPUBuffer, bytes: T * n * 4 },
        { buffer: b.hPost as GPUBuffer, bytes: T * n * 4 },
        { buffer: b.hRes as GPUBuffer, bytes: T * n * n * 4 },
        { buffer: b.saved as GPUBuffer, bytes: T * sw * 4 },
      ];
    },
  );
  const packed = new Float32Array(saved);
  const logits = new Float32Array(T * K), invRms = new Float32Array(T * n);
  for (let t = 0; t < T; t++) {
    logits.set(packed.subarray(t * sw, t * sw + K), t * K);
    invRms.set(packed.subarray(t * sw + K, t * sw + K + n), t * n);
  }
  return {
    hPre: new Float32Array(hPre),
    hPost: new Float32Array(hPost),
    hRes: new Float32Array(hRes),
    logits,
    invRms,
  };
}

/**
 * {@linkcode hcCoefficientsBackward} on the GPU: the gradients of `x`, `θ`,
 * `b` and the three `α` (parameter gradients summed over tokens in a fixed
 * order). Float32 arrays only; with `precision: "f16"`, `x` and `g_x` are
 * stored as f16 on the GPU. (`accumulate` is an encode-API option: here
 * every result is a fresh array.)
 *
 * @param gpu The runtime.
 * @param x The residual states `[T, n, C]` given to the forward.
 * @param params The parameters given to the forward.
 * @param forward The forward's result (its `logits` and `invRms` are used).
 * @param grads Upstream gradients of `hPre`, `hPost` and `hRes`.
 * @param options The forward's options.
 * @returns Gradients of `x`, `theta`, `bias`, `alphaPre`, `alphaPost`,
 *   `alphaRes`.
 * @throws {RangeError} When a size or a length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example The bias gradient is the upstream gradient summed over tokens
 * ```ts ignore
 * import {
 *   hcCoefficientsBackwardGpu,
 *   hcCoefficientsGpu,
 *   MhcGpu,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 1, C = 2, T = 2;
 * const x = new Float32Array([1, 2, 3, 4]);
 * const params = {
 *   theta: new Float32Array((n + 2) * C), bias: new Float32Array([0, 1, 1]),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = await hcCoefficientsGpu(gpu, x, params, { n, C, T });
 * const g = await hcCoefficientsBackwardGpu(gpu, x, params, fwd, {
 *   hPre: new Float32Array([1, 2]),
 *   hPost: new Float32Array([0, 0]),
 *   hRes: new Float32Array([3, 4]),
 * }, { n, C, T });
 * console.log(g.bias); // Float32Array [3, 0, 7]
 * ```
 */
export async function hcCoefficientsBackwardGpu(
  gpu: MhcGpu,
  x: Float32Array,
  params: HcParams<Float32Array>,
  forward: HcCoefficients<Float32Array>,
  grads: MhcCoefficientGrads<Float32Array>,
  options: HcCoefficientsGpuOptions,
): Promise<HcParamGrads<Float32Array>> {
  const c = hcConfig(gpu, options);
  const { n, C, T, K } = c;
  checkF32("x", x, T * n * C, `[T, n, C] = [${T}, ${n}, ${C}]`);
  const a = checkParams(params, c);
  checkObject("forward", forward);
  checkF32(
    "forward.logits",
    forward.logits,
    T * K,
    `[T, n²+2n] = [${T}, ${K}]`,
  );
  checkF32("forward.invRms", forward.invRms, T * n, `[T, n] = [${T}, ${n}]`);
  checkObject("grads", grads);
  checkF32("grads.hPre", grads.hPre, T * n, `[T, n] = [${T}, ${n}]`);
  checkF32("grads.hPost", grads.hPost, T * n, `[T, n] = [${T}, ${n}]`);
  checkF32(
    "grads.hRes",
    grads.hRes,
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  const sw = savedWidth(n);
  const saved = new Float32Array(T * sw);
  for (let t = 0; t < T; t++) {
    saved.set(forward.logits.subarray(t * K, t * K + K), t * sw);
    saved.set(forward.invRms.subarray(t * n, t * n + n), t * sw + K);
  }
  const p = await pipelines(gpu, c, true, a, false);
  const xBytes = T * n * C * c.es;
  const thetaBytes = (n + 2) * C * 4;
  const [gx, gTheta, gBias, gAlpha] = await gpu.compute(
    "hcCoefficientsBackward",
    (ctx) => {
      const b: HcCoefficientsBackwardBuffers = {
        x: ctx.uploadStreams(x, c.precision, "x"),
        theta: ctx.upload(params.theta, "theta"),
        saved: ctx.upload(saved, "saved"),
        gradHPre: ctx.upload(grads.hPre, "gradHPre"),
        gradHPost: ctx.upload(grads.hPost, "gradHPost"),
        gradHRes: ctx.upload(grads.hRes, "gradHRes"),
        gradX: ctx.output(xBytes, "gradX"),
        gradTheta: ctx.output(thetaBytes, "gradTheta"),
        gradBias: ctx.output(K * 4, "gradBias"),
        gradAlpha: ctx.output(12, "gradAlpha"),
        scratch: ctx.output(T * scratchWidth(n) * 4, "scratch"),
      };
      recordBackward(gpu, ctx.encoder, p, b, a, c);
      return [
        { buffer: b.gradX as GPUBuffer, bytes: xBytes },
        { buffer: b.gradTheta as GPUBuffer, bytes: thetaBytes },
        { buffer: b.gradBias as GPUBuffer, bytes: K * 4 },
        { buffer: b.gradAlpha as GPUBuffer, bytes: 12 },
      ];
    },
  );
  const alpha = new Float32Array(gAlpha);
  return {
    x: streamValues(gx, c, T * n * C),
    theta: new Float32Array(gTheta),
    bias: new Float32Array(gBias),
    alphaPre: alpha[0],
    alphaPost: alpha[1],
    alphaRes: alpha[2],
  };
}
