// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The unconstrained hyper-connections (HC) coefficient pass, the baseline of
 * SPEC §6, and its backward. Per stream `j` of a token, with the per-stream
 * RMS-normalised state `x̃_j = x_j / sqrt(mean(x_j²) + ε_norm)`:
 *
 * ```
 * H_pre[j]     = α_pre ·tanh(θ_pre ·x̃_j)  + b_pre[j]
 * H_post[j]    = α_post·tanh(θ_post·x̃_j)  + b_post[j]
 * H_res[i][j]  = α_res ·tanh(θ_res[i]·x̃_j) + b_res[i][j]
 * ```
 *
 * No sigmoid and no Sinkhorn. The RMSNorm weight is absorbed into `θ`
 * (project choice, as for `φ` in mHC).
 *
 * @module
 */

import type { FloatArray } from "./types.ts";
import {
  checkArray,
  checkDisjoint,
  checkFinite,
  checkNonNegative,
  checkObject,
  checkPositiveInt,
  checkSameType,
} from "../_validate.ts";
import { checkWorkspace, DEFAULT_NORM_EPS, outArray } from "./coefficients.ts";
import { scratch64, SLOT } from "./_scratch.ts";

/**
 * Parameters of one HC site. `K = n² + 2n`; segments `[pre (n), post (n),
 * res (n²)]` as in mHC.
 */
export interface HcParams<A extends FloatArray = FloatArray> {
  /**
   * `θ`, `[n + 2, C]` row-major: row 0 is `θ_pre`, row 1 is `θ_post`, and
   * row `2 + i` is row `i` of `θ_res`.
   */
  theta: A;
  /** Bias `[K]`: `b_pre`, `b_post`, then `b_res` row-major. */
  bias: A;
  /** Scale of `tanh` in `H_pre`. */
  alphaPre: number;
  /** Scale of `tanh` in `H_post`. */
  alphaPost: number;
  /** Scale of `tanh` in `H_res`. */
  alphaRes: number;
}

/** Options of {@linkcode hcCoefficients} and its backward. */
export interface HcCoefficientsOptions {
  /** Streams per token, `n >= 1`. */
  n: number;
  /** Channels per stream, `C >= 1`. */
  C: number;
  /** Tokens, `T >= 1`. */
  T: number;
  /** `ε_norm` of the per-stream RMSNorm, `> 0`. Default `1e-6`. */
  normEps?: number;
}

/** Output of {@linkcode hcCoefficients}. */
export interface HcCoefficients<A extends FloatArray = FloatArray> {
  /** `[T, n]`. */
  hPre: A;
  /** `[T, n]`. */
  hPost: A;
  /** `[T, n, n]`, row `i` = output stream `i`. */
  hRes: A;
  /** Pre-`tanh` values `θ_r·x̃_j`, `[T, K]` in the segment layout (kept for the backward). */
  logits: A;
  /** `1 / r_j` per token and stream, `[T, n]` (kept for the backward). */
  invRms: A;
}

/** Gradients returned by {@linkcode hcCoefficientsBackward}. */
export interface HcParamGrads<A extends FloatArray = FloatArray> {
  /** `[T, n, C]`. */
  x: A;
  /** `[n + 2, C]`, summed over tokens. */
  theta: A;
  /** `[K]`, summed over tokens. */
  bias: A;
  /** Summed over tokens. */
  alphaPre: number;
  /** Summed over tokens. */
  alphaPost: number;
  /** Summed over tokens. */
  alphaRes: number;
}

/**
 * Options of {@linkcode hcCoefficients}: the sizes and settings, and
 * optional arrays to write the results into.
 */
export interface HcCoefficientsOutputOptions<A extends FloatArray = FloatArray>
  extends HcCoefficientsOptions {
  /**
   * Where to write the results: any of `hPre` `[T, n]`, `hPost` `[T, n]`,
   * `hRes` `[T, n, n]`, `logits` `[T, n²+2n]` and `invRms` `[T, n]`, each of
   * the same type as `x`. Each one given is filled and returned in its
   * place; the others are allocated. With all five the call constructs no
   * array. They must not share memory with `x`, the parameters or one
   * another.
   *
   * @example Reuse the coefficient arrays across calls
   * ```ts
   * import { hcCoefficients } from "@birkhoff/mhc";
   * import { assertStrictEquals } from "@std/assert";
   *
   * const n = 2, C = 3, T = 1, K = n * n + 2 * n;
   * const params = {
   *   theta: new Float32Array((n + 2) * C), bias: new Float32Array(K),
   *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
   * };
   * const out = {
   *   hPre: new Float32Array(T * n), hPost: new Float32Array(T * n),
   *   hRes: new Float32Array(T * n * n), logits: new Float32Array(T * K),
   *   invRms: new Float32Array(T * n),
   * };
   * const x = new Float32Array(T * n * C).fill(1);
   * const coef = hcCoefficients(x, params, { n, C, T, out });
   * assertStrictEquals(coef.hPre, out.hPre);
   * ```
   */
  out?: Partial<HcCoefficients<A>>;
}

/** The array outputs of {@linkcode hcCoefficientsBackward}. */
export interface HcParamGradArrays<A extends FloatArray = FloatArray> {
  /** Gradient with respect to `x`, `[T, n, C]`. */
  x: A;
  /** Gradient with respect to `θ`, `[n + 2, C]`. */
  theta: A;
  /** Gradient with respect to `b`, `[K]`. */
  bias: A;
}

/**
 * Options of {@linkcode hcCoefficientsBackward}: the forward's options, and
 * optional arrays to write the gradients into.
 */
export interface HcCoefficientsBackwardOptions<
  A extends FloatArray = FloatArray,
> extends HcCoefficientsOptions {
  /**
   * Where to write the gradients: any of `x` `[T, n, C]`, `theta`
   * `[n + 2, C]` and `bias` `[K]` (`K = n² + 2n`), each of the same type as
   * `x`. Each one given is filled (overwritten, not added to) and returned
   * in its place; the others are allocated. They must not share memory with
   * any input or with one another.
   */
  out?: Partial<HcParamGradArrays<A>>;
  /**
   * Float64 scratch of `(n + 3)·C` values (the `θ` gradient sums and one
   * token's `x` gradient), reused instead of new arrays. Its contents on
   * entry do not matter. With it and all three `out` arrays the call
   * constructs no array that grows with `T` or `C` (the rest of its scratch
   * is `O(n²)` and kept between calls).
   */
  workspace?: Float64Array;
}

interface Checked {
  n: number;
  C: number;
  T: number;
  K: number;
  normEps: number;
}

function checkArgs(
  x: unknown,
  params: HcParams,
  options: HcCoefficientsOptions,
): Checked {
  checkObject("options", options);
  const n = checkPositiveInt("n", options.n);
  const C = checkPositiveInt("C", options.C);
  const T = checkPositiveInt("T", options.T);
  const normEps = checkNonNegative(
    "normEps",
    options.normEps ?? DEFAULT_NORM_EPS,
    true,
  );
  const K = n * n + 2 * n;
  const xs = checkArray("x", x, T * n * C, `[T, n, C] = [${T}, ${n}, ${C}]`);
  checkObject("params", params);
  checkArray(
    "params.theta",
    params.theta,
    (n + 2) * C,
    `[n + 2, C] = [${n + 2}, ${C}]`,
  );
  checkArray("params.bias", params.bias, K, `[n²+2n] = [${K}]`);
  checkSameType("params.theta", params.theta, xs, "x");
  checkSameType("params.bias", params.bias, xs, "x");
  checkFinite("params.alphaPre", params.alphaPre);
  checkFinite("params.alphaPost", params.alphaPost);
  checkFinite("params.alphaRes", params.alphaRes);
  return { n, C, T, K, normEps };
}

/** Index in the `[K]` segment layout of row `r` of `θ` and stream `j`. */
function slot(n: number, r: number, j: number): number {
  return r === 0 ? j : r === 1 ? n + j : 2 * n + (r - 2) * n + j;
}

/**
 * Computes the HC coefficients of SPEC §6 for every token.
 *
 * NaN in stream `j` of a token of `x` makes, for that token, `H_pre[j]`,
 * `H_post[j]` and column `j` of `H_res` NaN (the RMSNorm is per stream);
 * other streams and tokens are unaffected.
 *
 * @param x Residual states `[T, n, C]`.
 * @param params `θ`, `b` and the three `α` of the site.
 * @param options Sizes `n`, `C`, `T`, optional `normEps`, and optional
 *   output arrays `out` (see {@linkcode HcCoefficientsOutputOptions.out}).
 * @returns `hPre`, `hPost`, `hRes`, plus the `logits` and `invRms` the
 *   backward reuses: the arrays of `options.out` where given, else new ones.
 * @throws {RangeError} When a size, a length or an `α` is invalid, or an
 *   output shares memory with an input or another output.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example At θ = 0, HC's coefficients are its biases
 * ```ts
 * import { hcCoefficients } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const n = 2, C = 3;
 * const bias = new Float32Array([1, 0, 1, 1, 1, 0, 0, 1]); // pre, post, res = I
 * const { hRes } = hcCoefficients(new Float32Array(n * C).fill(1), {
 *   theta: new Float32Array((n + 2) * C), bias,
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * }, { n, C, T: 1 });
 * assertEquals([...hRes], [1, 0, 0, 1]);
 * ```
 */
export function hcCoefficients<A extends FloatArray>(
  x: A,
  params: HcParams<A>,
  options: HcCoefficientsOutputOptions<A>,
): HcCoefficients<A> {
  const { n, C, T, K, normEps } = checkArgs(x, params, options);
  const { theta, bias } = params;
  const alphas = [params.alphaPre, params.alphaPost, params.alphaRes];
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const inputs = [
    ["x", x],
    ["params.theta", theta],
    ["params.bias", bias],
  ] as const;
  const outs: [string, A | undefined][] = [];
  const take = (name: keyof HcCoefficients, length: number, shape: string) =>
    outArray(x, o?.[name], `out.${name}`, length, shape, inputs, outs);
  const hPre = take("hPre", T * n, `[T, n] = [${T}, ${n}]`);
  const hPost = take("hPost", T * n, `[T, n] = [${T}, ${n}]`);
  const hRes = take("hRes", T * n * n, `[T, n, n] = [${T}, ${n}, ${n}]`);
  const logits = take("logits", T * K, `[T, n²+2n] = [${T}, ${K}]`);
  const invRms = take("invRms", T * n, `[T, n] = [${T}, ${n}]`);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < n; j++) {
      const row = (t * n + j) * C;
      let sq = 0;
      for (let c = 0; c < C; c++) sq += x[row + c] * x[row + c];
      invRms[t * n + j] = 1 / Math.sqrt(sq / C + normEps);
      const ir = invRms[t * n + j];
      for (let r = 0; r < n + 2; r++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += theta[r * C + c] * x[row + c];
        logits[t * K + slot(n, r, j)] = acc * ir;
      }
    }
    for (let k = 0; k < K; k++) {
      const seg = k < n ? 0 : k < 2 * n ? 1 : 2;
      const h = alphas[seg] * Math.tanh(logits[t * K + k]) + bias[k];
      if (seg === 0) hPre[t * n + k] = h;
      else if (seg === 1) hPost[t * n + k - n] = h;
      else hRes[t * n * n + k - 2 * n] = h;
    }
  }
  return { hPre, hPost, hRes, logits, invRms };
}

/**
 * Backward of {@linkcode hcCoefficients}. Parameter gradients are summed over
 * tokens.
 *
 * @param x Residual states `[T, n, C]` given to the forward.
 * @param params The parameters given to the forward.
 * @param forward The forward's result (its `logits` and `invRms` are reused).
 * @param grads Upstream gradients of `hPre` `[T, n]`, `hPost` `[T, n]`, `hRes` `[T, n, n]`.
 * @param options The same options as the forward, and optional output
 *   arrays `out` and float64 `workspace` (see
 *   {@linkcode HcCoefficientsBackwardOptions}).
 * @returns Gradients of `x`, `theta`, `bias` and the three `α`: the arrays
 *   of `options.out` where given, else new ones.
 * @throws {RangeError} When a size or length is wrong, or an output or the
 *   workspace shares memory with an input or another output.
 * @throws {TypeError} When an array has the wrong type, or `workspace` is
 *   not a `Float64Array`.
 *
 * @example The bias gradient is the upstream gradient, summed over tokens
 * ```ts
 * import { hcCoefficients, hcCoefficientsBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const n = 1, C = 2, T = 2;
 * const x = new Float64Array([1, 2, 3, 4]);
 * const params = {
 *   theta: new Float64Array((n + 2) * C), bias: new Float64Array([0, 1, 1]),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = hcCoefficients(x, params, { n, C, T });
 * const g = hcCoefficientsBackward(x, params, fwd, {
 *   hPre: new Float64Array([1, 2]), hPost: new Float64Array([0, 0]), hRes: new Float64Array([3, 4]),
 * }, { n, C, T });
 * assertEquals([...g.bias], [3, 0, 7]);
 * ```
 *
 * @example Write the gradients into arrays you keep
 * ```ts
 * import { hcCoefficients, hcCoefficientsBackward } from "@birkhoff/mhc";
 * import { assertStrictEquals } from "@std/assert";
 *
 * const n = 1, C = 2, T = 2;
 * const x = new Float32Array([1, 2, 3, 4]);
 * const params = {
 *   theta: new Float32Array((n + 2) * C), bias: new Float32Array([0, 1, 1]),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = hcCoefficients(x, params, { n, C, T });
 * const out = {
 *   x: new Float32Array(T * n * C),
 *   theta: new Float32Array((n + 2) * C),
 *   bias: new Float32Array(n * n + 2 * n),
 * };
 * const workspace = new Float64Array((n + 3) * C); // reusable float64 sums
 * const g = hcCoefficientsBackward(x, params, fwd, {
 *   hPre: new Float32Array([1, 2]), hPost: new Float32Array([0, 0]), hRes: new Float32Array([3, 4]),
 * }, { n, C, T, out, workspace });
 * assertStrictEquals(g.bias, out.bias);
 * ```
 */
export function hcCoefficientsBackward<A extends FloatArray>(
  x: A,
  params: HcParams<A>,
  forward: HcCoefficients<A>,
  grads: { hPre: A; hPost: A; hRes: A },
  options: HcCoefficientsBackwardOptions<A>,
): HcParamGrads<A> {
  const { n, C, T, K } = checkArgs(x, params, options);
  const { theta } = params;
  const alphas = [params.alphaPre, params.alphaPost, params.alphaRes];
  checkObject("forward", forward);
  checkArray(
    "forward.logits",
    forward.logits,
    T * K,
    `[T, n²+2n] = [${T}, ${K}]`,
  );
  checkArray("forward.invRms", forward.invRms, T * n, `[T, n] = [${T}, ${n}]`);
  checkObject("grads", grads);
  checkArray("grads.hPre", grads.hPre, T * n, `[T, n] = [${T}, ${n}]`);
  checkArray("grads.hPost", grads.hPost, T * n, `[T, n] = [${T}, ${n}]`);
  checkArray(
    "grads.hRes",
    grads.hRes,
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  checkSameType("forward.logits", forward.logits, x, "x");
  checkSameType("forward.invRms", forward.invRms, x, "x");
  checkSameType("grads.hPre", grads.hPre, x, "x");
  checkSameType("grads.hPost", grads.hPost, x, "x");
  checkSameType("grads.hRes", grads.hRes, x, "x");
  const { logits, invRms } = forward;
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const inputs = [
    ["x", x],
    ["params.theta", theta],
    ["params.bias", params.bias],
    ["forward.logits", logits],
    ["forward.invRms", invRms],
    ["grads.hPre", grads.hPre],
    ["grads.hPost", grads.hPost],
    ["grads.hRes", grads.hRes],
  ] as const;
  const outs: [string, A | undefined][] = [];
  const gx = outArray(
    x,
    o?.x,
    "out.x",
    T * n * C,
    `[T, n, C] = [${T}, ${n}, ${C}]`,
    inputs,
    outs,
  );
  const theta32 = outArray(
    x,
    o?.theta,
    "out.theta",
    (n + 2) * C,
    `[n + 2, C] = [${n + 2}, ${C}]`,
    inputs,
    outs,
  );
  const bias32 = outArray(
    x,
    o?.bias,
    "out.bias",
    K,
    `[n²+2n] = [${K}]`,
    inputs,
    outs,
  );
  let work: Float64Array;
  if (options.workspace === undefined) {
    work = new Float64Array((n + 3) * C);
  } else {
    work = checkWorkspace(
      options.workspace,
      (n + 3) * C,
      `(n + 3)·C = ${(n + 3) * C}`,
    );
    checkDisjoint("workspace", work, [...inputs, ...outs]);
  }
  const gTheta = work.subarray(0, (n + 2) * C).fill(0);
  const gxt = work.subarray((n + 2) * C, (n + 3) * C);
  const gBias = scratch64(SLOT.hcBias, K).fill(0, 0, K);
  const gq = scratch64(SLOT.hcGq, K);
  const gAlpha = [0, 0, 0];
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) {
      const seg = k < n ? 0 : k < 2 * n ? 1 : 2;
      const up = seg === 0
        ? grads.hPre[t * n + k]
        : seg === 1
        ? grads.hPost[t * n + k - n]
        : grads.hRes[t * n * n + k - 2 * n];
      const th = Math.tanh(logits[t * K + k]);
      gBias[k] += up;
      gAlpha[seg] += up * th;
      gq[k] = up * alphas[seg] * (1 - th * th);
    }
    for (let j = 0; j < n; j++) {
      const row = (t * n + j) * C, ir = invRms[t * n + j];
      gxt.fill(0);
      for (let r = 0; r < n + 2; r++) {
        const g = gq[slot(n, r, j)];
        for (let c = 0; c < C; c++) {
          gTheta[r * C + c] += g * x[row + c] * ir;
          gxt[c] += g * theta[r * C + c];
        }
      }
      // x̃ = x·ir with ir = (Σx²/C + ε)^(-1/2).
      let dotGx = 0;
      for (let c = 0; c < C; c++) dotGx += gxt[c] * x[row + c];
      const coef = -dotGx * ir * ir * ir / C;
      for (let c = 0; c < C; c++) gx[row + c] = gxt[c] * ir + coef * x[row + c];
    }
  }
  theta32.set(gTheta);
  for (let k = 0; k < K; k++) bias32[k] = gBias[k];
  return {
    x: gx,
    theta: theta32,
    bias: bias32,
    alphaPre: gAlpha[0],
    alphaPost: gAlpha[1],
    alphaRes: gAlpha[2],
  };
}
