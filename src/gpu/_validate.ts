// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Internal: argument checks of the WebGPU convenience API only; the checks it
// shares with the reference ops are in src/_validate.ts.

import { checkArray, typeName } from "../_validate.ts";
import type { MhcGpu, StreamPrecision } from "./runtime.ts";

/**
 * Throws a `TypeError` unless `value` is a `Float32Array`, and a
 * `RangeError` unless its length is `expected` (`shape` describes it).
 */
export function checkF32(
  name: string,
  value: unknown,
  expected: number,
  shape: string,
): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(
      `${name} must be a Float32Array, got ${typeName(value)}`,
    );
  }
  checkArray(name, value, expected, shape);
  return value;
}

/**
 * Returns `value` when it is a boolean, `false` when it is `undefined`, and
 * throws a `TypeError` otherwise.
 */
export function checkOptionalBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `${name} must be a boolean, got ${typeName(value)}`,
    );
  }
  return value;
}

/** Throws a `TypeError` unless `gpu` looks like an `MhcGpu`. */
export function checkGpu(gpu: MhcGpu): void {
  if (
    typeof gpu !== "object" || gpu === null ||
    typeof (gpu as Partial<MhcGpu>).compute !== "function"
  ) {
    throw new TypeError(
      `gpu must be an MhcGpu (from MhcGpu.create()), got ${String(gpu)}`,
    );
  }
}

/**
 * Returns the checked precision (default `"f32"`); throws a `RangeError` for
 * an unknown value and a `GpuError` when f16 is asked for without
 * `shader-f16`.
 */
export function checkPrecision(
  gpu: MhcGpu,
  precision: unknown,
): StreamPrecision {
  const p = precision ?? "f32";
  if (p !== "f32" && p !== "f16") {
    throw new RangeError(
      `precision must be "f32" or "f16", got ${JSON.stringify(p)}`,
    );
  }
  if (p === "f16") gpu.requireF16();
  return p;
}
