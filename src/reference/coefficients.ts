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
  sinkhornWorker,
} from "./sinkhorn.ts";
import {
  alloc,
  checkArray,
  checkDisjoint,
  checkFinite,
  checkNonNegative,
  checkObject,
  checkOut,
  checkPositiveInt,
  checkSameType,
  typeName,
} from "../_validate.ts";
import { scratch, scratch64, SLOT } from "./_scratch.ts";

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

/**
 * Options of {@linkcode mhcCoefficients}: the sizes and settings, and
 * optional arrays to write the results into.
 */
export interface MhcCoefficientsOutputOptions<A extends FloatArray = FloatArray>
  extends MhcCoefficientsOptions {
  /**
   * Where to write the results: any of `hPre` `[T, n]`, `hPost` `[T, n]`,
   * `hRes` `[T, n, n]`, `logits` `[T, n²+2n]` and `invRms` `[T]`, each of
   * the same type as `x`. Each one given is filled and returned in its
   * place; the others are allocated. With all five the call constructs no
   * array that grows with `T` or `C` (its scratch is `O(n²)` and kept
   * between calls). They must not share memory with `x`, the parameters or
   * one another.
   *
   * @example Reuse the coefficient arrays across calls
   * ```ts
   * import { mhcCoefficients } from "@birkhoff/mhc";
   * import { assertStrictEquals } from "@std/assert";
   *
   * const n = 2, C = 3, T = 1, K = n * n + 2 * n;
   * const params = {
   *   phi: new Float32Array(n * C * K), bias: new Float32Array(K),
   *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
   * };
   * const out = {
   *   hPre: new Float32Array(T * n), hPost: new Float32Array(T * n),
   *   hRes: new Float32Array(T * n * n), logits: new Float32Array(T * K),
   *   invRms: new Float32Array(T),
   * };
   * const x = new Float32Array(T * n * C).fill(1);
   * const coef = mhcCoefficients(x, params, { n, C, T, out });
   * assertStrictEquals(coef.hRes, out.hRes);
   * ```
   */
  out?: Partial<MhcCoefficients<A>>;
}

/** The array outputs of {@linkcode mhcCoefficientsBackward}. */
export interface MhcParamGradArrays<A extends FloatArray = FloatArray> {
  /** Gradient with respect to `x`, `[T, n, C]`. */
  x: A;
  /** Gradient with respect to `φ`, `[n·C, K]`. */
  phi: A;
  /** Gradient with respect to `b`, `[K]`. */
  bias: A;
}

/**
 * Options of {@linkcode mhcCoefficientsBackward}: the forward's options,
 * and optional arrays to write the gradients into.
 */
export interface MhcCoefficientsBackwardOptions<
  A extends FloatArray = FloatArray,
> extends MhcCoefficientsOptions {
  /**
   * Where to write the gradients: any of `x` `[T, n, C]`, `phi` `[n·C, K]`
   * and `bias` `[K]` (`K = n² + 2n`), each of the same type as `x`. Each one
   * given is filled (overwritten, not added to) and returned in its place;
   * the others are allocated. They must not share memory with any input or
   * with one another.
   */
  out?: Partial<MhcParamGradArrays<A>>;
  /**
   * Float64 accumulator of the `φ` gradient, `n·C·K` values, reused instead
   * of a new one. Its contents on entry do not matter. With it and all three
   * `out` arrays the call constructs no array that grows with `T` or `C`
   * (the rest of its scratch is `O(n²)` and kept between calls). Not needed,
   * and not used, when `x` is a `Float64Array` and `out.phi` is given: the
   * sums then go straight into `out.phi`.
   */
  workspace?: Float64Array;
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
 *   {@linkcode SinkhornOptions.tolerance}), and optional output arrays `out`
 *   (see {@linkcode MhcCoefficientsOutputOptions.out}).
 * @returns `hPre`, `hPost`, `hRes`, plus the `logits` and `invRms` that the
 *   backward reuses: the arrays of `options.out` where given, else new ones.
 * @throws {RangeError} When a size, a length or an `α` is invalid, or an
 *   output shares memory with an input or another output.
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
  options: MhcCoefficientsOutputOptions<A>,
): MhcCoefficients<A> {
  const { n, C, T, K, normEps, sinkhorn } = checkArgs(x, params, options);
  const { phi, bias, alphaPre, alphaPost, alphaRes } = params;
  const nC = n * C, nn = n * n;
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const inputs = [["x", x], ["params.phi", phi], [
    "params.bias",
    bias,
  ]] as const;
  const outs: [string, A | undefined][] = [];
  const take = (name: keyof MhcCoefficients, length: number, shape: string) =>
    outArray(x, o?.[name], `out.${name}`, length, shape, inputs, outs);
  const hPre = take("hPre", T * n, `[T, n] = [${T}, ${n}]`);
  const hPost = take("hPost", T * n, `[T, n] = [${T}, ${n}]`);
  const hRes = take("hRes", T * nn, `[T, n, n] = [${T}, ${n}, ${n}]`);
  const logits = take("logits", T * K, `[T, n²+2n] = [${T}, ${K}]`);
  const invRms = take("invRms", T, `[T] = [${T}]`);
  const dot = scratch64(SLOT.coefDot, K);
  const worker = sinkhornWorker(x, n, sinkhorn);
  for (let t = 0; t < T; t++) {
    dot.fill(0, 0, K);
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
 * @param options The same options as the forward, and optional output
 *   arrays `out` and float64 `workspace` (see
 *   {@linkcode MhcCoefficientsBackwardOptions}).
 * @returns Gradients of `x`, `phi`, `bias`, `alphaPre`, `alphaPost`,
 *   `alphaRes`: the arrays of `options.out` where given, else new ones.
 * @throws {RangeError} When a size or length is wrong, or an output or the
 *   workspace shares memory with an input or another output.
 * @throws {TypeError} When an array has the wrong type, or `workspace` is
 *   not a `Float64Array`.
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
 *
 * @example Write the gradients into arrays you keep
 * ```ts
 * import { mhcCoefficients, mhcCoefficientsBackward } from "@birkhoff/mhc";
 * import { assertStrictEquals } from "@std/assert";
 *
 * const n = 2, C = 2, T = 1, K = n * n + 2 * n;
 * const x = new Float32Array([1, -2, 0.5, 3]);
 * const params = {
 *   phi: new Float32Array(n * C * K).fill(0.1),
 *   bias: new Float32Array(K),
 *   alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01,
 * };
 * const fwd = mhcCoefficients(x, params, { n, C, T });
 * const out = {
 *   x: new Float32Array(T * n * C),
 *   phi: new Float32Array(n * C * K),
 *   bias: new Float32Array(K),
 * };
 * const workspace = new Float64Array(n * C * K); // reusable float64 sums
 * const g = mhcCoefficientsBackward(x, params, fwd, {
 *   hPre: new Float32Array([1, -1]),
 *   hPost: new Float32Array([0.5, 0.2]),
 *   hRes: new Float32Array([1, 0, 0, -1]),
 * }, { n, C, T, out, workspace });
 * assertStrictEquals(g.phi, out.phi);
 * ```
 */
export function mhcCoefficientsBackward<A extends FloatArray>(
  x: A,
  params: MhcParams<A>,
  forward: MhcCoefficients<A>,
  grads: MhcCoefficientGrads<A>,
  options: MhcCoefficientsBackwardOptions<A>,
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
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const inputs = [
    ["x", x],
    ["params.phi", phi],
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
    T * nC,
    `[T, n, C] = [${T}, ${n}, ${C}]`,
    inputs,
    outs,
  );
  const gPhi = outArray(
    x,
    o?.phi,
    "out.phi",
    nC * K,
    `[n·C, n²+2n] = [${nC}, ${K}]`,
    inputs,
    outs,
  );
  const gBias = outArray(
    x,
    o?.bias,
    "out.bias",
    K,
    `[n²+2n] = [${K}]`,
    inputs,
    outs,
  );
  // Float64 sums of the φ gradient: straight into a float64 out.phi, else
  // into the workspace or a new array.
  const direct = gPhi instanceof Float64Array && o?.phi !== undefined;
  let gPhiAcc: Float64Array;
  if (direct) {
    gPhiAcc = gPhi as Float64Array;
  } else if (options.workspace !== undefined) {
    gPhiAcc = checkWorkspace(
      options.workspace,
      nC * K,
      `n·C·(n²+2n) = ${nC * K}`,
    );
    checkDisjoint("workspace", gPhiAcc, [...inputs, ...outs]);
  } else {
    gPhiAcc = new Float64Array(nC * K);
  }
  gPhiAcc.fill(0);
  const gBiasAcc = scratch64(SLOT.coefBias, K).fill(0, 0, K);
  let gAlphaPre = 0, gAlphaPost = 0, gAlphaRes = 0;
  // Gradient of the logits h, stored like the data.
  const gh = scratch(x, SLOT.coefGh, K);
  const gp = scratch64(SLOT.coefGp, K); // gradient of p = v·φ
  const dot = scratch64(SLOT.coefDot, K);
  const worker = sinkhornWorker(x, n, sinkhorn);
  const hRes = scratch(x, SLOT.coefHres, nn);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const sp = sigmoid(logits[t * K + i]);
      gh[i] = grads.hPre[t * n + i] * sp * (1 - sp);
      const sq = sigmoid(logits[t * K + n + i]);
      gh[n + i] = grads.hPost[t * n + i] * 2 * sq * (1 - sq);
    }
    worker.forward(logits, t * K + 2 * n, hRes, 0);
    worker.backward(grads.hRes, t * nn, gh, 2 * n);
    const ir = invRms[t];
    // Recompute p = v·φ in one pass over the token's state.
    dot.fill(0, 0, K);
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
  if (!direct) gPhi.set(gPhiAcc);
  for (let k = 0; k < K; k++) gBias[k] = gBiasAcc[k];
  return {
    x: gx,
    phi: gPhi,
    bias: gBias,
    alphaPre: gAlphaPre,
    alphaPost: gAlphaPost,
    alphaRes: gAlphaRes,
  };
}

/**
 * A caller-supplied output (checked for type, length and overlap with the
 * inputs and the outputs taken so far, then recorded) or a new array.
 * Internal, shared with the HC coefficient pass.
 */
export function outArray<A extends FloatArray>(
  like: A,
  value: unknown,
  name: string,
  length: number,
  shape: string,
  inputs: readonly (readonly [string, FloatArray])[],
  outs: [string, A | undefined][],
): A {
  if (value === undefined) return alloc(like, length);
  const out = checkOut(name, value, like, "x", length, shape);
  checkDisjoint(name, out, inputs);
  checkDisjoint(name, out, outs);
  outs.push([name, out]);
  return out;
}

/**
 * Checks a float64 workspace: a `TypeError` unless it is a `Float64Array`,
 * a `RangeError` unless it has `length` values. Internal, shared with the
 * HC coefficient pass.
 */
export function checkWorkspace(
  value: unknown,
  length: number,
  shape: string,
): Float64Array {
  if (!(value instanceof Float64Array)) {
    throw new TypeError(
      `workspace must be a Float64Array, got ${typeName(value)}`,
    );
  }
  if (value.length !== length) {
    throw new RangeError(
      `workspace must have length ${length} (${shape}), got ${value.length}`,
    );
  }
  return value;
}
