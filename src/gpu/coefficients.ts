// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The mHC coefficient pass on WebGPU (SPEC §3), forward and backward, with
 * the semantics of the reference {@linkcode mhcCoefficients} and
 * {@linkcode mhcCoefficientsBackward}.
 *
 * The pass is a skinny product `[T, nC] × [nC, K]` plus per-token work.
 * Every kernel gives one invocation a whole row of the product, its `K`
 * sums in registers, and walks the shared dimension in order, in blocks
 * whose loops the host unrolls: then the operand that is not the
 * invocation's own (a row of `φ`, or a token's `g_p`) is the same for every
 * invocation of a workgroup at each step, and is read at a constant index.
 * The projection `v·φ` first copies its block of `φ` into workgroup memory
 * (one barrier), where such a read is one broadcast operand on lavapipe; the
 * backward blocks read theirs from storage, one uniform load serving the
 * whole workgroup. On lavapipe the forward runs ~10× faster than the
 * register tiles staged through workgroup memory that came before
 * (bench/RESULTS.md).
 *
 * Forward: one fused kernel, one invocation per token (64
 * per workgroup): `v·φ` and `Σv²` in one read of the token's states, the
 * scale `1/r`, `α`, bias, sigmoid and `2·sigmoid`, and the Sinkhorn
 * projection, all in registers. Besides `H_pre`, `H_post` and `H_res` it
 * writes a small `saved` buffer (per token the logits `h`, `1/r` and the
 * projection `p = v·φ`) for the backward.
 *
 * Backward: a kernel with one invocation per token (exact Sinkhorn backward
 * recomputed in registers, `g_x` in one read of the states, per-token
 * partials in a scratch buffer), then `g_φ = Σ_t v_t ⊗ g_p,t` with one
 * invocation per row of `φ` walking the tokens in order, and a kernel that
 * sums the other partials over tokens: `g_φ`, `g_b` and the three `g_α`
 * are summed in a fixed order, deterministic, no atomics.
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

import {
  bufferOf,
  type BufferRef,
  type MhcGpu,
  offsetOf,
  type StreamPrecision,
} from "./runtime.ts";
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
import { streamValues } from "./_streams.ts";
import {
  cachedSource,
  f32Bits,
  unrollAndFold,
  withConstants,
  withPrecision,
  withVectorWidth,
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
import { coefficientsWgsl } from "../kernels/coefficients.ts";
import { coefficientsBackwardWgsl } from "../kernels/coefficients_backward.ts";
import { coefficientsGradPhiWgsl } from "../kernels/coefficients_grad_phi.ts";
import { coefficientsGradXWgsl } from "../kernels/coefficients_grad_x.ts";
import { coefficientsProjectWgsl } from "../kernels/coefficients_project.ts";
import { columnSumsWgsl } from "../kernels/column_sums.ts";

/** Tokens (invocations) per workgroup of the per-token kernels (`CO_WG`). */
const CO_WG = 64;
/** Rows of `g_φ` (invocations) per workgroup of coefficients_grad_phi.wgsl (`GP_WG`). */
const GP_WG = 32;
/** Tokens per sub-block of the blocked `g_φ` sums (`GP_TC`). */
const GP_TC = 32;
/** Tuning of the coefficient block kernels; see {@linkcode coefficientTuning}. */
export interface CoefficientTuning {
  /**
   * The multiply-adds per invocation that an unrolled block aims at; blocks
   * of `φ` rows (or of tokens, for `g_φ`) hold about this many divided by
   * `K`.
   */
  unrolledFmas: number;
  /**
   * Outputs of the projection summed per pass over a block of `φ` rows
   * (`x` is read once per pass); `K` when 0 or not a divisor of `K`.
   */
  projectOutputs: number;
  /** Read and write `x` and `g_x` as vec4 when `C % 4 == 0`. */
  vectorX: boolean;
  /**
   * Read `φ` in the `g_x` blocks (and in a projection given by `sources`)
   * as vec4, one uniform load for 4 values, when `K % 4 == 0` and the
   * projection's outputs per pass are a multiple of 4.
   */
  vectorPhi: boolean;
  /**
   * Copy the projection's block of `φ` into workgroup memory as vec4 when
   * the projection's outputs per pass are a multiple of 4.
   */
  vectorPhiCopy: boolean;
  /** Read `g_p` in the `g_φ` blocks as vec4, one uniform load for 4 values. */
  vectorGradP: boolean;
  /** Read and write rows of `g_φ` as vec4 when `K % 4 == 0` (`n` even). */
  vectorGradPhi: boolean;
  /**
   * Other sources of the block kernels (bench variants), with a tag for the
   * pipeline cache; each must keep the bindings, constants and loop bounds
   * of the library's kernel it replaces.
   */
  sources?: {
    tag: string;
    project?: string;
    gradX?: string;
    gradPhi?: string;
  };
}

/**
 * Tuning of the block kernels. Larger blocks mean fewer launches and fewer
 * passes over the running sums, but longer shaders to compile (measured on
 * lavapipe in bench/coefficient_variants.ts, with the vec4 switches).
 * Internal: the bench changes it to time variants; pipelines are cached by
 * the resulting block sizes, widths and sources.
 */
export const coefficientTuning: CoefficientTuning = {
  unrolledFmas: 1536,
  projectOutputs: 0,
  vectorX: true,
  vectorPhi: false,
  vectorPhiCopy: true,
  vectorGradP: true,
  vectorGradPhi: true,
};

/**
 * Terms per sub-block of the blocked sums over `nC` (`CO_CH`): 32, or 16 for
 * `n > 6`.
 */
function blockTerms(n: number): number {
  return n <= 6 ? 32 : 16;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Smallest count of items of `bytes` bytes whose span is a multiple of `align`. */
function alignQuantum(bytes: number, align: number): number {
  return align / gcd(align, bytes);
}

/** `unrolledFmas / K` rounded down to a multiple of `step`, and at least `step`. */
function blockOf(step: number, K: number): number {
  const target = coefficientTuning.unrolledFmas / K;
  return Math.max(step, Math.floor(target / step) * step);
}

/**
 * Rows of `φ` per block (`CO_CB`): a multiple of the sub-block `CO_CH`
 * whose span of `φ` (`CO_CB · K` f32) keeps block offsets aligned.
 */
function phiBlockRows(gpu: MhcGpu, c: CoefConfig): number {
  const q = alignQuantum(c.K * 4, gpu.limits.minStorageBufferOffsetAlignment);
  const ch = blockTerms(c.n);
  return blockOf(q * ch / gcd(q, ch), c.K);
}

/**
 * Tokens per block of `g_φ` (`GP_TB`): a multiple of `GP_TC` whose rows of
 * `x` and of the scratch keep block offsets aligned.
 */
function gradPhiBlockTokens(gpu: MhcGpu, c: CoefConfig): number {
  const align = gpu.limits.minStorageBufferOffsetAlignment;
  let step = GP_TC;
  for (const bytes of [c.n * c.C * c.es, scratchWidth(c.K) * 4]) {
    const q = alignQuantum(bytes, align);
    step = step * q / gcd(step, q);
  }
  return blockOf(step, c.K);
}

/**
 * Channels per load of `x` and `g_x` in the block kernels: 4 when `C` is a
 * multiple of 4 (every row of `x`, and every block of `φ` rows, then starts
 * on a vec4), else 1.
 */
function xWidth(c: CoefConfig): 1 | 4 {
  return coefficientTuning.vectorX && c.C % 4 === 0 ? 4 : 1;
}

/** A buffer reference `delta` bytes further into the same buffer. */
function shifted(ref: BufferRef, delta: number): BufferRef {
  if (typeof ref !== "object" || ref === null) return ref;
  return { buffer: bufferOf(ref), offset: offsetOf(ref) + delta };
}

/**
 * Throws unless the buffer of `ref` holds `bytes` bytes from its offset
 * (type, usage and alignment are checked by `encodeTokens`, which binds it
 * in blocks).
 */
function checkSpan(
  name: string,
  ref: BufferRef,
  bytes: number,
  shape: string,
): void {
  if (typeof ref !== "object" || ref === null) return;
  const buffer: unknown = bufferOf(ref);
  if (typeof buffer !== "object" || buffer === null) return;
  const size = (buffer as { size?: unknown }).size;
  const offset = offsetOf(ref);
  if (typeof size === "number" && size < offset + bytes) {
    throw new RangeError(
      `${name} must hold ${bytes} bytes (${shape}) from offset ${offset}, got a buffer of ${size} bytes`,
    );
  }
}

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
   * bytes, one row of a multiple of 8 f32s per token: the logits `h` (K),
   * `1/r`, the projection `p = v·φ` (K, from a multiple of 4), `Σv²`, and
   * padding.
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

const up = (v: number, m: number) => Math.ceil(v / m) * m;

/**
 * Layout of a row of `saved` (f32 offsets): the logits at 0, `1/r` at `K`,
 * `p` from `pOff` (a multiple of 4, `K` values padded to whole vec4), `Σv²`
 * at `sqOff` (a multiple of 4); `width` a multiple of 8.
 */
function savedLayout(
  K: number,
): { pOff: number; sqOff: number; width: number } {
  const pOff = up(K + 1, 4), sqOff = pOff + up(K, 4);
  return { pOff, sqOff, width: up(sqOff + 1, 8) };
}

/** Row length in f32s of `saved`. */
function savedWidth(K: number): number {
  return savedLayout(K).width;
}

/**
 * Layout of a backward scratch row (f32 offsets): `g_h` at 0, the three α
 * partial sums at `K`, `g_p` from `gOff` (a multiple of 4, `K` values padded
 * to whole vec4), the coefficient of `v` at `coefOff`; `width` a multiple of
 * 8.
 */
function scratchLayout(
  K: number,
): { gOff: number; coefOff: number; width: number } {
  const gOff = up(K + 3, 4), coefOff = gOff + up(K, 4);
  return { gOff, coefOff, width: up(coefOff + 1, 8) };
}

/** Row length in f32s of the backward scratch. */
function scratchWidth(K: number): number {
  return scratchLayout(K).width;
}

function checkNT(options: { n: number; T: number }): { K: number; T: number } {
  checkObject("options", options);
  const n = checkPositiveInt("n", options.n);
  const T = checkPositiveInt("T", options.T);
  return { K: n * n + 2 * n, T };
}

/**
 * Bytes of the `saved` buffer that {@linkcode encodeMhcCoefficients} writes
 * and {@linkcode encodeMhcCoefficientsBackward} reads: `T` rows of f32s (the
 * logits and `1/r`, `K + 1`, rounded up to a multiple of 4; the projection
 * `v·φ`, `K` rounded up to a multiple of 4; `Σv²`), each row rounded up to a
 * multiple of 8 (`K = n² + 2n`), so that chunks of tokens stay aligned and
 * the kernels read `v·φ` as vec4.
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
 * assertEquals(mhcCoefficientsSavedBytes({ n: 4, T: 1000 }), 1000 * 56 * 4);
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
 * needs: `T` rows of f32s (per token `K + 3` partial sums rounded up to a
 * multiple of 4, the `K` values of `g_p` rounded up to a multiple of 4, one
 * coefficient), each row rounded up to a multiple of 8 (`K = n² + 2n`).
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
  /** The projection blocks (forward; also the convenience backward). */
  project: GPUComputePipeline;
  /** Forward: the per-token epilogue. Backward: the per-token gradients. */
  main: GPUComputePipeline;
  gradX?: GPUComputePipeline;
  gradPhi?: GPUComputePipeline;
  sums?: GPUComputePipeline;
  /** Rows of φ per block. */
  rows: number;
  /** Tokens per block of g_φ. */
  tokens: number;
}

/** Which variant of the main kernel: where `α` comes from, accumulation. */
interface Variant {
  alpha: AlphaSource;
  /** Backward only: add to `g_x`. */
  accumulate: boolean;
}

/** A pipeline of an unrolled block kernel. */
function blockPipeline(
  gpu: MhcGpu,
  c: CoefConfig,
  name: string,
  code: string,
  constants: Record<string, number>,
  loops: Record<string, number>,
  vectors: Record<string, 1 | 4>,
): Promise<GPUComputePipeline> {
  const tag = coefficientTuning.sources?.tag;
  const key = `coefficients|${name}|n=${c.n}|${c.precision}` +
    (tag ? `|src=${tag}` : "") +
    Object.entries({ ...constants, ...vectors }).map(([k, v]) => `|${k}=${v}`)
      .join("");
  return gpu.pipeline({
    label: name,
    code: cachedSource(key, () => {
      let src = withConstants(code, constants);
      for (const [v, w] of Object.entries(vectors)) {
        if (w === 4) src = withVectorWidth(src, v, w);
      }
      return withPrecision(
        unrollAndFold(src, { ...loops, ...vectors }, constants),
        c.precision,
      );
    }),
    entryPoint: name,
    key,
  });
}

async function pipelines(
  gpu: MhcGpu,
  c: CoefConfig,
  backward: boolean,
  v: Variant,
): Promise<CoefPipelines> {
  const { n, K } = c;
  const rows = phiBlockRows(gpu, c);
  const ch = blockTerms(n);
  const t = coefficientTuning;
  const XW = xWidth(c);
  const KQ = Math.ceil(K / 4);
  const KG = K % t.projectOutputs === 0 ? t.projectOutputs : K;
  const PW = t.vectorPhi && KG % 4 === 0 ? 4 : 1;
  // The library's projection copies its block of φ into workgroup memory,
  // CO_SQ loads of PPW values per invocation (a bench source reads φ PW
  // values at a time and copies nothing).
  const PPW = t.sources?.project ? PW : t.vectorPhiCopy && KG % 4 === 0 ? 4 : 1;
  const copyLoads = Math.ceil(rows * K / PPW / CO_WG);
  const copyBytes = copyLoads * CO_WG * PPW * 4;
  const wgLimit = gpu.device.limits.maxComputeWorkgroupStorageSize;
  if (!t.sources?.project && copyBytes > wgLimit) {
    throw new Error(
      `The projection's copy of φ needs ${copyBytes} bytes of workgroup memory, the device allows ${wgLimit}`,
    );
  }
  const saved = savedLayout(K), scratch = scratchLayout(K);
  const project = blockPipeline(
    gpu,
    c,
    "coefficients_project",
    t.sources?.project ?? coefficientsProjectWgsl,
    {
      N: n,
      CO_WG,
      CO_CB: rows,
      CO_CH: ch,
      SAVED_W: saved.width,
      P_OFF: saved.pOff,
      SQ_OFF: saved.sqOff,
      ...(t.sources?.project ? {} : { CO_KG: KG }),
    },
    {
      K,
      KQ,
      CO_SB: rows / ch,
      CO_CH: ch,
      CO_CQ: ch / XW,
      CO_KG: KG,
      CO_GN: K / KG,
      CO_PQ: KG / PPW,
      CO_SQ: copyLoads,
    },
    { XW, PW: PPW },
  );
  const entryPoint = backward
    ? "coefficients_backward"
    : "coefficients_forward";
  const body = backward ? coefficientsBackwardWgsl : coefficientsWgsl;
  const mainKey = `coefficients|${entryPoint}|n=${n}|${alphaKey(v.alpha)}`;
  const main = gpu.pipeline({
    label: entryPoint,
    code: cachedSource(
      mainKey,
      () =>
        withConstants(sinkhornCoreWgsl + body + alphaSourceWgsl(v.alpha), {
          N: n,
          CO_WG,
          SAVED_W: saved.width,
          P_OFF: saved.pOff,
          ...(backward
            ? {
              SCRATCH_W: scratch.width,
              G_OFF: scratch.gOff,
              COEF_OFF: scratch.coefOff,
            }
            : { SQ_OFF: saved.sqOff }),
        }),
    ),
    entryPoint,
    key: mainKey,
  });
  if (!backward) {
    return {
      project: await project,
      main: await main,
      rows,
      tokens: 0,
    };
  }
  const tokens = gradPhiBlockTokens(gpu, c);
  const GW = t.vectorGradPhi && K % 4 === 0 ? 4 : 1;
  const GPW = t.vectorGradP ? 4 : 1;
  const gradX = blockPipeline(
    gpu,
    c,
    "coefficients_grad_x",
    t.sources?.gradX ?? coefficientsGradXWgsl,
    {
      N: n,
      CO_WG,
      CO_CB: rows,
      CB_ACCUMULATE: v.accumulate ? 1 : 0,
      SCRATCH_W: scratch.width,
      G_OFF: scratch.gOff,
      COEF_OFF: scratch.coefOff,
    },
    { K, KQ, CO_CB: rows, CO_CQ: rows / XW, CB_PQ: K / PW },
    { XW, PW },
  );
  const gradPhi = blockPipeline(
    gpu,
    c,
    "coefficients_grad_phi",
    t.sources?.gradPhi ?? coefficientsGradPhiWgsl,
    {
      N: n,
      GP_WG,
      GP_TB: tokens,
      GP_TC,
      SCRATCH_W: scratch.width,
      G_OFF: scratch.gOff,
    },
    {
      K,
      KQ,
      GQ: K / GW,
      GPQ: KQ * 4 / GPW,
      GP_SB: tokens / GP_TC,
      GP_TC,
    },
    { GW, GPW },
  );
  const sums = gpu.pipeline({
    label: "column_sums",
    code: columnSumsWgsl,
    entryPoint: "column_sums",
    key: "column_sums",
  });
  return {
    project: await project,
    main: await main,
    gradX: await gradX,
    gradPhi: await gradPhi,
    sums: await sums,
    rows,
    tokens,
  };
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

/**
 * The projection blocks: `p = v·φ` and `Σv²` of every token into its row
 * of `b.saved`, one block of `p.rows` rows of `φ` per launch, in order.
 */
function recordProject(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  p: CoefPipelines,
  b: { x: BufferRef; phi: BufferRef; saved: BufferRef },
  c: CoefConfig,
  label: string,
): void {
  const { n, C, K } = c;
  const s = shapes(c);
  const nc = n * C;
  checkSpan("phi", b.phi, nc * K * 4, s.phi);
  for (let c0 = 0; c0 < nc; c0 += p.rows) {
    const rows = Math.min(p.rows, nc - c0);
    gpu.encodeTokens(encoder, {
      label,
      pipeline: p.project,
      T: c.T,
      buffers: [
        { name: "x", ref: b.x, bytesPerToken: nc * c.es, shape: s.x },
        {
          name: "phi",
          ref: shifted(b.phi, c0 * K * 4),
          bytesPerToken: 0,
          size: rows * K * 4,
          shape: s.phi,
        },
        {
          name: "saved",
          ref: b.saved,
          bytesPerToken: savedWidth(K) * 4,
          shape: s.saved,
        },
      ],
      workgroups: (tokens) => Math.ceil(tokens / CO_WG),
      params: (tokens) =>
        new Uint32Array([tokens, nc, c0, rows, c0 === 0 ? 1 : 0]),
    });
  }
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
  recordProject(gpu, encoder, p, b, c, "mhcCoefficients projection");
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficients",
    pipeline: p.main,
    T: c.T,
    buffers: [
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
    workgroups: (tokens) => Math.ceil(tokens / CO_WG),
    params: (tokens) =>
      new Uint32Array([
        tokens,
        n * C,
        c.sinkhorn.iterations,
        f32Bits(c.sinkhorn.tolerance),
        f32Bits(c.sinkhorn.eps),
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
  const { n, C, K, T } = c;
  const s = shapes(c);
  const nc = n * C;
  const width = scratchWidth(K);
  const rowBytes = nc * c.es;
  // The reduction kernels loop when the grid holds fewer workgroups.
  const maxGrid = gpu.limits.maxComputeWorkgroupsPerDimension ** 2;
  const scratch = {
    name: "scratch",
    ref: b.scratch,
    bytesPerToken: width * 4,
    shape: s.scratch,
  };
  // Per token: g_h, g_p, the α partial sums and the coefficient of v.
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficientsBackward",
    pipeline: p.main,
    T,
    buffers: [
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
      scratch,
      ...alphaBindings(alphas),
    ],
    workgroups: (tokens) => Math.ceil(tokens / CO_WG),
    params: (tokens) =>
      new Uint32Array([
        tokens,
        nc,
        c.sinkhorn.iterations,
        f32Bits(c.sinkhorn.tolerance),
        f32Bits(c.sinkhorn.eps),
        ...alphaWords(alphas),
      ]),
  });
  // g_x = φ·g_p + coef·v, one block of φ rows per launch.
  checkSpan("phi", b.phi, nc * K * 4, s.phi);
  for (let c0 = 0; c0 < nc; c0 += p.rows) {
    const rows = Math.min(p.rows, nc - c0);
    gpu.encodeTokens(encoder, {
      label: "mhcCoefficientsBackward gradX",
      pipeline: p.gradX!,
      T,
      buffers: [
        { name: "x", ref: b.x, bytesPerToken: rowBytes, shape: s.x },
        {
          name: "phi",
          ref: shifted(b.phi, c0 * K * 4),
          bytesPerToken: 0,
          size: rows * K * 4,
          shape: s.phi,
        },
        scratch,
        { name: "gradX", ref: b.gradX, bytesPerToken: rowBytes, shape: s.x },
      ],
      workgroups: (tokens) => Math.ceil(tokens / CO_WG),
      params: (tokens) => new Uint32Array([tokens, nc, c0, rows]),
    });
  }
  // g_φ = Σ_t v_t ⊗ g_p[t]: one invocation per row of φ, one block of
  // tokens per launch, in token order; later blocks add to the sum so far.
  checkSpan("x", b.x, T * rowBytes, s.x);
  checkSpan("scratch", b.scratch, T * width * 4, s.scratch);
  for (let t0 = 0; t0 < T; t0 += p.tokens) {
    const count = Math.min(p.tokens, T - t0);
    gpu.encodeTokens(encoder, {
      label: "mhcCoefficientsBackward gradPhi",
      pipeline: p.gradPhi!,
      T: count,
      buffers: [
        {
          name: "x",
          ref: shifted(b.x, t0 * rowBytes),
          bytesPerToken: rowBytes,
          shape: s.x,
        },
        {
          name: "scratch",
          ref: shifted(b.scratch, t0 * width * 4),
          bytesPerToken: width * 4,
          shape: s.scratch,
        },
        {
          name: "gradPhi",
          ref: b.gradPhi,
          bytesPerToken: 0,
          size: nc * K * 4,
          shape: s.phi,
        },
      ],
      workgroups: () => Math.ceil(nc / GP_WG),
      params: (tokens, first) =>
        new Uint32Array([tokens, nc, t0 + first > 0 ? 1 : 0]),
    });
  }
  // g_b = Σ_t g_h[t] and g_α = Σ_t (α partials)[t]: one workgroup per column.
  gpu.encodeTokens(encoder, {
    label: "mhcCoefficientsBackward gradBias gradAlpha",
    pipeline: p.sums!,
    T,
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
 * `α` trained on the GPU, with no new uniform buffer per value. No launch
 * binds more than 6 storage buffers.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder; nothing is submitted.
 * @param buffers Inputs `x`, `phi`, `bias`; outputs `hPre`, `hPost`, `hRes`
 *   and `saved` (per token the logits, `1/r` and `v·φ`; see
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
 * as for {@linkcode encodeMhcCoefficients}. No launch binds more than 6
 * storage buffers, so WebGPU's default limits suffice.
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
 * @throws {GpuError} When f16 is asked for without `shader-f16`.
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
 * const gpu = await MhcGpu.create();
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
      // The forward's logits and 1/r are given; its projection is not.
      recordProject(
        gpu,
        ctx.encoder,
        p,
        b,
        c,
        "mhcCoefficientsBackward projection",
      );
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
