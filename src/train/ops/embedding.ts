// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Token plus learned position embedding, forward and backward.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

/**
 * `out[b·T + t] = wte[tokens[b·T + t]] + wpe[t]`.
 *
 * @param out Output `[B·T, C]` (overwritten).
 * @param tokens Token ids `[B·T]`.
 * @param wte Token table `[V, C]`.
 * @param wpe Position table `[maxT, C]`.
 * @param B Sequences.
 * @param T Sequence length.
 * @param C Width.
 */
export function embeddingForward(
  out: FloatArray,
  tokens: ArrayLike<number>,
  wte: FloatArray,
  wpe: FloatArray,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * C, e = tokens[b * T + t] * C, p = t * C;
      for (let c = 0; c < C; c++) out[row + c] = wte[e + c] + wpe[p + c];
    }
  }
}

/**
 * Backward of {@linkcode embeddingForward}: accumulates into the rows used.
 *
 * @param dwte Gradient of the token table (accumulated into).
 * @param dwpe Gradient of the position table (accumulated into).
 * @param dout Gradient of the output `[B·T, C]`.
 * @param tokens Token ids `[B·T]`.
 * @param B Sequences.
 * @param T Sequence length.
 * @param C Width.
 */
export function embeddingBackward(
  dwte: FloatArray,
  dwpe: FloatArray,
  dout: FloatArray,
  tokens: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * C, e = tokens[b * T + t] * C, p = t * C;
      for (let c = 0; c < C; c++) {
        const g = dout[row + c];
        dwte[e + c] += g;
        dwpe[p + c] += g;
      }
    }
  }
}
