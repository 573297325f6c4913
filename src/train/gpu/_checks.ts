// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Argument checks shared by the trainer's WebGPU ops: sizes are
 * non-negative safe integers, and every binding holds at least the floats an
 * op reads or writes, so that a wrong size throws instead of reading or
 * writing past the data.
 *
 * @module
 */

import type { Binding } from "./dispatch.ts";

/**
 * Throws unless every value of `sizes` is a non-negative safe integer.
 *
 * @param op The op, for the message.
 * @param sizes Named sizes.
 * @throws {RangeError} When a size is not a non-negative safe integer.
 */
export function checkSizes(op: string, sizes: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(
        `${op}: ${name} must be a non-negative integer, got ${String(v)}`,
      );
    }
  }
}

/**
 * Throws unless `binding` spans at least `floats` f32 values.
 *
 * @param op The op, for the message.
 * @param name The binding's name, for the message.
 * @param binding The binding.
 * @param floats Floats the op accesses.
 * @throws {RangeError} When the binding is too small.
 */
export function checkBinding(
  op: string,
  name: string,
  binding: Binding,
  floats: number,
): void {
  const buffer = "buffer" in binding ? binding.buffer : binding;
  const offset = "buffer" in binding ? binding.offset ?? 0 : 0;
  const size = "buffer" in binding && binding.size !== undefined
    ? binding.size
    : buffer.size - offset;
  if (size < floats * 4) {
    throw new RangeError(
      `${op}: ${name} must span at least ${
        floats * 4
      } bytes (${floats} floats), got ${size}`,
    );
  }
}
