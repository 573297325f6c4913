// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Pre-aggregation `u = H_pre · x` (SPEC §2): each token's `n` streams are
 * combined into the sub-layer input, and its backward.
 *
 * @module
 */

import type { FloatArray, StreamShape } from "./types.ts";
import {
  alloc,
  checkArray,
  checkDisjoint,
  checkObject,
  checkOut,
  checkSameType,
  checkShape,
  tc,
  tn,
  tnc,
} from "../_validate.ts";

/** Gradients returned by {@linkcode mhcPreBackward}. */
export interface MhcPreGrads<A extends FloatArray = FloatArray> {
  /** Gradient with respect to `x`, `[T, n, C]`. */
  x: A;
  /** Gradient with respect to `H_pre`, `[T, n]`. */
  hPre: A;
}

/** Options of {@linkcode mhcPre}: the sizes and an optional output array. */
export interface MhcPreOptions<A extends FloatArray = FloatArray>
  extends StreamShape {
  /**
   * Where to write `u`, `[T, C]`, of the same type as `x`. The call then
   * returns it and constructs no array. It must not share memory with `x`
   * or `hPre`.
   *
   * @example Reuse one output array
   * ```ts
   * import { mhcPre } from "@birkhoff/mhc";
   * import { assertStrictEquals } from "@std/assert";
   *
   * const u = new Float32Array(2); // [T, C] = [1, 2]
   * const x = new Float32Array([1, 2, 10, 20]);
   * const hPre = new Float32Array([1, 0.5]);
   * assertStrictEquals(mhcPre(x, hPre, { n: 2, C: 2, T: 1, out: u }), u);
   * ```
   */
  out?: A;
}

/**
 * Options of {@linkcode mhcPreBackward}: the sizes and optional output
 * arrays.
 */
export interface MhcPreBackwardOptions<A extends FloatArray = FloatArray>
  extends StreamShape {
  /**
   * Where to write the gradients: `x` `[T, n, C]` and/or `hPre` `[T, n]`,
   * each of the same type as `x`. Each one given is overwritten and
   * returned in its place; the other is allocated. With both the call
   * constructs no array. They must not share memory with an input or with
   * each other.
   */
  out?: Partial<MhcPreGrads<A>>;
}

/**
 * Aggregates the streams into the sub-layer input:
 * `u[t][c] = Σ_j H_pre[t][j] · x[t][j][c]`.
 *
 * NaN propagates within its token only: NaN in `x[t][j][c]` makes `u[t][c]`
 * NaN, and NaN in `H_pre[t][j]` makes all of `u[t]` NaN (even where `x` is
 * 0); other tokens are unaffected.
 *
 * @param x Residual states `[T, n, C]`.
 * @param hPre Per-token weights `[T, n]`.
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns The sub-layer input `u`, `[T, C]`: `options.out` when given,
 *   else a new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with an input.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Weighted sum of two streams
 * ```ts
 * import { mhcPre } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Float32Array([1, 2, 10, 20]); // T = 1, n = 2, C = 2
 * const u = mhcPre(x, new Float32Array([1, 0.5]), { n: 2, C: 2, T: 1 });
 * assertEquals([...u], [6, 12]);
 * ```
 */
export function mhcPre<A extends FloatArray>(
  x: A,
  hPre: A,
  options: MhcPreOptions<A>,
): A {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray("x", x, T * n * C, tnc(s));
  checkArray("hPre", hPre, T * n, tn(s));
  checkSameType("hPre", hPre, x, "x");
  let u: A;
  if (options.out === undefined) {
    u = alloc(x, T * C);
  } else {
    u = checkOut("out", options.out, x, "x", T * C, tc(s));
    checkDisjoint("out", u, [["x", x], ["hPre", hPre]]);
  }
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let j = 0; j < n; j++) {
        acc += hPre[t * n + j] * x[(t * n + j) * C + c];
      }
      u[t * C + c] = acc;
    }
  }
  return u;
}

/**
 * Backward of {@linkcode mhcPre}:
 * `g_x[t][j][c] = H_pre[t][j]·g_u[t][c]` and `g_H_pre[t][j] = Σ_c x[t][j][c]·g_u[t][c]`.
 *
 * @param x Residual states `[T, n, C]` given to the forward.
 * @param hPre Weights `[T, n]` given to the forward.
 * @param gradU Upstream gradient of `u`, `[T, C]`.
 * @param options Sizes `n`, `C`, `T`, and optional output arrays `out`.
 * @returns Gradients of `x` and `hPre`: the arrays of `options.out` where
 *   given, else new ones.
 * @throws {RangeError} When a size or length is wrong, or an output shares
 *   memory with an input or the other output.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Gradient of the weights
 * ```ts
 * import { mhcPreBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Float32Array([1, 2, 10, 20]);
 * const g = mhcPreBackward(x, new Float32Array([1, 0.5]), new Float32Array([1, 1]), {
 *   n: 2, C: 2, T: 1,
 * });
 * assertEquals([...g.hPre], [3, 30]);
 * ```
 *
 * @example Write the gradients into arrays you keep
 * ```ts
 * import { mhcPreBackward } from "@birkhoff/mhc";
 * import { assertStrictEquals } from "@std/assert";
 *
 * const out = { x: new Float32Array(4), hPre: new Float32Array(2) };
 * const g = mhcPreBackward(
 *   new Float32Array([1, 2, 10, 20]), new Float32Array([1, 0.5]),
 *   new Float32Array([1, 1]), { n: 2, C: 2, T: 1, out },
 * );
 * assertStrictEquals(g.x, out.x);
 * ```
 */
export function mhcPreBackward<A extends FloatArray>(
  x: A,
  hPre: A,
  gradU: A,
  options: MhcPreBackwardOptions<A>,
): MhcPreGrads<A> {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray("x", x, T * n * C, tnc(s));
  checkArray("hPre", hPre, T * n, tn(s));
  checkArray("gradU", gradU, T * C, tc(s));
  checkSameType("hPre", hPre, x, "x");
  checkSameType("gradU", gradU, x, "x");
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const inputs = [["x", x], ["hPre", hPre], ["gradU", gradU]] as const;
  let gx: A, gh: A;
  if (o?.x === undefined) {
    gx = alloc(x, T * n * C);
  } else {
    gx = checkOut("out.x", o.x, x, "x", T * n * C, tnc(s));
    checkDisjoint("out.x", gx, inputs);
  }
  if (o?.hPre === undefined) {
    gh = alloc(x, T * n);
  } else {
    gh = checkOut("out.hPre", o.hPre, x, "x", T * n, tn(s));
    checkDisjoint("out.hPre", gh, [...inputs, ["out.x", gx]]);
  }
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < n; j++) {
      const w = hPre[t * n + j], row = (t * n + j) * C;
      let acc = 0;
      for (let c = 0; c < C; c++) {
        const g = gradU[t * C + c];
        gx[row + c] = w * g;
        acc += x[row + c] * g;
      }
      gh[t * n + j] = acc;
    }
  }
  return { x: gx, hPre: gh };
}
