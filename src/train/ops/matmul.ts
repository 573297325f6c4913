// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Dense layer without bias, `out = inp · Wᵀ`, forward and backward (the
 * llm.c layout: `inp [N, C]`, `W [OC, C]`, `out [N, OC]`). Four rows are
 * processed together so that each weight read is used four times.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

/**
 * `out[t][o] = Σ_c inp[t][c] · W[o][c]`.
 *
 * @param out Output `[N, OC]` (overwritten).
 * @param inp Input `[N, C]`.
 * @param w Weight `[OC, C]`.
 * @param N Rows.
 * @param C Input width.
 * @param OC Output width.
 */
export function matmulForward(
  out: FloatArray,
  inp: FloatArray,
  w: FloatArray,
  N: number,
  C: number,
  OC: number,
): void {
  let t = 0;
  for (; t + 4 <= N; t += 4) {
    const a0 = t * C, a1 = a0 + C, a2 = a1 + C, a3 = a2 + C;
    const o0 = t * OC;
    for (let o = 0; o < OC; o++) {
      const wo = o * C;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < C; c++) {
        const wv = w[wo + c];
        s0 += inp[a0 + c] * wv;
        s1 += inp[a1 + c] * wv;
        s2 += inp[a2 + c] * wv;
        s3 += inp[a3 + c] * wv;
      }
      out[o0 + o] = s0;
      out[o0 + OC + o] = s1;
      out[o0 + 2 * OC + o] = s2;
      out[o0 + 3 * OC + o] = s3;
    }
  }
  for (; t < N; t++) {
    const a = t * C;
    for (let o = 0; o < OC; o++) {
      const wo = o * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += inp[a + c] * w[wo + c];
      out[t * OC + o] = s;
    }
  }
}

/**
 * Backward of {@linkcode matmulForward}: accumulates
 * `dinp += dout · W` and `dW += doutᵀ · inp`.
 *
 * @param dinp Gradient of the input `[N, C]` (accumulated into).
 * @param dw Gradient of the weight `[OC, C]` (accumulated into).
 * @param dout Gradient of the output `[N, OC]`.
 * @param inp Input `[N, C]` given to the forward.
 * @param w Weight `[OC, C]`.
 * @param N Rows.
 * @param C Input width.
 * @param OC Output width.
 */
export function matmulBackward(
  dinp: FloatArray,
  dw: FloatArray,
  dout: FloatArray,
  inp: FloatArray,
  w: FloatArray,
  N: number,
  C: number,
  OC: number,
): void {
  // dinp[t] += Σ_o dout[t][o] · W[o]
  let t = 0;
  for (; t + 4 <= N; t += 4) {
    const d0 = t * C, d1 = d0 + C, d2 = d1 + C, d3 = d2 + C;
    const g0 = t * OC;
    for (let o = 0; o < OC; o++) {
      const a = dout[g0 + o], b = dout[g0 + OC + o];
      const c2 = dout[g0 + 2 * OC + o], e = dout[g0 + 3 * OC + o];
      const wo = o * C;
      for (let c = 0; c < C; c++) {
        const wv = w[wo + c];
        dinp[d0 + c] += a * wv;
        dinp[d1 + c] += b * wv;
        dinp[d2 + c] += c2 * wv;
        dinp[d3 + c] += e * wv;
      }
    }
  }
  for (; t < N; t++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[t * OC + o], wo = o * C;
      for (let c = 0; c < C; c++) dinp[t * C + c] += g * w[wo + c];
    }
  }
  // dW[o] += Σ_t dout[t][o] · inp[t]
  let o = 0;
  for (; o + 4 <= OC; o += 4) {
    const w0 = o * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C;
    for (let s = 0; s < N; s++) {
      const g = s * OC + o;
      const a = dout[g], b = dout[g + 1], c2 = dout[g + 2], e = dout[g + 3];
      const x = s * C;
      for (let c = 0; c < C; c++) {
        const v = inp[x + c];
        dw[w0 + c] += a * v;
        dw[w1 + c] += b * v;
        dw[w2 + c] += c2 * v;
        dw[w3 + c] += e * v;
      }
    }
  }
  for (; o < OC; o++) {
    for (let s = 0; s < N; s++) {
      const g = dout[s * OC + o];
      for (let c = 0; c < C; c++) dw[o * C + c] += g * inp[s * C + c];
    }
  }
}
