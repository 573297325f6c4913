// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The mHC coefficient pass on WebGPU (SPEC §3), forward and backward, with
 * the semantics of the reference {@linkcode mhcCoefficients} and
 * {@linkcode mhcCoefficientsBackward}.
 *
 * Forward: one fused kernel, one workgroup per tile of 32 tokens (16 for
 * `n > 4`). The tile's states and `φ` are walked in chunks through workgroup
 * memory, so each `φ` element read serves every token of the tile, and one
 * read of the states gives both `v·φ` and `Σv²`; the scale `1/r`, `α`, bias,
 * sigmoid and `2·sigmoid` run on register tiles, and the Sinkhorn projection
 * with one invocation per token, its matrix in registers. Besides `H_pre`,
 * `H_post` and `H_res` it writes a small `saved` buffer (per token the logits
 * `h`, then `1/r`) for the backward.
 *
 * Backward: a kernel per tile of tokens (exact Sinkhorn backward recomputed in
 * registers, `g_x`, and per-token partials in a scratch buffer), then a tiled
 * kernel for `g_φ = Σ_t v_t ⊗ g_p,t` (a block of `φ` rows per workgroup,
 * tokens in order) and one that sums the other partials over tokens, both in
 * a fixed order for `g_φ`, `g_b` and the three `g_α`: deterministic, no
 * atomics.
 *
 * `K = n² + 2n`. Streams (`x`, `g_x`) may be stored as f16
 * (`precision: "f16"`, needs `shader-f16`); everything else is f32 and all
 * arithmetic is f32.
 *
 * The encode API takes the three `α` as numbers or as a GPU buffer of
 * `[α_pre, α_post, α_res]` (a pipeline variant reads them from an extra
 * storage binding, for `α` trained on the GPU), and the backward can add its
 * `g_x` to the buffer's values (`accumulate`) instead of overwriting them.
 *
 * @module
 */

import type { BufferRef, MhcGpu, StreamPrecision } from "./runtime.ts";
import type {
  MhcCoefficientGrads,
  MhcCoefficients,
  MhcCoefficientsOptions,
  MhcParamGrads,
  MhcParams,
} from "../reference/coefficients.ts";
import { DEFAULT_NORM_EPS } from "../reference/coefficients.ts";
import type { SinkhornConfig } from "../reference/sinkhorn.ts";
import { sinkhornConfig } from "../reference/sinkhorn.ts";
import {
  checkNonNegative,
  checkObject,
  checkPositiveInt,
} from "../_validate.ts";
import {
  checkF32,
  checkGpu,
  checkOptionalBoolean,
  checkPrecision,
} from "./_validate.ts";
import { checkSinkhornN } from "./sinkhorn.ts";
import { requireStorageBuffers, streamValues } from "./_streams.ts";
import {
  assertInvariant,
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

import { sinkhornCoreWgsl } from "../kernels/sinkhorn_core.ts";
import { coefficientsDotWgsl } from "../kernels/coefficients_dot.ts";
import { coefficientsWgsl } from "../kernels/coefficients.ts";
import { coefficientsBackwardWgsl } from "../kernels/coefficients_backward.ts";
import { coefficientsGradPhiWgsl } from "../kernels/coefficients_grad_phi.ts";
import { columnSumsWgsl } from "../kernels/column_sums.ts";

/**
 * Tiles of coefficients_dot.wgsl, within 16 KiB of workgroup memory: output
 * lanes (CO_KL), tokens per workgroup (CO_TT = 4 · 64 / CO_KL) and elements
 * of `v` per chunk (CO_CH).
 */
function tileSizes(
  n: number,
): { lanes: number; tokens: number; chunk: number } {
  const lanes = n <= 4 ? 8 : 16;
  return { lanes, tokens: 4 * 64 / lanes, chunk: n <= 6 ? 32 : 16 };
}

/**
 * Rows of `g_φ` per workgroup of coefficients_grad_phi.wgsl, its `GP_RA`
 * (written in when the source is built). The kernel's layout, 8 row groups
 * of 4 rows over 64 invocations, fixes it at 32.
 */
const GRAD_PHI_ROWS = 32;

/** Options of the WebGPU coefficient ops. */
export interface MhcCoefficientsGpuOptions extends MhcCoefficientsOptions {
  /**
   * Storage precision of `x` and `g_x`: `"f32"` (default) or `"f16"` (needs
   * `shader-f16`). Everything else stays f32.
   */
  precision?: StreamPrecision;
}

/** Options of {@linkcode encodeMhcCoefficientsBackward}. */
export interface MhcCoefficientsBackwardGpuOptions
  extends MhcCoefficientsGpuOptions {
  /**
   * `true`: add the gradient of `x` to the values already in `gradX` (read,
   * add in f32, store in the precision of `x`); `false` (default): overwrite
   * them. The parameter gradients are always overwritten.
   */
  accumulate?: boolean;
}

/** Storage buffers of the backward kernel when `α` comes from a buffer. */
const BACKWARD_ALPHA_BUFFER_STORAGE = 9;

/**
 * Buffers of {@linkcode encodeMhcCoefficients}, each with `STORAGE` usage.
 * `K = n² + 2n`.
 */
export interface MhcCoefficientsBuffers {
  /** Residual states `[T, n, C]`, f32 or f16 (`precision`). */
  x: BufferRef;
  /** Projection `φ`, `[n·C, K]` f32. */
  phi: BufferRef;
  /** Bias `b`, `[K]` f32. */
  bias: BufferRef;
  /** Receives `H_pre`, `[T, n]` f32. */
  hPre: BufferRef;
  /** Receives `H_post`, `[T, n]` f32. */
  hPost: BufferRef;
  /** Receives `H_res`, `[T, n, n]` f32. */
  hRes: BufferRef;
  /**
   * Receives what the backward needs: {@linkcode mhcCoefficientsSavedBytes}
   * bytes, rows of `K + 1` rounded up to a multiple of 8 f32s: per token the
   * logits `h` (K), `1/r`, then padding.
   */
  saved: BufferRef;
}

/**
 * Buffers of {@linkcode encodeMhcCoefficientsBackward}, each with `STORAGE`
 * usage. `K = n² + 2n`.
 */
export interface MhcCoefficientsBackwardBuffers {
  /** Residual states `[T, n, C]` given to the forward, f32 or f16. */
  x: BufferRef;
  /** Projection `φ`, `[n·C, K]` f32. */
  phi: BufferRef;
  /** The forward's `saved` buffer. */
  saved: BufferRef;
  /** Upstream gradient of `H_pre`, `[T, n]` f32. */
  gradHPre: BufferRef;
  /** Upstream gradient of `H_post`, `[T, n]` f32. */
  gradHPost: BufferRef;
  /** Upstream gradient of `H_res`, `[T, n, n]` f32. */
  gradHRes: BufferRef;
  /** Receives the gradient of `x`, `[T, n, C]`, in the precision of `x`. */
  gradX: BufferRef;
  /** Receives the gradient of `φ`, `[n·C, K]` f32, summed over tokens. */
  gradPhi: BufferRef;
  /** Receives the gradient of `b`, `[K]` f32, summed over tokens. */
  gradBias: BufferRef;
  /** Receives the gradients of `α_pre`, `α_post`, `α_res`, `[3]` f32. */
  gradAlpha: BufferRef;
  /**
   * Scratch of {@linkcode mhcCoefficientsScratchBytes} bytes; its contents
   * are overwritten.
   */
  scratch: BufferRef;
}

/** Checked sizes and settings. */
interface CoefConfig {
  n: number;
  C: number;
  T: number;
  K: number;
  normEps: number;
  sinkhorn: SinkhornConfig;
  precision: StreamPrecision;
  /** Bytes per stream element. */
  es: number;
}

function coefConfig(
  gpu: MhcGpu,
  options: MhcCoefficientsGpuOptions,
): CoefConfig {
  checkGpu(gpu);
  checkObject("options", options);
  const n = checkSinkhornN(options.n);
  const C = checkPositiveInt("C", options.C);
  const T = checkPositiveInt("T", options.T);
  const normEps = checkNonNegative(
    "normEps",
    options.normEps ?? DEFAULT_NORM_EPS,
    true,
  );
  const sinkhorn = sinkhornConfig(options);
  const precision = checkPrecision(gpu, options.precision);
  return {
    n,
    C,
    T,
    K: n * n + 2 * n,
    normEps,
    sinkhorn,
    precision,
    es: precision === "f16" ? 2 : 4,
  };
}

/** Row length in f32s of `saved`: `K + 1` rounded up to a multiple of 8. */
function savedWidth(K: number): number {
  return Math.ceil((K + 1) / 8) * 8;
}

/** Row length in f32s of the backward scratch: `2K + 3` rounded up to 8. */
function scratchWidth(K: number): number {
  return Math.ceil((2 * K + 3) / 8) * 8;
}

function checkNT(options: { n: number; T: number }): { K: number; T: number } {
  checkObject("options", options);
  const n = checkPositiveInt("n", options.n);
  const T = checkPositiveInt("T", options.T);
  return { K: n * n + 2 * n, T };
}

/**
 * Bytes of the `saved` buffer that {@linkcode encodeMhcCoefficients} writes
 * and {@linkcode encodeMhcCoefficientsBackward} reads: `T` rows of `K + 1`
 * f32s rounded up to a multiple of 8 (`K = n² + 2n`), so that chunks of
 * tokens stay aligned.
 *
 * @param options Sizes `n` and `T`.
 * @returns The byte size.
 * @throws {RangeError} When a size is not a positive integer.
 *
 * @example For n = 4 (K = 24) and 1000 tokens
 * ```ts
 * import { mhcCoefficientsSavedBytes } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(mhcCoefficientsSavedBytes({ n: 4, T: 1000 }), 1000 * 32 * 4);
 * ```
 */
export function mhcCoefficientsSavedBytes(
  options: { n: number; T: number },
): number {
  const { K, T } = checkNT(options);
  return T * savedWidth(K) * 4;
}

/**
 * Bytes of the scratch buffer that {@linkcode encodeMhcCoefficientsBackward}
 * needs: `T` rows of `2K + 3` f32s rounded up to a multiple of 8
 * (`K = n² + 2n`).
 *
 * @param options Sizes `n` and `T`.
 * @returns The byte size.
 * @throws {RangeError} When a size is not a positive integer.
 *
 * @example For n = 4 (K = 24) and 1000 tokens
 * ```ts
 * import { mhcCoefficientsScratchBytes } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(mhcCoefficientsScratchBytes({ n: 4, T: 1000 }), 1000 * 56 * 4);
 * ```
 */
export function mhcCoefficientsScratchBytes(
  options: { n: number; T: number },
): number {
  const { K, T } = checkNT(options);
  return T * scratchWidth(K) * 4;
}

interface CoefPipelines {
  main: GPUComputePipeline;
  gradPhi?: GPUComputePipeline;
  sums?: GPUComputePipeline;
}

/** Which variant of the main kernel: where `α` comes from, accumulation. */
interface Variant {
  alpha: AlphaSource;
  /** Backward only: add to `g_x`. */
  accumulate: boolean;
}

async function pipelines(
  gpu: MhcGpu,
  c: CoefConfig,
  backward: boolean,
  v: Variant,
): Promise<CoefPipelines> {
  const entryPoint = backward
    ? "coefficients_backward"
    : "coefficients_forward";
  const body = backward ? coefficientsBackwardWgsl : coefficientsWgsl;
  const tile = tileSizes(c.n);
  const acc = backward && v.accumulate;
  const mainKey = `coefficients|${entryPoint}|n=${c.n}|${c.precision}|${
    alphaKey(v.alpha)
  }${acc ? "|accumulate" : ""}`;
  const constants: Record<string, number> = {
    N: c.n,
    CO_KL: tile.lanes,
    CO_CH: tile.chunk,
  };
  if (backward) constants.CB_ACCUMULATE = acc ? 1 : 0;
  const main = gpu.pipeline({
    label: entryPoint,
    code: cachedSource(mainKey, () => {
      // coefficients_dot.wgsl loads a chunk's x tile [CO_TT, CO_CH] in
      // CO_TT · CO_CH / 64 rounds of whole rows.
      assertInvariant(
        tile.tokens <= tile.chunk,
        `coefficients_dot.wgsl needs CO_TT <= CO_CH, got ${tile.tokens} > ${tile.chunk}`,
      );
      const widths: Record<string, number> = { SAVED_W: savedWidth(c.K) };
      if (backward) widths.SCRATCH_W = scratchWidth(c.K);
      return withPrecision(
        withConstants(
          sinkhornCoreWgsl + coefficientsDotWgsl + body +
            alphaSourceWgsl(v.alpha),
          { ...constants, ...widths },
        ),
        c.precision,
      );
    }),
    entryPoint,
    key: mainKey,
  });
  if (!backward) return { main: await main };
  const gradPhiKey = `coefficients|grad_phi|n=${c.n}|${c.precision}`;
  const gradPhi = gpu.pipeline({
    label: "coefficients_grad_phi",
    code: cachedSource(gradPhiKey, () =>
      withPrecision(
        withConstants(coefficientsGradPhiWgsl, {
          N: c.n,
          GP_RA: GRAD_PHI_ROWS,
        }),
        c.precision,
      )),
    entryPoint: "coefficients_grad_phi",
    key: gradPhiKey,
  });
  const sums = gpu.pipeline({
    label: "column_sums",
    code: columnSumsWgsl,
    entryPoint: "column_sums",
    key: "column_sums",
  });
  return { main: await main, gradPhi: await gradPhi, sums: await sums };
}

function shapes(c: CoefConfig) {
  const { n, C, T, K } = c;
  const as = ` as ${c.precision}`;
  return {
    x: `[T, n, C] = [${T}, ${n}, ${C}]${as}`,
    phi: `[n·C, K] = [${n * C}, ${K}] as f32`,
    bias: `[K] = [${K}] as f32`,
    tn: `[T, n] = [${T}, ${n}] as f32`,
    tnn: `[T, n, n] = [${T}, ${n}, ${n}] as f32`,
    saved: `[T, ${savedWidth(K)}] as f32`,
    scratch: `[T, ${scratchWidth(K)}] as f32`,
  };
}

function recordForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  p: CoefPipelines,
  b: MhcCoefficientsBuffers,
  alphas: AlphaSource,
  c: CoefConfig,
): void {
  const { n, C, K } = c;
  const s = shapes(c);
  const eps = f32Bits(c.sinkhorn.eps);
  const tt = tileSizes(n).tokens;
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficients",
    pipeline: p.main,
    T: c.T,
    buffers: [
      { name: "x", ref: b.x, bytesPerToken: n * C * c.es, shape: s.x },
      {
        name: "phi",
        ref: b.phi,
        bytesPerToken: 0,
        size: n * C * K * 4,
        shape: s.phi,
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
        bytesPerToken: savedWidth(K) * 4,
        shape: s.saved,
      },
      ...alphaBindings(alphas),
    ],
    workgroups: (tokens) => Math.ceil(tokens / tt),
    params: (tokens) =>
      new Uint32Array([
        tokens,
        n * C,
        c.sinkhorn.iterations,
        f32Bits(c.sinkhorn.tolerance),
        eps,
        f32Bits(c.normEps),
        ...alphaWords(alphas),
      ]),
  });
}

function recordBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  p: CoefPipelines,
  b: MhcCoefficientsBackwardBuffers,
  alphas: AlphaSource,
  c: CoefConfig,
): void {
  const { n, C, K } = c;
  const s = shapes(c);
  const eps = f32Bits(c.sinkhorn.eps);
  const tt = tileSizes(n).tokens;
  const width = scratchWidth(K);
  // The reduction kernels loop when the grid holds fewer workgroups.
  const maxGrid = gpu.limits.maxComputeWorkgroupsPerDimension ** 2;
  const x = { name: "x", ref: b.x, bytesPerToken: n * C * c.es, shape: s.x };
  const scratch = {
    name: "scratch",
    ref: b.scratch,
    bytesPerToken: width * 4,
    shape: s.scratch,
  };
  // Per token: g_x and the partials of the parameter gradients.
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficientsBackward",
    pipeline: p.main,
    T: c.T,
    buffers: [
      x,
      {
        name: "phi",
        ref: b.phi,
        bytesPerToken: 0,
        size: n * C * K * 4,
        shape: s.phi,
      },
      {
        name: "saved",
        ref: b.saved,
        bytesPerToken: savedWidth(K) * 4,
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
    workgroups: (tokens) => Math.ceil(tokens / tt),
    params: (tokens) =>
      new Uint32Array([
        tokens,
        n * C,
        c.sinkhorn.iterations,
        f32Bits(c.sinkhorn.tolerance),
        eps,
        ...alphaWords(alphas),
      ]),
  });
  // g_φ = Σ_t v_t ⊗ g_p[t]: one workgroup per block of φ rows, tokens in
  // order; a later chunk of tokens adds to the earlier ones.
  const entries = n * C * K;
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficientsBackward gradPhi",
    pipeline: p.gradPhi!,
    T: c.T,
    buffers: [
      x,
      scratch,
      {
        name: "gradPhi",
        ref: b.gradPhi,
        bytesPerToken: 0,
        size: entries * 4,
        shape: s.phi,
      },
    ],
    workgroups: () => Math.ceil(n * C / GRAD_PHI_ROWS),
    params: (tokens, first) =>
      new Uint32Array([tokens, n * C, first > 0 ? 1 : 0, width]),
  });
  // g_b = Σ_t g_h[t] and g_α = Σ_t (α partials)[t]: one workgroup per column.
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficientsBackward gradBias gradAlpha",
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
 * Records the fused mHC coefficient forward into `encoder` (see
 * {@linkcode mhcCoefficients}). Large `T` is split into chunks within the
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
 * @param buffers Inputs `x`, `phi`, `bias`; outputs `hPre`, `hPost`, `hRes`
 *   and `saved` (per token the logits, then `1/r`; see
 *   {@linkcode mhcCoefficientsSavedBytes}).
 * @param alphas The three `α` of the site, as numbers or as a buffer of 3
 *   f32.
 * @param options Sizes `n` (1 to 8), `C`, `T`; optional `normEps`,
 *   `iterations`, `eps` and `precision` (of `x`).
 * @returns A promise that resolves once the commands are recorded.
 * @throws {RangeError} When a size or `α` is invalid, a buffer too small or
 *   its offset misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage, or
 *   `alphas` is neither numbers nor a buffer.
 * @throws {GpuError} When f16 is asked for without `shader-f16`.
 *
 * @example Coefficients of GPU-resident states
 * ```ts ignore
 * import {
 *   encodeMhcCoefficients,
 *   MhcGpu,
 *   mhcCoefficientsSavedBytes,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128, K = n * n + 2 * n;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const make = (floats: number) =>
 *   gpu.device.createBuffer({ size: floats * 4, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcCoefficients(gpu, encoder, {
 *   x: make(T * n * C),
 *   phi: make(n * C * K),
 *   bias: make(K),
 *   hPre: make(T * n),
 *   hPost: make(T * n),
 *   hRes: make(T * n * n),
 *   saved: make(mhcCoefficientsSavedBytes({ n, T }) / 4),
 * }, { alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01 }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 *
 * @example α read from a GPU buffer (a trained parameter)
 * ```ts ignore
 * import { encodeMhcCoefficients, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const alphas = gpu.device.createBuffer({
 *   size: 12,
 *   usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
 * });
 * gpu.device.queue.writeBuffer(alphas, 0, new Float32Array([0.01, 0.01, 0.01]));
 * // With x, phi, bias, hPre, hPost, hRes and saved as in the first example:
 * // await encodeMhcCoefficients(gpu, encoder, buffers, alphas, { n, C, T });
 * // or, α inside a larger parameter buffer at an aligned offset:
 * // await encodeMhcCoefficients(gpu, encoder, buffers,
 * //   { buffer: params, offset: 256 }, { n, C, T });
 * ```
 */
export async function encodeMhcCoefficients(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcCoefficientsBuffers,
  alphas: MhcAlphas | BufferRef,
  options: MhcCoefficientsGpuOptions,
): Promise<void> {
  const c = coefConfig(gpu, options);
  checkObject("buffers", buffers);
  const a = checkAlphaSource(alphas, "alphas");
  const p = await pipelines(gpu, c, false, { alpha: a, accumulate: false });
  recordForward(gpu, encoder, p, buffers, a, c);
}

/**
 * Records the mHC coefficient backward into `encoder` (see
 * {@linkcode mhcCoefficientsBackward}): the gradients of `x`, `φ`, `b` and
 * the three `α`. The sums over tokens are deterministic (fixed order, no
 * atomics).
 *
 * `alphas` may be numbers or a buffer of 3 f32 `[α_pre, α_post, α_res]`,
 * as for {@linkcode encodeMhcCoefficients}. The buffer variant binds 9
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
 *   {@linkcode mhcCoefficientsScratchBytes} bytes.
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
 * @example Backward on GPU buffers
 * ```ts ignore
 * import {
 *   encodeMhcCoefficientsBackward,
 *   MhcGpu,
 *   mhcCoefficientsSavedBytes,
 *   mhcCoefficientsScratchBytes,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128, K = n * n + 2 * n;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const make = (bytes: number) => gpu.device.createBuffer({ size: bytes, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcCoefficientsBackward(gpu, encoder, {
 *   x: make(T * n * C * 4),
 *   phi: make(n * C * K * 4),
 *   saved: make(mhcCoefficientsSavedBytes({ n, T })),
 *   gradHPre: make(T * n * 4),
 *   gradHPost: make(T * n * 4),
 *   gradHRes: make(T * n * n * 4),
 *   gradX: make(T * n * C * 4),
 *   gradPhi: make(n * C * K * 4),
 *   gradBias: make(K * 4),
 *   gradAlpha: make(12),
 *   scratch: make(mhcCoefficientsScratchBytes({ n, T })),
 * }, { alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01 }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 *
 * @example Adding to a gradient of x that another path wrote, α from a buffer
 * ```ts ignore
 * import { encodeMhcCoefficientsBackward, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create(); // requests maxStorageBuffersPerShaderStage
 * // buffers as in the first example; gradX already holds the post backward's
 * // gradient of x, and alphas is a 12-byte STORAGE buffer [α_pre, α_post, α_res]:
 * // await encodeMhcCoefficientsBackward(gpu, encoder, buffers, alphas,
 * //   { n, C, T, accumulate: true });
 * ```
 */
export async function encodeMhcCoefficientsBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcCoefficientsBackwardBuffers,
  alphas: MhcAlphas | BufferRef,
  options: MhcCoefficientsBackwardGpuOptions,
): Promise<void> {
  const c = coefConfig(gpu, options);
  const accumulate = checkOptionalBoolean("accumulate", options.accumulate);
  checkObject("buffers", buffers);
  const a = checkAlphaSource(alphas, "alphas");
  if (a.kind === "buffer") {
    requireStorageBuffers(
      gpu,
      BACKWARD_ALPHA_BUFFER_STORAGE,
      "mhcCoefficientsBackward with α in a buffer",
    );
  }
  const p = await pipelines(gpu, c, true, { alpha: a, accumulate });
  recordBackward(gpu, encoder, p, buffers, a, c);
}

function checkParams(params: MhcParams, c: CoefConfig): AlphaSource {
  const { n, C, K } = c;
  checkObject("params", params);
  checkF32(
    "params.phi",
    params.phi,
    n * C * K,
    `[n·C, n²+2n] = [${n * C}, ${K}]`,
  );
  checkF32("params.bias", params.bias, K, `[n²+2n] = [${K}]`);
  return numberAlphas(params, "params");
}

/**
 * {@linkcode mhcCoefficients} on the GPU: the per-token `H_pre`, `H_post`,
 * `H_res`, plus the `logits` and `invRms` that the backward reuses.
 * Float32 arrays only; with `precision: "f16"`, `x` is stored as f16 on the
 * GPU (rounded on upload).
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]`.
 * @param params `φ` `[n·C, K]`, `b` `[K]` and the three `α`.
 * @param options Sizes `n` (1 to 8), `C`, `T`; optional `normEps`,
 *   `iterations`, `eps` and `precision`.
 * @returns `hPre`, `hPost`, `hRes`, `logits` and `invRms`, as the reference.
 * @throws {RangeError} When a size, a length or an `α` is invalid.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example At φ = 0 the coefficients come from the bias alone
 * ```ts ignore
 * import { MhcGpu, mhcCoefficientsGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 2, C = 3, K = n * n + 2 * n;
 * const { hPre } = await mhcCoefficientsGpu(gpu, new Float32Array(n * C).fill(1), {
 *   phi: new Float32Array(n * C * K),
 *   bias: new Float32Array(K),
 *   alphaPre: 0.01,
 *   alphaPost: 0.01,
 *   alphaRes: 0.01,
 * }, { n, C, T: 1 });
 * console.log(hPre[0]); // 0.5
 * ```
 */
export async function mhcCoefficientsGpu(
  gpu: MhcGpu,
  x: Float32Array,
  params: MhcParams<Float32Array>,
  options: MhcCoefficientsGpuOptions,
): Promise<MhcCoefficients<Float32Array>> {
  const c = coefConfig(gpu, options);
  const { n, C, T, K } = c;
  checkF32("x", x, T * n * C, `[T, n, C] = [${T}, ${n}, ${C}]`);
  const a = checkParams(params, c);
  const sw = savedWidth(K);
  const p = await pipelines(gpu, c, false, { alpha: a, accumulate: false });
  const [hPre, hPost, hRes, saved] = await gpu.compute(
    "mhcCoefficients",
    (ctx) => {
      const b: MhcCoefficientsBuffers = {
        x: ctx.uploadStreams(x, c.precision, "x"),
        phi: ctx.upload(params.phi, "phi"),
        bias: ctx.upload(params.bias, "bias"),
        hPre: ctx.output(T * n * 4, "hPre"),
        hPost: ctx.output(T * n * 4, "hPost"),
        hRes: ctx.output(T * n * n * 4, "hRes"),
        saved: ctx.output(mhcCoefficientsSavedBytes({ n, T }), "saved"),
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
  const logits = new Float32Array(T * K), invRms = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    logits.set(packed.subarray(t * sw, t * sw + K), t * K);
    invRms[t] = packed[t * sw + K];
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
 * {@linkcode mhcCoefficientsBackward} on the GPU: the gradients of `x`, `φ`,
 * `b` and the three `α` (parameter gradients summed over tokens in a fixed
 * order). Float32 arrays only; with `precision: "f16"`, `x` and `g_x` are
 * stored as f16 on the GPU.
 *
 * @param gpu The runtime.
 * @param x The residual states `[T, n, C]` given to the forward.
 * @param params The parameters given to the forward.
 * @param forward The forward's result (its `logits` and `invRms` are used).
 * @param grads Upstream gradients of `hPre`, `hPost` and `hRes`.
 * @param options The forward's options.
 * @returns Gradients of `x`, `phi`, `bias`, `alphaPre`, `alphaPost`, `alphaRes`.
 * @throws {RangeError} When a size or a length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example Gradients of a tiny site
 * ```ts ignore
 * import {
 *   MhcGpu,
 *   mhcCoefficientsBackwardGpu,
 *   mhcCoefficientsGpu,
 * } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 2, C = 2, T = 1, K = n * n + 2 * n;
 * const x = new Float32Array([1, -2, 0.5, 3]);
 * const params = {
 *   phi: new Float32Array(n * C * K).fill(0.1),
 *   bias: new Float32Array(K),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = await mhcCoefficientsGpu(gpu, x, params, { n, C, T });
 * const g = await mhcCoefficientsBackwardGpu(gpu, x, params, fwd, {
 *   hPre: new Float32Array([1, -1]),
 *   hPost: new Float32Array([0.5, 0.2]),
 *   hRes: new Float32Array([1, 0, 0, -1]),
 * }, { n, C, T });
 * console.log(g.phi.length); // 16
 * ```
 */
export async function mhcCoefficientsBackwardGpu(
  gpu: MhcGpu,
  x: Float32Array,
  params: MhcParams<Float32Array>,
  forward: MhcCoefficients<Float32Array>,
  grads: MhcCoefficientGrads<Float32Array>,
  options: MhcCoefficientsGpuOptions,
): Promise<MhcParamGrads<Float32Array>> {
  const c = coefConfig(gpu, options);
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
  checkF32("forward.invRms", forward.invRms, T, `[T] = [${T}]`);
  checkObject("grads", grads);
  checkF32("grads.hPre", grads.hPre, T * n, `[T, n] = [${T}, ${n}]`);
  checkF32("grads.hPost", grads.hPost, T * n, `[T, n] = [${T}, ${n}]`);
  checkF32(
    "grads.hRes",
    grads.hRes,
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  const sw = savedWidth(K);
  const saved = new Float32Array(T * sw);
  for (let t = 0; t < T; t++) {
    saved.set(forward.logits.subarray(t * K, t * K + K), t * sw);
    saved[t * sw + K] = forward.invRms[t];
  }
  const p = await pipelines(gpu, c, true, { alpha: a, accumulate: false });
  const xBytes = T * n * C * c.es;
  const [gx, gPhi, gBias, gAlpha] = await gpu.compute(
    "mhcCoefficientsBackward",
    (ctx) => {
      const b: MhcCoefficientsBackwardBuffers = {
        x: ctx.uploadStreams(x, c.precision, "x"),
        phi: ctx.upload(params.phi, "phi"),
        saved: ctx.upload(saved, "saved"),
        gradHPre: ctx.upload(grads.hPre, "gradHPre"),
        gradHPost: ctx.upload(grads.hPost, "gradHPost"),
        gradHRes: ctx.upload(grads.hRes, "gradHRes"),
        gradX: ctx.output(xBytes, "gradX"),
        gradPhi: ctx.output(n * C * K * 4, "gradPhi"),
        gradBias: ctx.output(K * 4, "gradBias"),
        gradAlpha: ctx.output(12, "gradAlpha"),
        scratch: ctx.output(mhcCoefficientsScratchBytes({ n, T }), "scratch"),
      };
      recordBackward(gpu, ctx.encoder, p, b, a, c);
      return [
        { buffer: b.gradX as GPUBuffer, bytes: xBytes },
        { buffer: b.gradPhi as GPUBuffer, bytes: n * C * K * 4 },
        { buffer: b.gradBias as GPUBuffer, bytes: K * 4 },
        { buffer: b.gradAlpha as GPUBuffer, bytes: 12 },
      ];
    },
  );
  const alpha = new Float32Array(gAlpha);
  return {
    x: streamValues(gx, c, T * n * C),
    phi: new Float32Array(gPhi),
    bias: new Float32Array(gBias),
    alphaPre: alpha[0],
    alphaPost: alpha[1],
    alphaRes: alpha[2],
  };
}
