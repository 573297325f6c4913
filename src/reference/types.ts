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
}
