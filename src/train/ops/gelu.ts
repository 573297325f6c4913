// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * GELU (tanh approximation), forward and backward.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

const K = Math.sqrt(2 / Math.PI);

/**
 * `out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
 *
 * @param out Output (overwritten).
 * @param x Input.
 * @param N Number of elements.
 */
export function geluForward(out: FloatArray, x: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(K * (v + 0.044715 * v * v * v)));
  }
}

/**
 * Backward of {@linkcode geluForward}.
 *
 * @param dx Gradient of the input (accumulated into).
 * @param x Input of the forward.
 * @param dout Gradient of the output.
 * @param N Number of elements.
 */
export function geluBackward(
  dx: FloatArray,
  x: FloatArray,
  dout: FloatArray,
  N: number,
): void {
  for (let i = 0; i < N; i++) {
    const v = x[i];
    const th = Math.tanh(K * (v + 0.044715 * v * v * v));
    const sech2 = 1 - th * th;
    const grad = 0.5 * (1 + th) +
      0.5 * v * sech2 * K * (1 + 3 * 0.044715 * v * v);
    dx[i] += grad * dout[i];
  }
}
