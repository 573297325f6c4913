// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Sinkhorn-Knopp projection of per-token `n × n` logits onto the doubly
 * stochastic matrices (SPEC §4), forward and exact reverse-mode backward.
 *
 * Method. With `eps = 0` (the paper's method) the iterates are kept in the log
 * domain: `ℓ ← ℓ − logsumexp_axis(ℓ)` is exactly `M ← M / sum_axis(M)` for
 * `M = exp(ℓ)`, and every logsumexp subtracts its own maximum first. The first
 * step is a column normalisation, so this is the per-column max stabilisation
 * of SPEC §4 carried through every iteration: no entry, row or column can
 * underflow to all zeros, and logits of ±1e4 give finite, doubly stochastic
 * output. With `eps > 0` the iterates follow DeepSeek's released code in the
 * linear domain: `M⁰ = colsoftmax(L) + eps` and `M ← M / (sum + eps)`.
 *
 * Early stop. With a `tolerance`, each token's iteration stops after the
 * first full (column, row) iteration `k < iterations` whose iterate has every
 * row and column sum within `tolerance` of 1 (strictly); the backward runs
 * the same forward, so it differentiates through exactly those `k`
 * iterations. The stopping count is piecewise constant in the logits, so the
 * result is the exact derivative wherever the count does not switch.
 *
 * @module
 */

import type { FloatArray, SinkhornOptions } from "./types.ts";
import {
  alloc,
  checkArray,
  checkDisjoint,
  checkNonNegative,
  checkObject,
  checkOut,
  checkPositiveInt,
  checkSameType,
} from "../_validate.ts";
import { scratch, SLOT } from "./_scratch.ts";

/** Default number of Sinkhorn-Knopp iterations (SPEC §4). */
export const DEFAULT_SINKHORN_ITERATIONS = 20;

/** Options of {@linkcode sinkhornKnopp} and {@linkcode sinkhornKnoppBackward}. */
export interface SinkhornKnoppOptions extends SinkhornOptions {
  /** Matrix size: each token holds an `n × n` matrix, `n >= 1`. */
  n: number;
  /** Number of tokens, `T >= 1`. The logits are `[T, n, n]` row-major. */
  T: number;
}

/**
 * Options of {@linkcode sinkhornKnopp}: the sizes and Sinkhorn settings, and
 * an optional array to write the result into.
 */
export interface SinkhornKnoppOutputOptions<A extends FloatArray = FloatArray>
  extends SinkhornKnoppOptions {
  /**
   * Where to write the projected matrices, `[T, n, n]`, of the same type as
   * the logits. The call then returns it and constructs no array of output
   * size. It may be the logits array itself (each token is read in full
   * before its result is written), but must not otherwise share memory with
   * it.
   *
   * @example Project in place
   * ```ts
   * import { sinkhornKnopp } from "@birkhoff/mhc";
   * import { assertAlmostEquals } from "@std/assert";
   *
   * const h = new Float32Array([2, 0, 1, -1]); // logits in, matrix out
   * sinkhornKnopp(h, { n: 2, T: 1, out: h });
   * assertAlmostEquals(h[0] + h[1], 1, 1e-6);
   * ```
   */
  out?: A;
}

/**
 * Options of {@linkcode sinkhornKnoppBackward}: the forward's options, and
 * an optional array to write the gradient into.
 */
export interface SinkhornKnoppBackwardOptions<
  A extends FloatArray = FloatArray,
> extends SinkhornKnoppOptions {
  /**
   * Where to write the gradient of the logits, `[T, n, n]`, of the same type
   * as the logits. The call then returns it and constructs no array of
   * output size. It may be the logits or the upstream gradient array itself
   * (each token of both is read in full before its gradient is written), but
   * must not otherwise share memory with either.
   */
  out?: A;
}

/** Validated Sinkhorn settings. Internal. */
export interface SinkhornConfig {
  iterations: number;
  eps: number;
  /** `0`: no early stop. */
  tolerance: number;
}

/** Checks and fills in the Sinkhorn options. Internal. */
export function sinkhornConfig(options: SinkhornOptions): SinkhornConfig {
  const iterations = options.iterations ?? DEFAULT_SINKHORN_ITERATIONS;
  checkPositiveInt("iterations", iterations);
  const eps = checkNonNegative("eps", options.eps ?? 0);
  const tolerance = checkNonNegative("tolerance", options.tolerance ?? 0);
  return { iterations, eps, tolerance };
}

/**
 * Per-token Sinkhorn worker with preallocated scratch, shared by the
 * standalone op and the mHC coefficient pass. Internal.
 */
export class SinkhornWorker {
  readonly n: number;
  readonly iterations: number;
  readonly eps: number;
  readonly tolerance: number;
  /** Iterations run by the last {@linkcode forward}. */
  #count = 0;
  /** Iterates: slot 0 is the start, slot k the result of normalisation k. */
  readonly #iterates: FloatArray;
  /** Linear path only: the divisor `sum + eps` of each normalisation. */
  readonly #divisors: Float64Array;
  readonly #grad: FloatArray;
  readonly #soft: FloatArray;
  readonly #axis: Float64Array;

  constructor(like: FloatArray, n: number, config: SinkhornConfig) {
    this.n = n;
    this.iterations = config.iterations;
    this.eps = config.eps;
    this.tolerance = config.tolerance;
    const steps = 2 * config.iterations;
    this.#iterates = alloc(like, (steps + 1) * n * n);
    this.#divisors = new Float64Array(steps * n);
    this.#grad = alloc(like, n * n);
    this.#soft = alloc(like, n * n);
    this.#axis = new Float64Array(n);
  }

  /**
   * Runs the forward for one token, keeping every iterate for a backward.
   * Returns the number of (column, row) iterations it ran.
   */
  forward(
    logits: FloatArray,
    inOffset: number,
    out: FloatArray,
    outOffset: number,
  ): number {
    const n = this.n, nn = n * n, it = this.#iterates;
    const log = this.eps === 0;
    if (log) {
      for (let k = 0; k < nn; k++) it[k] = logits[inOffset + k];
    } else {
      // Linear path: start from the column softmax plus eps.
      const soft = this.#soft;
      columnSoftmax(logits, inOffset, soft, n);
      for (let k = 0; k < nn; k++) it[k] = soft[k] + this.eps;
    }
    let count = this.iterations;
    for (let i = 0; i < this.iterations; i++) {
      for (let s = 2 * i; s < 2 * i + 2; s++) {
        if (log) {
          logNormalize(it, s * nn, (s + 1) * nn, n, s % 2 === 0);
        } else {
          linearNormalize(
            it,
            s * nn,
            (s + 1) * nn,
            n,
            s % 2 === 0,
            this.eps,
            this.#divisors,
            s * n,
          );
        }
      }
      // Early stop: checked after the row step of every iteration but the
      // last, on the iterate that would be returned.
      if (
        this.tolerance > 0 && i + 1 < this.iterations &&
        deviation(it, (2 * i + 2) * nn, n, log, this.#axis) < this.tolerance
      ) {
        count = i + 1;
        break;
      }
    }
    this.#count = count;
    const last = 2 * count * nn;
    for (let k = 0; k < nn; k++) {
      out[outOffset + k] = log ? Math.exp(it[last + k]) : it[last + k];
    }
    return count;
  }

  /**
   * Backward for the token last passed to {@linkcode forward}: reads the
   * upstream gradient of the output and writes the gradient of the logits.
   */
  backward(
    gradOut: FloatArray,
    gOffset: number,
    gradLogits: FloatArray,
    outOffset: number,
  ): void {
    const n = this.n, nn = n * n, it = this.#iterates, g = this.#grad;
    // Exactly the steps that the forward of this token ran.
    const steps = 2 * this.#count;
    const axis = this.#axis;
    if (this.eps === 0) {
      // Through H = exp(ℓ_last): g_ℓ = g_H ⊙ H.
      const last = steps * nn;
      for (let k = 0; k < nn; k++) {
        g[k] = gradOut[gOffset + k] * Math.exp(it[last + k]);
      }
      // Through ℓ' = ℓ − logsumexp_axis(ℓ): g_ℓ = g' − y ⊙ Σ_axis g'.
      for (let s = steps - 1; s >= 0; s--) {
        const cols = s % 2 === 0, y = (s + 1) * nn;
        axisSums(g, 0, n, cols, axis);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const k = i * n + j;
            g[k] = g[k] - Math.exp(it[y + k]) * axis[cols ? j : i];
          }
        }
      }
      for (let k = 0; k < nn; k++) gradLogits[outOffset + k] = g[k];
      return;
    }
    for (let k = 0; k < nn; k++) g[k] = gradOut[gOffset + k];
    // Through y = x / (s + eps): g_x = (g − Σ_axis(g ⊙ y)) / (s + eps).
    for (let s = steps - 1; s >= 0; s--) {
      const cols = s % 2 === 0, y = (s + 1) * nn, d = this.#divisors;
      for (let a = 0; a < n; a++) axis[a] = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const k = i * n + j;
          axis[cols ? j : i] += g[k] * it[y + k];
        }
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const k = i * n + j, a = cols ? j : i;
          g[k] = (g[k] - axis[a]) / d[s * n + a];
        }
      }
    }
    // Through M⁰ = S + eps and S = colsoftmax(L): g_L = S ⊙ (g − Σ_col(g ⊙ S)).
    const soft = this.#soft;
    for (let j = 0; j < n; j++) axis[j] = 0;
    for (let k = 0; k < nn; k++) axis[k % n] += g[k] * soft[k];
    for (let k = 0; k < nn; k++) {
      gradLogits[outOffset + k] = soft[k] * (g[k] - axis[k % n]);
    }
  }
}

/** Workers kept between calls, by element type, `n` and settings. */
const workers = new Map<string, SinkhornWorker>();

/** Largest `(2·iterations + 1)·n²` of a worker that is kept between calls. */
const KEEP_WORKER_ELEMENTS = 1 << 16;

/**
 * Returns a {@linkcode SinkhornWorker} for these settings: one kept from an
 * earlier call when its iterate history is at most
 * {@linkcode KEEP_WORKER_ELEMENTS} values, so that repeated calls construct
 * no array; a new one otherwise. Internal.
 */
export function sinkhornWorker(
  like: FloatArray,
  n: number,
  config: SinkhornConfig,
): SinkhornWorker {
  if ((2 * config.iterations + 1) * n * n > KEEP_WORKER_ELEMENTS) {
    return new SinkhornWorker(like, n, config);
  }
  const key = `${
    like instanceof Float64Array ? 64 : 32
  } ${n} ${config.iterations} ${config.eps} ${config.tolerance}`;
  let worker = workers.get(key);
  if (worker === undefined) {
    if (workers.size >= 16) workers.clear();
    worker = new SinkhornWorker(like, n, config);
    workers.set(key, worker);
  }
  return worker;
}

/**
 * Largest deviation from 1 of a row or column sum of the matrix at `off`
 * (`exp` of the iterate in the log domain). NaN when the matrix holds NaN.
 */
function deviation(
  a: FloatArray,
  off: number,
  n: number,
  log: boolean,
  cols: Float64Array,
): number {
  let dev = 0;
  cols.fill(0);
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) {
      const v = log ? Math.exp(a[off + i * n + j]) : a[off + i * n + j];
      row += v;
      cols[j] += v;
    }
    dev = Math.max(dev, Math.abs(row - 1));
  }
  for (let j = 0; j < n; j++) dev = Math.max(dev, Math.abs(cols[j] - 1));
  return dev;
}

/** One log-domain normalisation along columns (`cols`) or rows. */
function logNormalize(
  a: FloatArray,
  from: number,
  to: number,
  n: number,
  cols: boolean,
): void {
  for (let p = 0; p < n; p++) {
    // p is the column (cols) or row index; q runs along it.
    let m = -Infinity;
    for (let q = 0; q < n; q++) {
      const v = a[from + (cols ? q * n + p : p * n + q)];
      if (v > m) m = v;
    }
    let s = 0;
    for (let q = 0; q < n; q++) {
      s += Math.exp(a[from + (cols ? q * n + p : p * n + q)] - m);
    }
    const lse = m + Math.log(s);
    for (let q = 0; q < n; q++) {
      const k = cols ? q * n + p : p * n + q;
      a[to + k] = a[from + k] - lse;
    }
  }
}

/** One linear-domain normalisation `x / (sum + eps)`, recording divisors. */
function linearNormalize(
  a: FloatArray,
  from: number,
  to: number,
  n: number,
  cols: boolean,
  eps: number,
  divisors: Float64Array,
  dOffset: number,
): void {
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let q = 0; q < n; q++) s += a[from + (cols ? q * n + p : p * n + q)];
    const d = s + eps;
    divisors[dOffset + p] = d;
    for (let q = 0; q < n; q++) {
      const k = cols ? q * n + p : p * n + q;
      a[to + k] = a[from + k] / d;
    }
  }
}

/** Column softmax of one `n × n` block, stabilised by the column maximum. */
function columnSoftmax(
  logits: FloatArray,
  off: number,
  out: FloatArray,
  n: number,
): void {
  for (let j = 0; j < n; j++) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, logits[off + i * n + j]);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp(logits[off + i * n + j] - m);
      out[i * n + j] = e;
      s += e;
    }
    for (let i = 0; i < n; i++) out[i * n + j] = out[i * n + j] / s;
  }
}

/** Sums of an `n × n` block along columns (per column) or rows (per row). */
function axisSums(
  a: FloatArray,
  off: number,
  n: number,
  cols: boolean,
  out: Float64Array,
): void {
  for (let p = 0; p < n; p++) out[p] = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[cols ? j : i] += a[off + i * n + j];
  }
}

/**
 * The checked output of a Sinkhorn op, or a new array. The output may be one
 * of the inputs exactly (same memory), not a partial overlap.
 */
function sinkhornOut<A extends FloatArray>(
  out: unknown,
  logits: A,
  n: number,
  T: number,
  inputs: (readonly [string, A])[],
): A {
  if (out === undefined) return alloc(logits, T * n * n);
  const o = checkOut(
    "out",
    out,
    logits,
    "logits",
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  checkDisjoint(
    "out",
    o,
    inputs.filter(([, a]) => !sameMemory(a, o)),
  );
  return o;
}

function sameMemory(a: FloatArray, b: FloatArray): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset &&
    a.length === b.length;
}

function checkSinkhornArgs(
  logits: unknown,
  options: SinkhornKnoppOptions,
): { n: number; T: number; config: SinkhornConfig; logits: FloatArray } {
  checkObject("options", options);
  const n = checkPositiveInt("n", options.n);
  const T = checkPositiveInt("T", options.T);
  const config = sinkhornConfig(options);
  const l = checkArray(
    "logits",
    logits,
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  return { n, T, config, logits: l };
}

/**
 * Projects each token's `n × n` logits onto the doubly stochastic matrices by
 * Sinkhorn-Knopp (SPEC §4): column normalisation first, row normalisation
 * last, `iterations` times. Rows of the result sum to 1 (to rounding, with
 * `eps = 0`); columns sum to 1 only up to the truncation error, which shrinks
 * with `iterations` but can stay large for peaked logits (0.136 was seen
 * after 20 iterations in training). Set `tolerance` to iterate until every
 * row and column sum is within it of 1, capped by `iterations`; see
 * {@linkcode SinkhornOptions.tolerance} and {@linkcode sinkhornIterationCounts}.
 *
 * NaN or `+Infinity` in a token's logits makes that token's whole output
 * (and gradient) NaN; other tokens are unaffected. A `−Infinity` logit is an
 * exact zero weight: that output entry is `0` and the others stay finite. A
 * column (or, with `eps = 0`, a row) made only of `−Infinity` makes NaN
 * appear in that token's output.
 *
 * With `options.out` the result is written into that array, which is
 * returned; the call then constructs no array of output size (its scratch is
 * `O((2·iterations + 1)·n²)`, kept between calls unless that exceeds 65,536
 * values).
 *
 * @param logits Logits `[T, n, n]`, row-major; entry `(i, j)` of a token is
 *   the weight of input stream `j` in output stream `i` before projection.
 * @param options Sizes `n` and `T`, the optional `iterations`, `eps`
 *   and `tolerance`, and an optional output array `out`.
 * @returns The projected matrices `[T, n, n]`, of the same array type as
 *   `logits`: `options.out` when given, else a new array.
 * @throws {RangeError} When a size is not a positive integer, the length
 *   of `logits` or `out` is not `T·n·n`, `eps` or `tolerance` is negative or
 *   not finite, or `out` partly overlaps `logits`.
 * @throws {TypeError} When `logits` is not a `Float32Array`/`Float64Array`,
 *   or `out` is not an array of the same type.
 *
 * @example Rows and columns sum to one
 * ```ts
 * import { sinkhornKnopp } from "@birkhoff/mhc";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const logits = new Float32Array([2, 0, 1, -1]); // one token, n = 2
 * const h = sinkhornKnopp(logits, { n: 2, T: 1 });
 * assertAlmostEquals(h[0] + h[1], 1, 1e-6); // row 0
 * assertAlmostEquals(h[0] + h[2], 1, 1e-4); // column 0
 * ```
 *
 * @example Iterate until the columns are within 1e-6 of 1
 * ```ts
 * import { sinkhornKnopp } from "@birkhoff/mhc";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const logits = new Float64Array([6, 0, 0, 0]); // peaked: slow columns
 * const options = { n: 2, T: 1, iterations: 200, tolerance: 1e-6 };
 * const h = sinkhornKnopp(logits, options);
 * assertAlmostEquals(h[0] + h[2], 1, 1e-6); // column 0
 * assertAlmostEquals(h[1] + h[3], 1, 1e-6); // column 1
 * ```
 */
export function sinkhornKnopp<A extends FloatArray>(
  logits: A,
  options: SinkhornKnoppOutputOptions<A>,
): A {
  const { n, T, config } = checkSinkhornArgs(logits, options);
  const out = sinkhornOut(options.out, logits, n, T, [["logits", logits]]);
  const worker = sinkhornWorker(logits, n, config);
  for (let t = 0; t < T; t++) worker.forward(logits, t * n * n, out, t * n * n);
  return out;
}

/**
 * Exact reverse-mode gradient of {@linkcode sinkhornKnopp}: it recomputes the
 * forward iterates and backpropagates through all the normalisations that
 * ran (`2·iterations`, or with a `tolerance` twice each token's own count,
 * found by the same stopping rule as the forward), with no fixed-point
 * approximation, so it matches finite differences for any number of
 * iterations. With a `tolerance` the count is piecewise constant in the
 * logits: this is the derivative wherever it does not switch.
 *
 * With `options.out` the gradient is written into that array, which is
 * returned; the call then constructs no array of output size (scratch as for
 * {@linkcode sinkhornKnopp}).
 *
 * @param logits The logits `[T, n, n]` given to the forward.
 * @param gradOutput Upstream gradient of the forward's output, `[T, n, n]`.
 * @param options The same options as the forward, and an optional output
 *   array `out`.
 * @returns The gradient with respect to `logits`, `[T, n, n]`:
 *   `options.out` when given, else a new array.
 * @throws {RangeError} When a size or length is wrong, or `out` partly
 *   overlaps `logits` or `gradOutput`.
 * @throws {TypeError} When an array has the wrong type, or the arrays differ in type.
 *
 * @example Gradient of one output entry
 * ```ts
 * import { sinkhornKnoppBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const logits = new Float64Array([0.5, -0.2, 0.1, 0.3]);
 * const upstream = new Float64Array([1, 0, 0, 0]); // d H[0][0]
 * const grad = sinkhornKnoppBackward(logits, upstream, { n: 2, T: 1 });
 * assertEquals(grad.length, 4);
 * ```
 */
export function sinkhornKnoppBackward<A extends FloatArray>(
  logits: A,
  gradOutput: A,
  options: SinkhornKnoppBackwardOptions<A>,
): A {
  const { n, T, config } = checkSinkhornArgs(logits, options);
  checkArray(
    "gradOutput",
    gradOutput,
    T * n * n,
    `[T, n, n] = [${T}, ${n}, ${n}]`,
  );
  checkSameType("gradOutput", gradOutput, logits, "logits");
  const out = sinkhornOut(options.out, logits, n, T, [
    ["logits", logits],
    ["gradOutput", gradOutput],
  ]);
  const worker = sinkhornWorker(logits, n, config);
  const h = scratch(logits, SLOT.sinkhornOut, n * n);
  for (let t = 0; t < T; t++) {
    worker.forward(logits, t * n * n, h, 0);
    worker.backward(gradOutput, t * n * n, out, t * n * n);
  }
  return out;
}

/**
 * Number of (column, row) iterations that {@linkcode sinkhornKnopp} runs for
 * each token under `options`: `iterations` without a `tolerance`, otherwise
 * the first count after which every row and column sum is within
 * `tolerance` of 1, at most `iterations`. A diagnostic: it runs the forward.
 *
 * @param logits Logits `[T, n, n]`, row-major.
 * @param options The options of {@linkcode sinkhornKnopp}.
 * @returns The iteration count of each token, `[T]`.
 * @throws {RangeError} When a size, a length or an option is invalid.
 * @throws {TypeError} When `logits` is not a `Float32Array`/`Float64Array`.
 *
 * @example A peaked token needs more iterations than a flat one
 * ```ts
 * import { sinkhornIterationCounts } from "@birkhoff/mhc";
 * import { assertEquals, assertLess } from "@std/assert";
 *
 * const logits = new Float64Array([0, 0, 0, 0, 6, 0, 0, 0]); // n = 2, T = 2
 * const counts = sinkhornIterationCounts(logits, {
 *   n: 2,
 *   T: 2,
 *   iterations: 200,
 *   tolerance: 1e-6,
 * });
 * assertEquals(counts[0], 1); // uniform: doubly stochastic at once
 * assertLess(counts[0], counts[1]);
 * ```
 */
export function sinkhornIterationCounts(
  logits: FloatArray,
  options: SinkhornKnoppOptions,
): Uint32Array {
  const { n, T, config } = checkSinkhornArgs(logits, options);
  const counts = new Uint32Array(T);
  const worker = sinkhornWorker(logits, n, config);
  const h = scratch(logits, SLOT.sinkhornOut, n * n);
  for (let t = 0; t < T; t++) {
    counts[t] = worker.forward(logits, t * n * n, h, 0);
  }
  return counts;
}
