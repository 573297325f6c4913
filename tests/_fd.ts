// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: central finite differences in float64 and the comparison of
 * an analytic gradient with them.
 *
 * Criterion (used by every gradient test of the reference):
 *
 * - per element: `|a − fd| <= tol · max(1, |fd|)`, i.e. a relative error for
 *   entries of magnitude above 1 and an absolute one (floor 1) below;
 * - as a whole: `‖a − fd‖₂ <= tol · ‖fd‖₂`, the normalised error, which
 *   cannot hide a wrong small entry behind large ones.
 *
 * With a step `h = 1e-5` on inputs of order 1 the central difference has a
 * truncation error of order `h²·|f'''| ≈ 1e-10` and a rounding error of order
 * `1e-16·|f| / h ≈ 1e-11`, so `tol = 1e-6` leaves four orders of magnitude of
 * margin while still catching any real mistake (those give errors of order 1e-2
 * or more, see reference_mistakes_test.ts).
 *
 * @module
 */

import { AssertionError } from "@std/assert";

/** Default finite-difference step. */
export const FD_STEP = 1e-5;

/** Default tolerance of {@linkcode assertGradientClose}. */
export const FD_TOL = 1e-6;

/**
 * Central-difference gradient of `loss` with respect to every element of
 * `x`. `loss` must read `x` (which is perturbed in place, one element at a
 * time, and restored exactly).
 *
 * @param loss Scalar function of the current contents of `x`.
 * @param x The input to differentiate with respect to.
 * @param h The step.
 * @returns `(loss(x + h·e_k) − loss(x − h·e_k)) / 2h` for every `k`.
 */
export function fdGradient(
  loss: () => number,
  x: Float64Array,
  h: number = FD_STEP,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const saved = x[k];
    x[k] = saved + h;
    const up = loss();
    x[k] = saved - h;
    const down = loss();
    x[k] = saved;
    g[k] = (up - down) / (2 * h);
  }
  return g;
}

/**
 * Central-difference derivative of a function of one number.
 *
 * @param loss The function.
 * @param v Where to differentiate.
 * @param h The step.
 * @returns `(loss(v + h) − loss(v − h)) / 2h`.
 */
export function fdScalar(
  loss: (v: number) => number,
  v: number,
  h: number = FD_STEP,
): number {
  return (loss(v + h) - loss(v - h)) / (2 * h);
}

/** Errors of an analytic gradient against finite differences. */
export interface GradientError {
  /** `max_k |a_k − fd_k| / max(1, |fd_k|)`. */
  maxElement: number;
  /** `‖a − fd‖₂ / ‖fd‖₂` (0 when both are 0, Infinity when only `fd` is). */
  normRelative: number;
  /** `‖fd‖₂`. */
  fdNorm: number;
}

/**
 * Measures the error of `analytic` against `fd`, element by element.
 *
 * @param analytic The gradient under test.
 * @param fd The finite-difference gradient.
 * @returns The two error measures and the size of `fd`.
 */
export function gradientError(
  analytic: ArrayLike<number>,
  fd: ArrayLike<number>,
): GradientError {
  if (analytic.length !== fd.length) {
    throw new AssertionError(
      `gradient has length ${analytic.length}, expected ${fd.length}`,
    );
  }
  let maxElement = 0, diff2 = 0, fd2 = 0;
  for (let k = 0; k < fd.length; k++) {
    const d = Math.abs(analytic[k] - fd[k]);
    // A NaN difference must fail, so it counts as an infinite error.
    const e = Number.isNaN(d) ? Infinity : d / Math.max(1, Math.abs(fd[k]));
    maxElement = Math.max(maxElement, e);
    diff2 += Number.isNaN(d) ? Infinity : d * d;
    fd2 += fd[k] * fd[k];
  }
  const fdNorm = Math.sqrt(fd2);
  const normRelative = diff2 === 0
    ? 0
    : fd2 === 0
    ? Infinity
    : Math.sqrt(diff2) / fdNorm;
  return { maxElement, normRelative, fdNorm };
}

/**
 * Asserts that `analytic` matches `fd` under the criterion of this module,
 * and returns the measured errors (for reporting).
 *
 * @param name What the gradient is of, for the message.
 * @param analytic The gradient under test.
 * @param fd The finite-difference gradient.
 * @param tol The tolerance of both criteria.
 * @returns The measured errors.
 */
export function assertGradientClose(
  name: string,
  analytic: ArrayLike<number>,
  fd: ArrayLike<number>,
  tol: number = FD_TOL,
): GradientError {
  const err = gradientError(analytic, fd);
  if (!(err.maxElement <= tol) || !(err.normRelative <= tol)) {
    let worst = 0, worstE = -1;
    for (let k = 0; k < fd.length; k++) {
      const e = Math.abs(analytic[k] - fd[k]) / Math.max(1, Math.abs(fd[k]));
      if (!(e <= worstE)) {
        worst = k;
        worstE = e;
      }
    }
    throw new AssertionError(
      `${name}: gradient does not match finite differences: max element error ${
        err.maxElement.toExponential(2)
      }, ` +
        `normalised error ${
          err.normRelative.toExponential(2)
        } (tolerance ${tol}); ` +
        `worst at index ${worst}: analytic ${
          analytic[worst]
        }, finite difference ${fd[worst]}`,
    );
  }
  if (REPORT) {
    console.log(
      `fd ${name}: max element ${err.maxElement.toExponential(2)}, normalised ${
        err.normRelative.toExponential(2)
      }, ‖fd‖ ${err.fdNorm.toExponential(2)}`,
    );
  }
  return err;
}

/** `MHC_FD_REPORT=1` prints every measured error (for reports). */
const REPORT = Deno.env.get("MHC_FD_REPORT") === "1";
