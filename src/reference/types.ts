// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Types shared by the reference ops and the WebGPU runtime.
 *
 * @module
 */

/**
 * An array the reference ops accept. `Float32Array` gives float32 storage
 * semantics (every stored intermediate is rounded to f32, as on the GPU);
 * `Float64Array` gives a float64 path for finite-difference gradient checks.
 * Every op returns arrays of the same type as its main input.
 */
export type FloatArray = Float32Array | Float64Array;

/**
 * The shape of a batch of mHC residual states: `T` tokens, each an `n × C`
 * matrix stored row-major as `[T, n, C]` (SPEC §1).
 */
export interface StreamShape {
  /** Number of parallel residual streams (the expansion rate), `n >= 1`. */
  n: number;
  /** Number of channels (the model width), `C >= 1`. */
  C: number;
  /** Number of tokens (batch × sequence, flattened), `T >= 1`. */
  T: number;
}

/** Options of the Sinkhorn-Knopp projection (SPEC §4). */
export interface SinkhornOptions {
  /** Number of (column, row) normalisation pairs. Default `20`. */
  iterations?: number;
  /**
   * DeepSeek compatibility epsilon. `0` (the default) is the paper's method;
   * `eps > 0` starts from `colsoftmax(L) + eps` and divides every
   * normalisation by `sum + eps`, as DeepSeek's released code does.
   */
  eps?: number;
  /**
   * Early stop. When set, the iterations stop after the first full
   * (column, row) iteration after which every row sum and every column sum
   * of the token's matrix is within `tolerance` of 1 (strictly below), and
   * never later than after `iterations`. Each token stops on its own, and
   * the backward differentiates through exactly the iterations that token
   * ran. The check runs after each row step, on the iterate that would be
   * returned: `max(max_i |Σ_j H_ij − 1|, max_j |Σ_i H_ij − 1|)`. Unset (the
   * default) or `0` runs exactly `iterations` iterations. With `eps > 0` the
   * rows sum to `1 − O(eps)`, so a tolerance below about `eps` never stops
   * early. Must be finite and `>= 0`.
   *
   * @example Stop once rows and columns are within 1e-6 of 1
   * ```ts
   * import { sinkhornKnopp } from "@birkhoff/mhc";
   * import { assertAlmostEquals } from "@std/assert";
   *
   * const logits = new Float64Array([2, 0, 1, -1]); // one token, n = 2
   * const h = sinkhornKnopp(logits, {
   *   n: 2,
   *   T: 1,
   *   iterations: 100,
   *   tolerance: 1e-6,
   * });
   * assertAlmostEquals(h[0] + h[2], 1, 1e-6); // column 0
   * ```
   */
  tolerance?: number;
}
