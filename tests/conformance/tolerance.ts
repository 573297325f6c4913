// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: element-by-element comparison against the float64
 * reference, `|a − b| <= atol + rtol·|ref|` for EVERY element (tails
 * included), and the tolerances of the multilinear stream ops.
 *
 * @module
 */

import { AssertionError } from "@std/assert";

/** Absolute and relative tolerance of one output. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Storage precision a backend computes in. */
export type Precision = "f32" | "f16";

/** Unit roundoff of float32, 2⁻²⁴. */
export const U32 = 2 ** -24;
/** Unit roundoff of binary16, 2⁻¹¹. */
export const U16 = 2 ** -11;

/**
 * Tolerance of an output of a multilinear op (pre, post and their
 * backwards: every output is a sum of products of inputs), given
 * `scale = max over elements of Σ|terms|` (the same op applied to the
 * absolute values of the inputs, in float64).
 *
 * - f32: a sum of products evaluated in float32 in any order of depth `d`
 *   (sequential, vec4 dot, or tree) is within `d·u·Σ|terms|` of the exact
 *   value (Higham, Accuracy and Stability, §3.1). The kernels' depth is at
 *   most C/(4·64) sequential steps + 4 + log2(64) ≈ 16 for the sizes tested,
 *   and the float32 reference's sequential sums have random-walk error far
 *   below their worst case: `atol = 32·u32·scale`. The final rounding of a
 *   stored result adds at most `u32·|ref|`: `rtol = 2·u32`.
 * - f16: the streams are rounded to binary16 on upload (each product has at
 *   most two rounded factors: `2·u16` relative), the arithmetic is float32,
 *   and stream outputs are rounded to binary16 once (`u16·|ref|`):
 *   `atol = 4·u16·scale`, `rtol = 2·u16` (a factor 2 of margin on each).
 *
 * A wrong index, a dropped term or a missing tail element changes an output
 * by about one term, far above these bounds for the magnitudes used.
 *
 * @param precision The backend's stream precision.
 * @param scale `max Σ|terms|` of the output.
 * @returns The tolerance.
 */
export function multilinearTolerance(
  precision: Precision,
  scale: number,
): Tolerance {
  return precision === "f16"
    ? { atol: 4 * U16 * scale, rtol: 2 * U16 }
    : { atol: 32 * U32 * scale, rtol: 2 * U32 };
}

/**
 * Asserts that every element of `actual` is within `atol + rtol·|ref|` of
 * `expected`, and that the lengths match. The message names the output, the
 * worst element, and how many elements failed.
 *
 * @param actual The backend's result.
 * @param expected The float64 reference.
 * @param tol The tolerance.
 * @param label Names the output in the message.
 */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label: string,
): void {
  if (actual.length !== expected.length) {
    throw new AssertionError(
      `${label}: length ${actual.length}, expected ${expected.length}`,
    );
  }
  let bad = 0, worst = -1, worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const bound = tol.atol + tol.rtol * Math.abs(e);
    const err = Math.abs(a - e);
    // NaN fails: !(NaN <= bound).
    if (!(err <= bound)) {
      bad++;
      const ratio = Number.isNaN(err) ? Infinity : err / bound;
      if (worst < 0 || ratio > worstRatio) [worst, worstRatio] = [i, ratio];
    }
  }
  if (bad > 0) {
    const e = expected[worst], a = actual[worst];
    throw new AssertionError(
      `${label}: ${bad} of ${expected.length} elements outside ` +
        `atol ${tol.atol.toExponential(2)} + rtol ${
          tol.rtol.toExponential(2)
        }·|ref|; ` +
        `worst at [${worst}]: got ${a}, expected ${e} (error ${
          Math.abs(a - e).toExponential(2)
        })`,
    );
  }
}
