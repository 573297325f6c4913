// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Stream expansion and reduction (SPEC §5): the token embedding is copied
 * into all `n` streams at the input, and the streams are summed at the output.
 * Each is the other's backward.
 *
 * @module
 */

import type { FloatArray, StreamShape } from "./types.ts";
import {
  alloc,
  checkArray,
  checkDisjoint,
  checkOut,
  checkShape,
  tc,
  tnc,
} from "../_validate.ts";

/**
 * Options of {@linkcode expandStreams}, {@linkcode reduceStreams} and their
 * backwards: the sizes and an optional output array.
 */
export interface StreamsOptions<A extends FloatArray = FloatArray>
  extends StreamShape {
  /**
   * Where to write the result (`[T, n, C]` for {@linkcode expandStreams}
   * and {@linkcode reduceStreamsBackward}, `[T, C]` for the other two), of
   * the same type as the input. The call then returns it and constructs no
   * array. It must not share memory with the input.
   *
   * @example Reuse one output array
   * ```ts
   * import { reduceStreams } from "@birkhoff/mhc";
   * import { assertEquals, assertStrictEquals } from "@std/assert";
   *
   * const sum = new Float32Array(2); // [T, C] = [1, 2]
   * const y = reduceStreams(new Float32Array([1, 2, 3, 4]), {
   *   n: 2, C: 2, T: 1, out: sum,
   * });
   * assertStrictEquals(y, sum);
   * assertEquals([...sum], [4, 6]);
   * ```
   */
  out?: A;
}

/**
 * Copies each token's embedding `e ∈ R^C` into all `n` streams.
 *
 * @param embedding Embeddings `[T, C]`.
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns Residual states `[T, n, C]`: `options.out` when given, else a
 *   new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with the input.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Two copies of one embedding
 * ```ts
 * import { expandStreams } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const x = expandStreams(new Float32Array([1, 2]), { n: 2, C: 2, T: 1 });
 * assertEquals([...x], [1, 2, 1, 2]);
 * ```
 */
export function expandStreams<A extends FloatArray>(
  embedding: A,
  options: StreamsOptions<A>,
): A {
  return copyStreams("embedding", embedding, options);
}

/**
 * Backward of {@linkcode expandStreams}: sums the gradient over the streams.
 *
 * @param gradX Upstream gradient `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns The gradient of the embedding, `[T, C]`: `options.out` when
 *   given, else a new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with the input.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Gradients of all copies add up
 * ```ts
 * import { expandStreamsBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const g = expandStreamsBackward(new Float32Array([1, 2, 3, 4]), { n: 2, C: 2, T: 1 });
 * assertEquals([...g], [4, 6]);
 * ```
 */
export function expandStreamsBackward<A extends FloatArray>(
  gradX: A,
  options: StreamsOptions<A>,
): A {
  return sumStreams("gradX", gradX, options);
}

/**
 * Sums each token's `n` streams into one vector, before the final RMSNorm.
 *
 * @param x Residual states `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns The sum over streams, `[T, C]`: `options.out` when given, else a
 *   new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with the input.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Sum of two streams
 * ```ts
 * import { reduceStreams } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const y = reduceStreams(new Float32Array([1, 2, 3, 4]), { n: 2, C: 2, T: 1 });
 * assertEquals([...y], [4, 6]);
 * ```
 */
export function reduceStreams<A extends FloatArray>(
  x: A,
  options: StreamsOptions<A>,
): A {
  return sumStreams("x", x, options);
}

/**
 * Backward of {@linkcode reduceStreams}: copies the gradient into every stream.
 *
 * @param gradY Upstream gradient `[T, C]`.
 * @param options Sizes `n`, `C`, `T`, and an optional output array `out`.
 * @returns The gradient of the residual states, `[T, n, C]`: `options.out`
 *   when given, else a new array.
 * @throws {RangeError} When a size or length is wrong, or `out` shares
 *   memory with the input.
 * @throws {TypeError} When an array has the wrong type.
 *
 * @example Every stream gets the same gradient
 * ```ts
 * import { reduceStreamsBackward } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const g = reduceStreamsBackward(new Float32Array([5]), { n: 3, C: 1, T: 1 });
 * assertEquals([...g], [5, 5, 5]);
 * ```
 */
export function reduceStreamsBackward<A extends FloatArray>(
  gradY: A,
  options: StreamsOptions<A>,
): A {
  return copyStreams("gradY", gradY, options);
}

function output<A extends FloatArray>(
  name: string,
  input: A,
  out: unknown,
  length: number,
  shape: string,
): A {
  if (out === undefined) return alloc(input, length);
  const o = checkOut("out", out, input, name, length, shape);
  checkDisjoint("out", o, [[name, input]]);
  return o;
}

function copyStreams<A extends FloatArray>(
  name: string,
  e: A,
  options: StreamsOptions<A>,
): A {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray(name, e, T * C, tc(s));
  const x = output(name, e, options.out, T * n * C, tnc(s));
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const to = (t * n + i) * C, from = t * C;
      for (let c = 0; c < C; c++) x[to + c] = e[from + c];
    }
  }
  return x;
}

function sumStreams<A extends FloatArray>(
  name: string,
  x: A,
  options: StreamsOptions<A>,
): A {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray(name, x, T * n * C, tnc(s));
  const out = output(name, x, options.out, T * C, tc(s));
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += x[(t * n + i) * C + c];
      out[t * C + c] = acc;
    }
  }
  return out;
}
