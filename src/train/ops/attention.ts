// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Causal multi-head self-attention (without the projections), forward and
 * backward, in the llm.c layout: `qkv [B·T, 3C]` holds q, k and v side by
 * side, each split into `H` heads of `C/H` channels.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

/**
 * `out = softmax(q·kᵀ/√hs, causal)·v` per sequence and head.
 *
 * @param out Output `[B·T, C]` (overwritten).
 * @param att Attention probabilities `[B, H, T, T]` (written; zero above the diagonal).
 * @param qkv Queries, keys and values `[B·T, 3C]`.
 * @param B Sequences.
 * @param T Sequence length.
 * @param C Width.
 * @param H Heads.
 */
export function attentionForward(
  out: FloatArray,
  att: FloatArray,
  qkv: FloatArray,
  B: number,
  T: number,
  C: number,
  H: number,
): void {
  const hs = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs;
        const a = ((b * H + h) * T + t) * T;
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + C + h * hs;
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          s *= scale;
          att[a + t2] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const e = Math.exp(att[a + t2] - max);
          att[a + t2] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let t2 = 0; t2 <= t; t2++) att[a + t2] *= inv;
        for (let t2 = t + 1; t2 < T; t2++) att[a + t2] = 0;
        const o = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) out[o + i] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs, p = att[a + t2];
          for (let i = 0; i < hs; i++) out[o + i] += p * qkv[v + i];
        }
      }
    }
  }
}

/**
 * Backward of {@linkcode attentionForward}: accumulates into `dqkv`.
 *
 * @param dqkv Gradient of `qkv` `[B·T, 3C]` (accumulated into).
 * @param scratch Scratch of length `>= T`.
 * @param dout Gradient of the output `[B·T, C]`.
 * @param qkv Queries, keys and values from the forward.
 * @param att Probabilities from the forward.
 * @param B Sequences.
 * @param T Sequence length.
 * @param C Width.
 * @param H Heads.
 */
export function attentionBackward(
  dqkv: FloatArray,
  scratch: FloatArray,
  dout: FloatArray,
  qkv: FloatArray,
  att: FloatArray,
  B: number,
  T: number,
  C: number,
  H: number,
): void {
  const hs = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  const datt = scratch;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const a = ((b * H + h) * T + t) * T;
        const o = (b * T + t) * C + h * hs;
        // Through out = Σ att·v.
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs, p = att[a + t2];
          let s = 0;
          for (let i = 0; i < hs; i++) {
            const g = dout[o + i];
            s += g * qkv[v + i];
            dqkv[v + i] += p * g;
          }
          datt[t2] = s;
          dot += p * s;
        }
        // Through the softmax, then the scaled dot products.
        const q = (b * T + t) * C3 + h * hs;
        for (let t2 = 0; t2 <= t; t2++) {
          const ds = att[a + t2] * (datt[t2] - dot) * scale;
          if (ds === 0) continue;
          const k = (b * T + t2) * C3 + C + h * hs;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += ds * qkv[k + i];
            dqkv[k + i] += ds * qkv[q + i];
          }
        }
      }
    }
  }
}
