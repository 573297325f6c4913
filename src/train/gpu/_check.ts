// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Argument checks shared by the trainer's kernel launchers: sizes must be
 * integers in range, and every binding must hold what the kernel will touch
 * (an out-of-bounds access on the GPU is not an error, it reads garbage).
 *
 * @module
 */

import { bufferOf, offsetOf } from "../../../mod.ts";
import type { Binding } from "./dispatch.ts";

const U32_MAX = 2 ** 32 - 1;

/**
 * Throws unless `value` is an integer in `[min, 2³² − 1]`.
 *
 * @param op The operation, for the message.
 * @param name The size's name.
 * @param value The size.
 * @param min Smallest allowed value. Default 1.
 * @throws {RangeError} When the size is not an integer in range.
 */
export function checkSize(
  op: string,
  name: string,
  value: number,
  min = 1,
): void {
  if (!Number.isInteger(value) || value < min || value > U32_MAX) {
    throw new RangeError(
      `Cannot encode ${op}: ${name} must be an integer from ${min} to ${U32_MAX}, got ${value}`,
    );
  }
}

/**
 * Throws unless every value of `sizes` is an integer in `[0, 2³² − 1]`.
 *
 * @param op The operation, for the message.
 * @param sizes The sizes by name.
 * @throws {RangeError} When a size is not an integer in range.
 */
export function checkSizes(op: string, sizes: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(sizes)) {
    checkSize(op, name, typeof v === "number" ? v : NaN, 0);
  }
}

/**
 * @param b A binding.
 * @returns The bytes it makes visible to a kernel.
 */
export function bindingBytes(b: Binding): number {
  if ("buffer" in b && b.size !== undefined) return b.size;
  return bufferOf(b).size - offsetOf(b);
}

/**
 * Throws unless binding `b` holds at least `words` 32-bit values.
 *
 * @param op The operation, for the message.
 * @param name The binding's name.
 * @param b The binding.
 * @param words 32-bit values the kernel reads or writes.
 * @throws {RangeError} When the binding is too small.
 */
export function checkBinding(
  op: string,
  name: string,
  b: Binding,
  words: number,
): void {
  const have = bindingBytes(b);
  if (have < 4 * words) {
    throw new RangeError(
      `Cannot encode ${op}: ${name} holds ${have} bytes, needs ${
        4 * words
      } (${words} 32-bit values)`,
    );
  }
}
