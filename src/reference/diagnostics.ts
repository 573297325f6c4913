// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Amax gain diagnostics of the stream mixing (SPEC §8). For sites `l < L`
 * the composite residual map is `P_l = H_res[L−1] ··· H_res[l]`; its forward
 * gain is the largest absolute row sum and its backward gain the largest
 * absolute column sum. Gains are computed per token and averaged over tokens.
 *
 * @module
 */

import type { FloatArray } from "./types.ts";
import {
  checkArray,
  checkObject,
  checkPositiveInt,
  typeName,
} from "../_validate.ts";

/** Options of {@linkcode amaxGain}. */
export interface AmaxGainOptions {
  /** Streams, `n >= 1`. */
  n: number;
  /** Tokens per site, `T >= 1`. */
  T: number;
}

/** Result of {@linkcode amaxGain}; every array has one entry per site. */
export interface AmaxGain {
  /** Forward gain of the composite `P_l = H_res[L−1]···H_res[l]`, token-averaged. */
  compositeForward: Float64Array;
  /** Backward gain of the composite `P_l`, token-averaged. */
  compositeBackward: Float64Array;
  /** Forward gain of `H_res[l]` alone, token-averaged. */
  siteForward: Float64Array;
  /** Backward gain of `H_res[l]` alone, token-averaged. */
  siteBackward: Float64Array;
  /** Largest entry of `compositeForward`. */
  maxForward: number;
  /** Largest entry of `compositeBackward`. */
  maxBackward: number;
}

/**
 * Computes the forward and backward Amax gains of the stream mixing, per site
 * and for the composite map from each site to the output (SPEC §8).
 *
 * For mHC every `H_res` is (near) doubly stochastic, so all gains stay close
 * to 1; for unconstrained HC they can grow geometrically with depth.
 *
 * @param hRes One `[T, n, n]` array per site, in network order (site 0 first).
 * @param options Sizes `n` and `T`.
 * @returns Per-site curves and their maxima.
 * @throws {RangeError} When `hRes` is empty, or a size or length is wrong.
 * @throws {TypeError} When `hRes` is not an array, or an entry of it has
 *   the wrong type.
 *
 * @example Two doubly stochastic sites have gain 1
 * ```ts
 * import { amaxGain } from "@birkhoff/mhc";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const swap = new Float32Array([0, 1, 1, 0]);
 * const half = new Float32Array([0.5, 0.5, 0.5, 0.5]);
 * const gain = amaxGain([swap, half], { n: 2, T: 1 });
 * assertAlmostEquals(gain.maxForward, 1);
 * assertAlmostEquals(gain.maxBackward, 1);
 * ```
 */
export function amaxGain(
  hRes: readonly FloatArray[],
  options: AmaxGainOptions,
): AmaxGain {
  checkObject("options", options);
  const n = checkPositiveInt("n", options.n);
  const T = checkPositiveInt("T", options.T);
  if (!Array.isArray(hRes)) {
    throw new TypeError(
      `hRes must be an array of [T, n, n] arrays, one per site, got ${
        typeName(hRes)
      }`,
    );
  }
  if (hRes.length === 0) {
    throw new RangeError("hRes must be a non-empty array of sites, got none");
  }
  const L = hRes.length, nn = n * n;
  hRes.forEach((h, l) =>
    checkArray(`hRes[${l}]`, h, T * nn, `[T, n, n] = [${T}, ${n}, ${n}]`)
  );
  const result: AmaxGain = {
    compositeForward: new Float64Array(L),
    compositeBackward: new Float64Array(L),
    siteForward: new Float64Array(L),
    siteBackward: new Float64Array(L),
    maxForward: 0,
    maxBackward: 0,
  };
  const p = new Float64Array(nn), q = new Float64Array(nn);
  for (let t = 0; t < T; t++) {
    p.fill(0);
    for (let i = 0; i < n; i++) p[i * n + i] = 1;
    for (let l = L - 1; l >= 0; l--) {
      const h = hRes[l], off = t * nn;
      // P_l = P_{l+1} · H_res[l]
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let k = 0; k < n; k++) acc += p[i * n + k] * h[off + k * n + j];
          q[i * n + j] = acc;
        }
      }
      p.set(q);
      result.compositeForward[l] += rowGain(p, 0, n) / T;
      result.compositeBackward[l] += colGain(p, 0, n) / T;
      result.siteForward[l] += rowGain(h, off, n) / T;
      result.siteBackward[l] += colGain(h, off, n) / T;
    }
  }
  result.maxForward = Math.max(...result.compositeForward);
  result.maxBackward = Math.max(...result.compositeBackward);
  return result;
}

/** `max_i |Σ_j M[i][j]|` of one `n × n` block. */
function rowGain(m: ArrayLike<number>, off: number, n: number): number {
  let g = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += m[off + i * n + j];
    g = Math.max(g, Math.abs(s));
  }
  return g;
}

/** `max_j |Σ_i M[i][j]|` of one `n × n` block. */
function colGain(m: ArrayLike<number>, off: number, n: number): number {
  let g = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += m[off + i * n + j];
    g = Math.max(g, Math.abs(s));
  }
  return g;
}
