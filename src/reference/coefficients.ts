// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The mHC coefficient pass (SPEC §3): from each token's residual state
 * `x ∈ R^{n×C}` it computes `H_pre`, `H_post` and `H_res`, and its backward
 * gives the gradients with respect to `x`, `φ`, `b` and the three `α`.
 *
 * @module
 */

import type { FloatArray, SinkhornOptions } from "./types.ts";
import {
  type SinkhornConfig,
  sinkhornConfig,
  SinkhornWorker,
} from "./sinkhorn.ts";
import {
  alloc,
  checkArray,
  checkFinite,
  checkNonNegative,
  checkObject,
  checkPositiveInt,
  checkSameType,
} from "../_validate.ts";

/** Default `ε_norm` inside the RMS statistic (SPEC §3, project choice). */
export const DEFAULT_NORM_EPS = 1e-6;

/**
 * Parameters of one mHC site (SPEC §3). `K = n² + 2n` and the segment order
 * inside `phi` and `bias` is `[pre (n), post (n), res (n²)]`.
 */
export interface MhcParams<A extends FloatArray = FloatArray> {
  /** Projection `φ`, `[n·C, K]` row-major: `phi[a·K + k]`. */
  phi: A;
  /** Bias `b`, `[K]`. */
  bias: A;
  /** Scale of the dynamic part of the `H_pre` logits. */
  alphaPre: number;
  /** Scale of the dynamic part of the `H_post` logits. */
  alphaPost: number;
  /** Scale of the dynamic part of the `H_res` logits. */
  alphaRes: number;
}

/** Options of {@linkcode mhcCoefficients} and its backward. */
export interface MhcCoefficientsOptions extends SinkhornOptions {
  /** Streams per token, `n >= 1`. */
  n: number;
  /** Channels per stream, `C >= 1`. */
  C: number;
  /** Tokens, `T >= 1`. */
  T: number;
  /** `ε_norm` inside `r = sqrt(mean(v²) + ε_norm)`, `> 0`. Default `1e-6`. */
  normEps?: number;
}

/** Output of {@linkcode mhcCoefficients}. */
export interface MhcCoefficients<A extends FloatArray = FloatArray> {
  /** `H_pre = sigmoid(h_pre)`, `[T, n]`. */
  hPre: A;
  /** `H_post = 2·sigmoid(h_post)`, `[T, n]`. */
  hPost: A;
  /** `H_res = SinkhornKnopp(h_res)`, `[T, n, n]`. */
  hRes: A;
  /** The logits `h` before activation, `[T, K]` (kept for the backward). */
  logits: A;
  /** `1 / r` per token, `[T]` (kept for the backward). */
  invRms: A;
}

/** Upstream gradients of the three coefficient outputs. */
export interface MhcCoefficientGrads<A extends FloatArray = FloatArray> {
  /** Gradient of `H_pre`, `[T, n]`. */
  hPre: A;
  /** Gradient of `H_post`, `[T, n]`. */
  hPost: A;
  /** Gradient of `H_res`, `[T, n, n]`. */
  hRes: A;
}

/** Gradients returned by {@linkcode mhcCoefficientsBackward}. */
export interface MhcParamGrads<A extends FloatArray = FloatArray> {
  /** Gradient with respect to `x`, `[T, n, C]`. */
  x: A;
  /** Gradient with respect to `φ`, `[n·C, K]`, summed over tokens. */
  phi: A;
  /** Gradient with respect to `b`, `[K]`, summed over tokens. */
  bias: A;
  /** Gradient with respect to `α_pre`, summed over tokens. */
  alphaPre: number;
  /** Gradient with respect to `α_post`, summed over tokens. */
  alphaPost: number;
  /** Gradient with respect to `α_res`, summed over tokens. */
  alphaRes: number;
}

interface Checked {
  n: number;
  C: number;
  T: number;
  K: number;
  normEps: number;
  sinkhorn: SinkhornConfig;
}

function checkArgs(
  x: unknown,
  params: MhcParams,
  options: MhcCoefficientsOptions,
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
  const sinkhorn = sinkhornConfig(options);
  const K = n * n + 2 * n;
  const xs = checkArray("x", x, T * n * C, `[T, n, C] = [${T}, ${n}, ${C}]`);
  checkObject("params", params);
  checkArray(
    "params.phi",
    params.phi,
    n * C * K,
    `[n·C, n²+2n] = [${n * C}, ${K}]`,
  );
  checkArray("params.bias", params.bias, K, `[n²+2n] = [${K}]`);
  checkSameType("params.phi", params.phi, xs, "x");
  checkSameType("params.bias", params.bias, xs, "x");
  checkFinite("params.alphaPre", params.alphaPre);
  checkFinite("params.alphaPost", params.alphaPost);
  checkFinite("params.alphaRes", params.alphaRes);
  return { n, C, T, K, normEps, sinkhorn };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Computes the per-token mHC coefficients (SPEC §3):
 *
 * ```
 * r = sqrt(mean(vec(x)²) + ε_norm)      one statistic over all n·C values
 * h = [α_pre·m_pre, α_post·m_post, α_res·m_res] + b,   m = (vec(x)·φ) / r
 * H_pre = sigmoid(h_pre), H_post = 2·sigmoid(h_post), H_res = SinkhornKnopp(h_res)
 * ```
 *
 * NaN in a token of `x` makes that token's coefficients NaN; other tokens are
 * unaffected.
 *
 * @param x Residual states `[T, n, C]`.
 * @param params `φ`, `b` and the three `α` of the site.
 * @param options Sizes `n`, `C`, `T`, and optional `normEps`, `iterations`,
 *   `eps` and `tolerance` (the Sinkhorn early stop, see
 *   {@linkcode SinkhornOptions.tolerance}).
 * @returns `hPre`, `hPost`, `hRes`, plus the `logits` and `invRms` that the backward reuses.
 * @throws {RangeError} When a size, a length or an `α` is invalid.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example At φ = 0 the coefficients come from the bias alone
 * ```ts
 * import { mhcCoefficients } from "@birkhoff/mhc";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const n = 2, C = 3, K = n * n + 2 * n;
 * const { hPre, hPost } = mhcCoefficients(new Float32Array(n * C).fill(1), {
 *   phi: new Float32Array(n * C * K),
 *   bias: new Float32Array(K),
 *   alphaPre: 0.01,
 *   alphaPost: 0.01,
 *   alphaRes: 0.01,
 * }, { n, C, T: 1 });
 * assertAlmostEquals(hPre[0], 0.5); // sigmoid(0)
 * assertAlmostEquals(hPost[0], 1); // 2·sigmoid(0)
 * ```
 */
export function mhcCoefficients<A extends FloatArray>(
  x: A,
  params: MhcParams<A>,
  options: MhcCoefficientsOptions,
): MhcCoefficients<A> {
  const { n, C, T, K, normEps, sinkhorn } = checkArgs(x, params, options);
  const { phi, bias, alphaPre, alphaPost, alphaRes } = params;
  const nC = n * C, nn = n * n;
  const hPre = alloc(x, T * n),
    hPost = alloc(x, T * n),
    hRes = alloc(x, T * nn);
  const logits = alloc(x, T * K), invRms = alloc(x, T);
  const dot = new Float64Array(K);
  const worker = new SinkhornWorker(x, n, sinkhorn);
  for (let t = 0; t < T; t++) {
    dot.fill(0);
    let sq = 0;
    // One pass over the token's state gives both v·φ and Σv².
    for (let a = 0; a < nC; a++) {
      const v = x[t * nC + a];
      sq += v * v;
      const row = a * K;
      for (let k = 0; k < K; k++) dot[k] += v * phi[row + k];
    }
    invRms[t] = 1 / Math.sqrt(sq / nC + normEps);
    const ir = invRms[t];
    for (let k = 0; k < K; k++) {
      const alpha = k < n ? alphaPre : k < 2 * n ? alphaPost : alphaRes;
      logits[t * K + k] = alpha * (dot[k] * ir) + bias[k];
    }
    for (let i = 0; i < n; i++) {
      hPre[t * n + i] = sigmoid(logits[t * K + i]);
      hPost[t * n + i] = 2 * sigmoid(logits[t * K + n + i]);
    }
    worker.forward(logits, t * K + 2 * n, hRes, t * nn);
  }
  return { hPre, hPost, hRes, logits, invRms };
}

/**
 * Backward of {@linkcode mhcCoefficients}: from the upstream gradients of
 * `H_pre`, `H_post` and `H_res` it returns the gradients of `x`, `φ`, `b` and
 * the three `α`. The Sinkhorn part is exact reverse mode through every
 * iteration that ran (with a `tolerance`, each token's own count). Parameter gradients are summed over the `T` tokens.
 *
 * NaN in a token of `x` makes that token's gradient of `x` NaN, and, since
 * they are sums over tokens, every entry of the `φ`, `b` and `α` gradients;
 * the `x` gradients of other tokens are unaffected.
 *
 * @param x The residual states `[T, n, C]` given to the forward.
 * @param params The parameters given to the forward.
 * @param forward The forward's result (its `logits` and `invRms` are reused).
 * @param grads Upstream gradients of `hPre`, `hPost` and `hRes`.
 * @param options The same options as the forward.
 * @returns Gradients of `x`, `phi`, `bias`, `alphaPre`, `alphaPost`, `alphaRes`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Gradients of a tiny site
 * ```ts
 * import { mhcCoefficients, mhcCoefficientsBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const n = 2, C = 2, T = 1, K = n * n + 2 * n;
 * const x = new Float64Array([1, -2, 0.5, 3]);
 * const params = {
 *   phi: new Float64Array(n * C * K).fill(0.1),
 *   bias: new Float64Array(K),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = mhcCoefficients(x, params, { n, C, T });
 * const g = mhcCoefficientsBackward(x, params, fwd, {
 *   hPre: new Float64Array([1, -1]),
 *   hPost: new Float64Array([0.5, 0.2]),
 *   hRes: new Float64Array([1, 0, 0, -1]),
 * }, { n, C, T });
 * assertEquals(g.phi.length, n * C * K);
 * ```
 */
export function mhcCoefficientsBackward<A extends FloatArray>(
  x: A,
  params: MhcParams<A>,
  forward: MhcCoefficients<A>,
  grads: MhcCoefficientGrads<A>,
  options: MhcCoefficientsOptions,
): MhcParamGrads<A> {
  const { n, C, T, K, sinkhorn } = checkArgs(x, params, options);
  const { phi, alphaPre, alphaPost, alphaRes } = params;
  checkObject("forward", forward);
  checkArray(
    "forward.logits",
    forward.logits,
    T * K,
    `[T, n²+2n] = [${T}, ${K}]`,
  );
  checkArray("forward.invRms", forward.invRms, T, `[T] = [${T}]`);
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
  const nC = n * C, nn = n * n;
  const { logits, invRms } = forward;
  const gx = alloc(x, T * nC), gPhi = alloc(x, nC * K), gBias = alloc(x, K);
  const gPhiAcc = new Float64Array(nC * K), gBiasAcc = new Float64Array(K);
  let gAlphaPre = 0, gAlphaPost = 0, gAlphaRes = 0;
  const gh = alloc(x, K); // gradient of the logits h, stored like the data
  const gp = new Float64Array(K); // gradient of p = v·φ
  const dot = new Float64Array(K);
  const worker = new SinkhornWorker(x, n, sinkhorn);
  const scratch = alloc(x, nn);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const sp = sigmoid(logits[t * K + i]);
      gh[i] = grads.hPre[t * n + i] * sp * (1 - sp);
      const sq = sigmoid(logits[t * K + n + i]);
      gh[n + i] = grads.hPost[t * n + i] * 2 * sq * (1 - sq);
    }
    worker.forward(logits, t * K + 2 * n, scratch, 0);
    worker.backward(grads.hRes, t * nn, gh, 2 * n);
    const ir = invRms[t];
    // Recompute p = v·φ in one pass over the token's state.
    dot.fill(0);
    for (let a = 0; a < nC; a++) {
      const v = x[t * nC + a], row = a * K;
      for (let k = 0; k < K; k++) dot[k] += v * phi[row + k];
    }
    // h = α·m + b with m = p·ir.
    let gr = 0; // gradient of ir
    for (let k = 0; k < K; k++) {
      const alpha = k < n ? alphaPre : k < 2 * n ? alphaPost : alphaRes;
      gBiasAcc[k] += gh[k];
      const m = dot[k] * ir;
      const ga = gh[k] * m;
      if (k < n) gAlphaPre += ga;
      else if (k < 2 * n) gAlphaPost += ga;
      else gAlphaRes += ga;
      const gm = gh[k] * alpha;
      gp[k] = gm * ir;
      gr += gm * m / ir;
    }
    // ir = (Σv²/nC + ε)^(-1/2): d ir / d v_a = −ir³ · v_a / nC.
    const coef = -gr * ir * ir * ir / nC;
    for (let a = 0; a < nC; a++) {
      const v = x[t * nC + a];
      const row = a * K;
      let acc = 0;
      for (let k = 0; k < K; k++) {
        acc += phi[row + k] * gp[k];
        gPhiAcc[row + k] += v * gp[k];
      }
      gx[t * nC + a] = acc + coef * v;
    }
  }
  gPhi.set(gPhiAcc);
  gBias.set(gBiasAcc);
  return {
    x: gx,
    phi: gPhi,
    bias: gBias,
    alphaPre: gAlphaPre,
    alphaPost: gAlphaPost,
    alphaRes: gAlphaRes,
  };
}
