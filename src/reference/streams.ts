// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Stream expansion and reduction (SPEC §5): the token embedding is copied
 * into all `n` streams at the input, and the streams are summed at the output.
 * Each is the other's backward.
 *
 * @module
 */

import type { FloatArray, StreamShape } from "./types.ts";
import { alloc, checkArray, checkShape, tc, tnc } from "../_validate.ts";

/**
 * Copies each token's embedding `e ∈ R^C` into all `n` streams.
 *
 * @param embedding Embeddings `[T, C]`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns Residual states `[T, n, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When the array has the wrong type.
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
  options: StreamShape,
): A {
  return copyStreams("embedding", embedding, options);
}

/**
 * Backward of {@linkcode expandStreams}: sums the gradient over the streams.
 *
 * @param gradX Upstream gradient `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns The gradient of the embedding, `[T, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When the array has the wrong type.
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
  options: StreamShape,
): A {
  return sumStreams("gradX", gradX, options);
}

/**
 * Sums each token's `n` streams into one vector, before the final RMSNorm.
 *
 * @param x Residual states `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns The sum over streams, `[T, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When the array has the wrong type.
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
  options: StreamShape,
): A {
  return sumStreams("x", x, options);
}

/**
 * Backward of {@linkcode reduceStreams}: copies the gradient into every stream.
 *
 * @param gradY Upstream gradient `[T, C]`.
 * @param options Sizes `n`, `C`, `T`.
 * @returns The gradient of the residual states, `[T, n, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When the array has the wrong type.
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
  options: StreamShape,
): A {
  return copyStreams("gradY", gradY, options);
}

function copyStreams<A extends FloatArray>(
  name: string,
  e: A,
  options: StreamShape,
): A {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray(name, e, T * C, tc(s));
  const x = alloc(e, T * n * C);
  for (let t = 0; t < T; t++) {
    const src = e.subarray(t * C, (t + 1) * C);
    for (let i = 0; i < n; i++) x.set(src, (t * n + i) * C);
  }
  return x;
}

function sumStreams<A extends FloatArray>(
  name: string,
  x: A,
  options: StreamShape,
): A {
  const s = checkShape(options);
  const { n, C, T } = s;
  checkArray(name, x, T * n * C, tnc(s));
  const out = alloc(x, T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += x[(t * n + i) * C + c];
      out[t * C + c] = acc;
    }
  }
  return out;
}
