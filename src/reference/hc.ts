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
  alloc,
  checkArray,
  checkFinite,
  checkNonNegative,
  checkObject,
  checkPositiveInt,
  checkSameType,
} from "../_validate.ts";
import { DEFAULT_NORM_EPS } from "./coefficients.ts";

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
 * @param options Sizes `n`, `C`, `T`, and optional `normEps`.
 * @returns `hPre`, `hPost`, `hRes`, plus the `logits` and `invRms` the backward reuses.
 * @throws {RangeError} When a size, a length or an `α` is invalid.
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
  options: HcCoefficientsOptions,
): HcCoefficients<A> {
  const { n, C, T, K, normEps } = checkArgs(x, params, options);
  const { theta, bias } = params;
  const alphas = [params.alphaPre, params.alphaPost, params.alphaRes];
  const hPre = alloc(x, T * n),
    hPost = alloc(x, T * n),
    hRes = alloc(x, T * n * n);
  const logits = alloc(x, T * K), invRms = alloc(x, T * n);
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
 * @param options The same options as the forward.
 * @returns Gradients of `x`, `theta`, `bias` and the three `α`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array has the wrong type.
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
 */
export function hcCoefficientsBackward<A extends FloatArray>(
  x: A,
  params: HcParams<A>,
  forward: HcCoefficients<A>,
  grads: { hPre: A; hPost: A; hRes: A },
  options: HcCoefficientsOptions,
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
  const gx = alloc(x, T * n * C);
  const gTheta = new Float64Array((n + 2) * C), gBias = new Float64Array(K);
  const gAlpha = [0, 0, 0];
  const gq = new Float64Array(K), gxt = new Float64Array(C);
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
  const theta32 = alloc(x, (n + 2) * C), bias32 = alloc(x, K);
  theta32.set(gTheta);
  bias32.set(gBias);
  return {
    x: gx,
    theta: theta32,
    bias: bias32,
    alphaPre: gAlpha[0],
    alphaPost: gAlpha[1],
    alphaRes: gAlpha[2],
  };
}
