// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: cases of the Sinkhorn early stop (`tolerance`).
 *
 * The number of iterations a token runs is piecewise constant in its logits:
 * it switches where the deviation of the row and column sums after some
 * iteration crosses the tolerance. A float32 backend computes the deviations
 * with rounding errors, so near such a switch it may run one iteration more
 * or fewer than the float64 reference, and the outputs then differ by a whole
 * iteration's step, not by rounding. A case is therefore valid only when, for
 * every token, every deviation that the stopping rule looks at is farther
 * than `delta` from the tolerance, with `delta` a bound on how far a backend
 * may move a deviation: a deviation is `max |Σ H − 1|` over n-term sums, so
 * an entrywise error bound `e` of the iterates moves it by at most `n·e`,
 * and the float32 sum of n terms (each ≤ 1 + deviation) adds at most about
 * `n·u`. {@linkcode checkEarlyStop} asserts this margin, and that the case
 * is worth running: some tokens stop early, and not all after the same count.
 *
 * @module
 */

import { sinkhornIterationCounts, sinkhornKnopp } from "@birkhoff/mhc";
import { AssertionError } from "@std/assert";

/** Options of a Sinkhorn run with an early stop. */
export interface EarlyStopOptions {
  n: number;
  T: number;
  iterations: number;
  eps: number;
  tolerance: number;
}

/**
 * Largest `|sum − 1|` over the rows and columns of each token's matrix.
 *
 * @param h Matrices `[T, n, n]`.
 * @param n Matrix size.
 * @returns One deviation per token.
 */
export function deviations(h: ArrayLike<number>, n: number): Float64Array {
  const T = h.length / (n * n), out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const cols = new Float64Array(n);
    let dev = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < n; j++) {
        const v = h[t * n * n + i * n + j];
        row += v;
        cols[j] += v;
      }
      dev = Math.max(dev, Math.abs(row - 1));
    }
    for (let j = 0; j < n; j++) dev = Math.max(dev, Math.abs(cols[j] - 1));
    out[t] = dev;
  }
  return out;
}

/**
 * Checks that an early-stop case is far from every switch of the iteration
 * count (see the module documentation) and that its counts differ across
 * tokens, some below the cap; returns the float64 counts. The deviation
 * after `k` iterations is that of `sinkhornKnopp` run with `iterations: k`
 * and no tolerance (the same iterates).
 *
 * @param logits Logits `[T, n, n]`, float64.
 * @param o The options, tolerance included.
 * @param delta How far a backend may move a deviation.
 * @param what The case, for messages.
 * @returns The reference iteration count of each token.
 * @throws {AssertionError} When a deviation is within `delta` of the
 *   tolerance, or the counts are all equal or all at the cap.
 */
export function checkEarlyStop(
  logits: Float64Array,
  o: EarlyStopOptions,
  delta: number,
  what: string,
): Uint32Array {
  const counts = sinkhornIterationCounts(logits, o);
  const { n, T, iterations, eps, tolerance } = o;
  const last = Math.min(Math.max(...counts), iterations - 1);
  let closest = Infinity;
  for (let k = 1; k <= last; k++) {
    const dev = deviations(
      sinkhornKnopp(logits, { n, T, iterations: k, eps }),
      n,
    );
    for (let t = 0; t < T; t++) {
      // The rule looks at iterations 1 … min(count, iterations − 1).
      if (k > counts[t]) continue;
      const gap = Math.abs(dev[t] - tolerance);
      closest = Math.min(closest, gap);
      if (gap <= delta) {
        throw new AssertionError(
          `${what}: token ${t} has deviation ${dev[t]} after ${k} ` +
            `iterations, within ${delta} of the tolerance ${tolerance}; ` +
            "a float32 backend may stop at another count: choose another case",
        );
      }
    }
  }
  const distinct = new Set(counts).size;
  const early = counts.filter((c) => c < iterations).length;
  if (distinct < 2 || early === 0) {
    throw new AssertionError(
      `${what}: the counts (${[...counts]}) must differ across tokens and ` +
        `some must stop before ${iterations}`,
    );
  }
  return counts;
}
