// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Internal: the argument checks that the reference ops (src/reference/) and
// the WebGPU ops (src/gpu/) share, so that both reject a bad call with the
// same message. Messages name the argument and the expected size, so that a
// caller can fix the call at once. GPU-only checks live in src/gpu/_validate.ts.

import type { FloatArray, StreamShape } from "./reference/types.ts";

/** Throws a `RangeError` unless `value` is a positive safe integer. */
export function checkPositiveInt(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws a `RangeError` unless `value` is a finite number. */
export function checkFinite(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(
      `${name} must be a finite number, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws a `RangeError` unless `value` is a finite number `>= 0` (or `> 0`). */
export function checkNonNegative(
  name: string,
  value: unknown,
  strict = false,
): number {
  const v = checkFinite(name, value);
  if (strict ? v <= 0 : v < 0) {
    throw new RangeError(
      `${name} must be ${strict ? "> 0" : ">= 0"}, got ${String(value)}`,
    );
  }
  return v;
}

/** Names the type of `value` for messages: `"null"`, a class name, or `typeof`. */
export function typeName(value: unknown): string {
  return value === null
    ? "null"
    : typeof value === "object"
    ? (value as object).constructor?.name ?? "object"
    : typeof value;
}

/**
 * Throws a `TypeError` unless `value` is a `Float32Array` or `Float64Array`,
 * and a `RangeError` unless its length is `expected`. `shape` describes the
 * expected layout in words, for example `"[T, n, C] = [2, 4, 3]"`.
 */
export function checkArray(
  name: string,
  value: unknown,
  expected: number,
  shape: string,
): FloatArray {
  if (!(value instanceof Float32Array) && !(value instanceof Float64Array)) {
    throw new TypeError(
      `${name} must be a Float32Array or Float64Array, got ${typeName(value)}`,
    );
  }
  if (value.length !== expected) {
    throw new RangeError(
      `${name} must have length ${expected} (${shape}), got ${value.length}`,
    );
  }
  return value;
}

/** Throws a `TypeError` when two arrays do not share one element type. */
export function checkSameType(
  name: string,
  value: FloatArray,
  like: FloatArray,
  likeName: string,
): void {
  if (value.constructor !== like.constructor) {
    throw new TypeError(
      `${name} must be a ${like.constructor.name} like ${likeName}, got ${value.constructor.name}`,
    );
  }
}

/** Throws a `TypeError` unless `value` is a non-null object. */
export function checkObject(name: string, value: unknown): void {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${name} must be an object, got ${String(value)}`);
  }
}

/** Allocates a zeroed array of the same element type as `like`. */
export function alloc<A extends FloatArray>(like: A, length: number): A {
  return (like instanceof Float64Array
    ? new Float64Array(length)
    : new Float32Array(length)) as A;
}

/** Checks a `{ n, C, T }` shape and returns it with validated fields. */
export function checkShape(options: StreamShape): StreamShape {
  checkObject("options", options);
  return {
    n: checkPositiveInt("n", options.n),
    C: checkPositiveInt("C", options.C),
    T: checkPositiveInt("T", options.T),
  };
}

/** Describes `[T, n, C]` with numbers, for error messages. */
export function tnc({ T, n, C }: StreamShape): string {
  return `[T, n, C] = [${T}, ${n}, ${C}]`;
}

/** Describes `[T, C]` with numbers, for error messages. */
export function tc({ T, C }: StreamShape): string {
  return `[T, C] = [${T}, ${C}]`;
}

/** Describes `[T, n]` with numbers, for error messages. */
export function tn({ T, n }: StreamShape): string {
  return `[T, n] = [${T}, ${n}]`;
}

/** Describes `[T, n, n]` with numbers, for error messages. */
export function tnn({ T, n }: StreamShape): string {
  return `[T, n, n] = [${T}, ${n}, ${n}]`;
}

/**
 * Checks a caller-supplied output array: a `TypeError` unless it is an array
 * of the same element type as `like` (named `likeName`), a `RangeError`
 * unless its length is `expected`. Returns it typed like `like`.
 */
export function checkOut<A extends FloatArray>(
  name: string,
  value: unknown,
  like: A,
  likeName: string,
  expected: number,
  shape: string,
): A {
  if (
    !(value instanceof Float32Array || value instanceof Float64Array) ||
    value.constructor !== like.constructor
  ) {
    throw new TypeError(
      `${name} must be a ${like.constructor.name} like ${likeName}, got ${
        typeName(value)
      }`,
    );
  }
  const v = value as A;
  if (v.length !== expected) {
    throw new RangeError(
      `${name} must have length ${expected} (${shape}), got ${v.length}`,
    );
  }
  return v;
}

/** Whether two arrays share at least one byte of memory. */
export function overlaps(a: FloatArray, b: FloatArray): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Throws a `RangeError` when the output `out` (named `name`) shares memory
 * with any of the named arrays in `others` (the op's inputs and its other
 * outputs), since the op would then read values it has already overwritten.
 */
export function checkDisjoint(
  name: string,
  out: FloatArray,
  others: readonly (readonly [string, FloatArray | undefined])[],
): void {
  for (const [otherName, other] of others) {
    if (other !== undefined && overlaps(out, other)) {
      throw new RangeError(
        `${name} must not share memory with ${otherName}`,
      );
    }
  }
}
