// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: tolerances of the Sinkhorn-Knopp projection and its
 * backward (also used inside the mHC coefficient cases).
 *
 * Error model, float32 (unit roundoff u = 2⁻²⁴), S = 2·iterations steps:
 *
 * - Forward. Each normalisation rounds the iterate; in the log domain an
 *   output-relevant entry H = exp(ℓ) has H·|ℓ| <= 1/e, so a step adds a few
 *   u of absolute error to H, and in the linear domain a few u relative.
 *   Sinkhorn-Knopp does not amplify perturbations (it is non-expansive in
 *   Hilbert's projective metric, Birkhoff-Hopf), so at worst the step errors
 *   add up: O(u·S). Logits of magnitude m are resolved only to u·m in
 *   float32 (the first normalisation subtracts a logsumexp of size m), and
 *   exp turns that into a relative error u·m of H <= 1: O(u·m).
 *   Tolerance: atol = 8·u·(S + m), rtol = 0.
 * - Backward. The same perturbations, times the upstream gradient: with
 *   G = max|g_H|, atol = 2·u·G·(S + m).
 *
 * The constants leave a margin of about 10 over the largest errors observed
 * (0.71·u·(S + m) forward and 0.22·u·G·(S + m) backward) over n in
 * {1, 2, 3, 4, 8}, iterations in {1, 3, 20, 40}, eps in {0, 1e-6, 0.1} and
 * logits up to ±3e4, on lavapipe and on the float32 reference. A wrong axis,
 * order, step count or eps placement moves entries by far more when the
 * iteration has not converged (the 1- and 3-iteration cases) or eps is
 * large (0.1).
 *
 * @module
 */

import type { Tolerance } from "./tolerance.ts";
import { U32 } from "./tolerance.ts";

/**
 * Tolerances of the Sinkhorn forward (on H) and backward (on g_L).
 *
 * @param iterations Iterations of the projection.
 * @param m Largest absolute logit, at least 1.
 * @param g Largest absolute upstream gradient (backward).
 * @returns The forward and backward tolerances.
 */
export function sinkhornTolerance(
  iterations: number,
  m: number,
  g: number,
): { forward: Tolerance; backward: Tolerance } {
  const s = 2 * iterations + m;
  return {
    forward: { atol: 8 * U32 * s, rtol: 0 },
    backward: { atol: 2 * U32 * g * s, rtol: 0 },
  };
}
