// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * RMSNorm with a learned gain, forward and backward:
 * `out = x · r · w` with `r = 1 / sqrt(mean(x²) + ε)`.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

/** `ε` of the model's RMSNorms. */
export const RMSNORM_EPS = 1e-5;

/**
 * @param out Output `[N, C]` (overwritten).
 * @param rstd `r` per row, `[N]` (written, for the backward).
 * @param x Input `[N, C]`.
 * @param w Gain `[C]`.
 * @param N Rows.
 * @param C Width.
 */
export function rmsnormForward(
  out: FloatArray,
  rstd: FloatArray,
  x: FloatArray,
  w: FloatArray,
  N: number,
  C: number,
): void {
  for (let t = 0; t < N; t++) {
    const row = t * C;
    let sq = 0;
    for (let c = 0; c < C; c++) sq += x[row + c] * x[row + c];
    const r = 1 / Math.sqrt(sq / C + RMSNORM_EPS);
    rstd[t] = r;
    for (let c = 0; c < C; c++) out[row + c] = x[row + c] * r * w[c];
  }
}

/**
 * Backward of {@linkcode rmsnormForward}:
 * `dx = r·w·dout − r³·x·mean(w·dout·x)`, `dw += Σ_t dout·x·r`.
 *
 * @param dx Gradient of the input `[N, C]` (accumulated into).
 * @param dw Gradient of the gain `[C]` (accumulated into).
 * @param dout Gradient of the output `[N, C]`.
 * @param x Input `[N, C]`.
 * @param w Gain `[C]`.
 * @param rstd `r` per row from the forward.
 * @param N Rows.
 * @param C Width.
 */
export function rmsnormBackward(
  dx: FloatArray,
  dw: FloatArray,
  dout: FloatArray,
  x: FloatArray,
  w: FloatArray,
  rstd: FloatArray,
  N: number,
  C: number,
): void {
  for (let t = 0; t < N; t++) {
    const row = t * C, r = rstd[t];
    let dot = 0;
    for (let c = 0; c < C; c++) dot += w[c] * dout[row + c] * x[row + c];
    const k = (r * r * r * dot) / C;
    for (let c = 0; c < C; c++) {
      const g = dout[row + c];
      dx[row + c] += r * w[c] * g - k * x[row + c];
      dw[c] += g * x[row + c] * r;
    }
  }
}
