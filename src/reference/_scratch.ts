// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Internal: small per-op scratch arrays that the reference ops keep between
// calls, so that a call with caller-supplied outputs constructs no typed
// array at all. Only scratch whose size depends on `n` alone (O(n²), never
// on `C` or `T`) lives here; scratch that grows with `C` is a caller-supplied
// workspace instead. The arrays grow to the largest size asked for and are
// never shrunk. The ops are synchronous and never call one another while
// they hold a slot, so one array per slot is enough.

import type { FloatArray } from "./types.ts";

/** Slots: one per scratch array of an op, unique across ops. */
export const SLOT = Object.freeze({
  coefDot: 0,
  coefGh: 1,
  coefGp: 2,
  coefBias: 3,
  coefHres: 4,
  hcBias: 5,
  hcGq: 6,
  sinkhornOut: 7,
});

const f32: Float32Array[] = [];
const f64: Float64Array[] = [];

/**
 * Returns the scratch array of `slot`, of the element type of `like`, with
 * at least `length` elements. Its contents are whatever the last user left.
 */
export function scratch<A extends FloatArray>(
  like: A,
  slot: number,
  length: number,
): A {
  return (like instanceof Float64Array
    ? scratch64(slot, length)
    : grow(f32, slot, length, Float32Array)) as A;
}

/** Like {@linkcode scratch}, always a `Float64Array` (for accumulators). */
export function scratch64(slot: number, length: number): Float64Array {
  return grow(f64, slot, length, Float64Array);
}

function grow<B extends FloatArray>(
  pool: B[],
  slot: number,
  length: number,
  ctor: new (length: number) => B,
): B {
  const have = pool[slot];
  if (have !== undefined && have.length >= length) return have;
  const next = new ctor(Math.max(length, 2 * (have?.length ?? 0)));
  pool[slot] = next;
  return next;
}
