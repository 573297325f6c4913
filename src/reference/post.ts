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
  checkDisjoint,
  checkObject,
  checkOut,
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

/** Options of {@linkcode mhcPost}: the sizes and an optional output array. */
export interface MhcPostOptions<A extends FloatArray = FloatArray>
  extends StreamShape {
  /**
   * Where to write `x'`, `[T, n, C]`, of the same type as `x`. The call
   * then returns it and constructs no array. It must not share memory with
   * any input: in particular it cannot be `x` (every stream of a token is
   * read for each output stream).
   *
   * @example Reuse one output array
   * ```ts
   * import { mhcPost } from "@birkhoff/mhc";
   * import { assertEquals, assertStrictEquals } from "@std/assert";
   *
   * const next = new Float32Array(2); // [T, n, C] = [1, 2, 1]
   * const out = mhcPost(new Float32Array([1, 2]), new Float32Array([10]),
   *   new Float32Array([1, 0]), new Float32Array([0, 1, 1, 0]),
   *   { n: 2, C: 1, T: 1, out: next });
   * assertStrictEquals(out, next);
   * assertEquals([...next], [12, 1]);
   * ```
   */
  out?: A;
}

/**
 * Options of {@linkcode mhcPostBackward}: the sizes and optional output
 * arrays.
 */
export interface MhcPostBackwardOptions<A extends FloatArray = FloatArray>
  extends StreamShape {
  /**
   * Where to write the gradients: any of `x` `[T, n, C]`, `y` `[T, C]`,
   * `hPost` `[T, n]` and `hRes` `[T, n, n]`, each of the same type as `x`.
   * Each one given is overwritten and returned in its place; the others are
   * allocated. With all four the call constructs no array. They must not
   * share memory with an input or with one another.
   */
  out?: Partial<MhcPostGrads<A>>;
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
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns The new residual states `x'`, `[T, n, C]`: `options.out` when
 *   given, else a new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with an input.
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
  options: MhcPostOptions<A>,
): A {
  const s = checkPost(x, y, hPost, hRes, options);
  const { n, C, T } = s;
  let out: A;
  if (options.out === undefined) {
    out = alloc(x, T * n * C);
  } else {
    out = checkOut("out", options.out, x, "x", T * n * C, tnc(s));
    checkDisjoint("out", out, [
      ["x", x],
      ["y", y],
      ["hPost", hPost],
      ["hRes", hRes],
    ]);
  }
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
 * @param options Sizes `n`, `C`, `T`, and optional output arrays `out`.
 * @returns Gradients of `x`, `y`, `hPost` and `hRes`: the arrays of
 *   `options.out` where given, else new ones.
 * @throws {RangeError} When a size or length is wrong, or an output shares
 *   memory with an input or another output.
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
 *
 * @example Write the gradients into arrays you keep
 * ```ts
 * import { mhcPostBackward } from "@birkhoff/mhc";
 * import { assertStrictEquals } from "@std/assert";
 *
 * const out = {
 *   x: new Float32Array(2), y: new Float32Array(1),
 *   hPost: new Float32Array(2), hRes: new Float32Array(4),
 * };
 * const g = mhcPostBackward(
 *   new Float32Array([1, 2]), new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), new Float32Array([1, 1]),
 *   { n: 2, C: 1, T: 1, out },
 * );
 * assertStrictEquals(g.hRes, out.hRes);
 * ```
 */
export function mhcPostBackward<A extends FloatArray>(
  x: A,
  y: A,
  hPost: A,
  hRes: A,
  gradOut: A,
  options: MhcPostBackwardOptions<A>,
): MhcPostGrads<A> {
  const s = checkPost(x, y, hPost, hRes, options);
  const { n, C, T } = s;
  checkArray("gradOut", gradOut, T * n * C, tnc(s));
  checkSameType("gradOut", gradOut, x, "x");
  const o = options.out;
  if (o !== undefined) checkObject("out", o);
  const seen: [string, A][] = [
    ["x", x],
    ["y", y],
    ["hPost", hPost],
    ["hRes", hRes],
    ["gradOut", gradOut],
  ];
  const take = (name: keyof MhcPostGrads, length: number, shape: string) => {
    const value = o?.[name];
    if (value === undefined) return alloc(x, length);
    const a = checkOut(`out.${name}`, value, x, "x", length, shape);
    checkDisjoint(`out.${name}`, a, seen);
    seen.push([`out.${name}`, a]);
    return a;
  };
  const gx = take("x", T * n * C, tnc(s)), gy = take("y", T * C, tc(s));
  const gPost = take("hPost", T * n, tn(s)),
    gRes = take("hRes", T * n * n, tnn(s));
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
