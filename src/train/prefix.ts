// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Prefix views of the trainer's preallocated buffers, kept between calls so
 * that a training step of a fixed shape creates no typed array at all.
 *
 * @module
 */

import type { FloatArray } from "../../mod.ts";

const views = new WeakMap<FloatArray, FloatArray>();

/**
 * The first `length` elements of `buffer`: `buffer` itself when it has
 * exactly that length, else a view, the same object as the last call with
 * this buffer and length returned.
 *
 * @param buffer A preallocated buffer.
 * @param length Elements wanted, at most `buffer.length`.
 * @returns `buffer` or a cached view of its first `length` elements.
 */
export function prefix<A extends FloatArray>(buffer: A, length: number): A {
  if (length === buffer.length) return buffer;
  const view = views.get(buffer);
  if (view !== undefined && view.length === length) return view as A;
  const next = buffer.subarray(0, length) as A;
  views.set(buffer, next);
  return next;
}
