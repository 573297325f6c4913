// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Fused post mixing `x' = H_res·x + H_post·y` (SPEC §2): the residual
 * streams are mixed by `H_res` (from the left) and the sub-layer output is
 * added to every stream with weight `H_post`; and its backward.
 *
 * @module
 */

import type { FloatArray, StreamShape } from "./types.ts";
import {
  alloc,
  checkArray,
  checkSameType,
  checkShape,
  tc,
  tn,
  tnc,
  tnn,
} from "../_validate.ts";

/** Gradients returned by {@linkcode mhcPostBackward}. */
export interface MhcPostGrads<A extends FloatArray = FloatArray> {
  /** Gradient with respect to `x`, `[T, n, C]`. */
  x: A;
  /** Gradient with respect to `y`, `[T, C]`. */
  y: A;
  /** Gradient with respect to `H_post`, `[T, n]`. */
  hPost: A;
  /** Gradient with respect to `H_res`, `[T, n, n]`. */
  hRes: A;
}

function checkPost(
  x: FloatArray,
  y: FloatArray,
  hPost: FloatArray,
  hRes: FloatArray,
  options: StreamShape,
): StreamShape {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray("x", x, T * n * C, tnc(s));
  checkArray("y", y, T * C, tc(s));
  checkArray("hPost", hPost, T * n, tn(s));
  checkArray("hRes", hRes, T * n * n, tnn(s));
  checkSameType("y", y, x, "x");
  checkSameType("hPost", hPost, x, "x");
  checkSameType("hRes", hRes, x, "x");
  return s;
}

/**
 * Mixes the residual streams and adds the sub-layer output, in one pass:
 * `x'[t][i][c] = Σ_j H_res[t][i][j]·x[t][j][c] + H_post[t][i]·y[t][c]`.
 *
 * NaN propagates within its token only: NaN in `x[t][j][c]` or `y[t][c]`
 * makes channel `c` of every output stream of token `t` NaN, and NaN in
 * `H_res[t][i][j]` or `H_post[t][i]` makes all of output stream `i` of token
 * `t` NaN (even where it multiplies 0); other tokens are unaffected.
 *
 * @param x Residual states `[T, n, C]`.
 * @param y Sub-layer output `[T, C]`.
 * @param hPost Per-token output weights `[T, n]`.
 * @param hRes Per-token mixing matrices `[T, n, n]`, row `i` = output stream `i`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns The new residual states `x'`, `[T, n, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Swap two streams and add the layer output
 * ```ts
 * import { mhcPost } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Float32Array([1, 2]); // T = 1, n = 2, C = 1
 * const out = mhcPost(x, new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), { n: 2, C: 1, T: 1 });
 * assertEquals([...out], [12, 1]);
 * ```
 */
export function mhcPost<A extends FloatArray>(
  x: A,
  y: A,
  hPost: A,
  hRes: A,
  options: StreamShape,
): A {
  const { n, C, T } = checkPost(x, y, hPost, hRes, options);
  const out = alloc(x, T * n * C);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const hp = hPost[t * n + i], row = (t * n + i) * C;
      for (let c = 0; c < C; c++) {
        let acc = hp * y[t * C + c];
        for (let j = 0; j < n; j++) {
          acc += hRes[(t * n + i) * n + j] * x[(t * n + j) * C + c];
        }
        out[row + c] = acc;
      }
    }
  }
  return out;
}

/**
 * Backward of {@linkcode mhcPost}:
 * `g_x[j] = Σ_i H_res[i][j]·g[i]`, `g_y = Σ_i H_post[i]·g[i]`,
 * `g_H_post[i] = Σ_c g[i][c]·y[c]`, `g_H_res[i][j] = Σ_c g[i][c]·x[j][c]`.
 *
 * @param x Residual states `[T, n, C]` given to the forward.
 * @param y Sub-layer output `[T, C]` given to the forward.
 * @param hPost Weights `[T, n]` given to the forward.
 * @param hRes Matrices `[T, n, n]` given to the forward.
 * @param gradOut Upstream gradient of `x'`, `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns Gradients of `x`, `y`, `hPost` and `hRes`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Gradient of the layer output
 * ```ts
 * import { mhcPostBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const g = mhcPostBackward(
 *   new Float32Array([1, 2]), new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), new Float32Array([1, 1]), { n: 2, C: 1, T: 1 },
 * );
 * assertEquals([...g.y], [1]);
 * ```
 */
export function mhcPostBackward<A extends FloatArray>(
  x: A,
  y: A,
  hPost: A,
  hRes: A,
  gradOut: A,
  options: StreamShape,
): MhcPostGrads<A> {
  const s = checkPost(x, y, hPost, hRes, options);
  const { n, C, T } = s;
  checkArray("gradOut", gradOut, T * n * C, tnc(s));
  checkSameType("gradOut", gradOut, x, "x");
  const gx = alloc(x, T * n * C), gy = alloc(x, T * C);
  const gPost = alloc(x, T * n), gRes = alloc(x, T * n * n);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let accY = 0;
      for (let i = 0; i < n; i++) {
        accY += hPost[t * n + i] * gradOut[(t * n + i) * C + c];
      }
      gy[t * C + c] = accY;
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          acc += hRes[(t * n + i) * n + j] * gradOut[(t * n + i) * C + c];
        }
        gx[(t * n + j) * C + c] = acc;
      }
    }
    for (let i = 0; i < n; i++) {
      const gRow = (t * n + i) * C;
      let accP = 0;
      for (let c = 0; c < C; c++) accP += gradOut[gRow + c] * y[t * C + c];
      gPost[t * n + i] = accP;
      for (let j = 0; j < n; j++) {
        const xRow = (t * n + j) * C;
        let acc = 0;
        for (let c = 0; c < C; c++) acc += gradOut[gRow + c] * x[xRow + c];
        gRes[(t * n + i) * n + j] = acc;
      }
    }
  }
  return { x: gx, y: gy, hPost: gPost, hRes: gRes };
}
