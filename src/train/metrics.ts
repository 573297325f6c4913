// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Stability metrics of the stream mixing, measured on one batch (SPEC §8):
 * composite Amax gains per site (from the library's `amaxGain`), the largest
 * deviation of mHC's column sums from 1, and how far the `n` streams have
 * moved apart (the symmetry of the initial copies broken).
 *
 * @module
 */

import { amaxGain, type FloatArray } from "../../mod.ts";

/** Stability metrics of one evaluation batch. */
export interface StabilityMetrics {
  /** Forward Amax gain of the composite map from each site to the output. */
  forwardGain: number[];
  /** Backward Amax gain of the composite map from each site to the output. */
  backwardGain: number[];
  /** Largest entry of `forwardGain`. */
  maxForwardGain: number;
  /** Largest entry of `backwardGain`. */
  maxBackwardGain: number;
  /** `max |Σ_i H_res[i][j] − 1|` over sites, tokens and columns. */
  maxColumnSumError: number;
  /** `max |Σ_j H_res[i][j] − 1|` over sites, tokens and rows. */
  maxRowSumError: number;
  /** Token-averaged `H_res` of every site, `n·n` values each. */
  meanMixing: number[][];
}

/**
 * Computes the mixing metrics from each site's `H_res`.
 *
 * @param hRes One `[T, n, n]` array per site, in network order.
 * @param n Streams.
 * @param T Tokens.
 * @returns The metrics.
 */
export function mixingMetrics(
  hRes: FloatArray[],
  n: number,
  T: number,
): StabilityMetrics {
  const gain = amaxGain(hRes, { n, T });
  let col = 0, row = 0;
  const meanMixing: number[][] = [];
  for (const h of hRes) {
    const mean = new Array(n * n).fill(0);
    for (let t = 0; t < T; t++) {
      const o = t * n * n;
      for (let i = 0; i < n; i++) {
        let r = 0, c = 0;
        for (let j = 0; j < n; j++) {
          r += h[o + i * n + j];
          c += h[o + j * n + i];
          mean[i * n + j] += h[o + i * n + j] / T;
        }
        row = Math.max(row, Math.abs(r - 1));
        col = Math.max(col, Math.abs(c - 1));
      }
    }
    meanMixing.push(mean);
  }
  return {
    forwardGain: [...gain.compositeForward],
    backwardGain: [...gain.compositeBackward],
    maxForwardGain: gain.maxForward,
    maxBackwardGain: gain.maxBackward,
    maxColumnSumError: col,
    maxRowSumError: row,
    meanMixing,
  };
}

/**
 * How different the streams of a residual state are: per token,
 * `sqrt(mean_i ‖x_i − x̄‖² / ‖x̄‖²)` with `x̄` the mean stream, averaged over
 * tokens. 0 means identical copies; 1 means the streams differ from their
 * mean as much as the mean is large.
 *
 * @param x State `[T, n, C]`.
 * @param n Streams.
 * @param C Width.
 * @param T Tokens.
 * @returns The token-averaged relative spread.
 */
export function streamSpread(
  x: FloatArray,
  n: number,
  C: number,
  T: number,
): number {
  if (n === 1) return 0;
  let total = 0;
  const mean = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    const o = t * n * C;
    mean.fill(0);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) mean[c] += x[o + i * C + c] / n;
    }
    let dev = 0, norm = 0;
    for (let c = 0; c < C; c++) norm += mean[c] * mean[c];
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const d = x[o + i * C + c] - mean[c];
        dev += d * d;
      }
    }
    total += norm > 0 ? Math.sqrt(dev / n / norm) : 0;
  }
  return total / T;
}
