// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The stages of Sinkhorn-Knopp on one `n × n` matrix (SPEC §4), for the
 * playground's step-through view: `exp(L)`, then after each column
 * normalisation and each row normalisation. The stage after iteration `k`'s
 * row normalisation is the library's own `sinkhornKnopp` with
 * `iterations = k`; the stage between (after the column normalisation) is
 * the previous full iterate with its columns divided by their sums, which is
 * what the first half of iteration `k` does. No DOM, no Deno API.
 *
 * @module
 */

import { sinkhornKnopp } from "@birkhoff/mhc";

/** One stage of the iteration. */
export interface SinkhornStage {
  /** 0 for `exp(L)`, then one per normalisation. */
  index: number;
  /** The iteration it belongs to (0 for `exp(L)`). */
  iteration: number;
  /** What the stage is, e.g. `iteration 2: columns normalised`. */
  label: string;
  /** The matrix, row-major `n·n`. */
  matrix: Float64Array;
  /** Sum of each row. */
  rowSums: number[];
  /** Sum of each column. */
  colSums: number[];
  /** `max |row sum − 1|`. */
  rowError: number;
  /** `max |column sum − 1|`. */
  colError: number;
}

/**
 * Computes `exp(L)` and the `2·iterations` normalisation stages.
 *
 * @param logits Logits, row-major `n·n`, finite.
 * @param n Matrix size, from 1.
 * @param iterations Full (column, row) iterations, from 1.
 * @returns `2·iterations + 1` stages.
 * @throws {RangeError} When `logits` does not hold `n·n` finite values or a
 *   count is not a positive integer.
 */
export function sinkhornStages(
  logits: ArrayLike<number>,
  n: number,
  iterations: number,
): SinkhornStage[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`n must be a positive integer, got ${n}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `iterations must be a positive integer, got ${iterations}`,
    );
  }
  if (logits.length !== n * n) {
    throw new RangeError(
      `logits must hold n·n = ${n * n} values, got ${logits.length}`,
    );
  }
  const l = Float64Array.from(logits);
  if (!l.every(Number.isFinite)) {
    throw new RangeError("Every logit must be a finite number");
  }
  const stages = [
    stage(0, 0, "exp(L), before any normalisation", l.map(Math.exp), n),
  ];
  let previous = stages[0].matrix;
  for (let k = 1; k <= iterations; k++) {
    const cols = previous.slice();
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += cols[i * n + j];
      for (let i = 0; i < n; i++) cols[i * n + j] /= s;
    }
    stages.push(
      stage(2 * k - 1, k, `iteration ${k}: columns normalised`, cols, n),
    );
    const full = sinkhornKnopp(l, { n, T: 1, iterations: k });
    stages.push(stage(2 * k, k, `iteration ${k}: rows normalised`, full, n));
    previous = full;
  }
  return stages;
}

function stage(
  index: number,
  iteration: number,
  label: string,
  matrix: Float64Array,
  n: number,
): SinkhornStage {
  const rowSums = new Array(n).fill(0), colSums = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      rowSums[i] += matrix[i * n + j];
      colSums[j] += matrix[i * n + j];
    }
  }
  const dev = (s: number[]) => Math.max(...s.map((v) => Math.abs(v - 1)));
  return {
    index,
    iteration,
    label,
    matrix,
    rowSums,
    colSums,
    rowError: dev(rowSums),
    colError: dev(colSums),
  };
}

/**
 * Logits for the view: uniform in `[−spread, spread]` from a small seeded
 * generator (so a seed always gives the same matrix).
 *
 * @param n Matrix size.
 * @param spread Half-width of the range.
 * @param seed Any integer.
 * @returns `n·n` logits, rounded to two decimals (as the editor shows them).
 */
export function randomLogits(
  n: number,
  spread: number,
  seed: number,
): Float64Array {
  let s = (seed >>> 0) || 1;
  const next = () => {
    // xorshift32: plenty for a picture.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return Float64Array.from(
    { length: n * n },
    () => Math.round((2 * next() - 1) * spread * 100) / 100,
  );
}
