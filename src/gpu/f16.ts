// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conversions between float32 values and IEEE 754 binary16 (f16) bit
 * patterns, used to upload and read back f16 streams. Round to nearest,
 * ties to even; overflow gives ±Infinity; NaN stays NaN. Plain TypeScript,
 * so it works where `Float16Array` is missing.
 *
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Returns the binary16 bit pattern nearest to `value`. */
function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal half (or zero): shift the full mantissa into place.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  const rest = mant & 0x1fff;
  let h = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into exp
  return sign | h;
}

/** Returns the float value of a binary16 bit pattern. */
function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Rounds every value to binary16 and returns the bit patterns.
 *
 * @param values Values to convert.
 * @returns One 16-bit pattern per value.
 *
 * @example Round trip of exactly representable values
 * ```ts
 * import { f16BitsToF32, f32ToF16Bits } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const bits = f32ToF16Bits(new Float32Array([1, -2.5, 0.125]));
 * assertEquals([...f16BitsToF32(bits)], [1, -2.5, 0.125]);
 * ```
 */
export function f32ToF16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}

/**
 * Converts binary16 bit patterns to float32 values (exactly).
 *
 * @param bits 16-bit patterns.
 * @returns The values as a `Float32Array`.
 *
 * @example One and a half
 * ```ts
 * import { f16BitsToF32 } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...f16BitsToF32(new Uint16Array([0x3e00]))], [1.5]);
 * ```
 */
export function f16BitsToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]);
  return out;
}

/**
 * Rounds every value to the nearest binary16 value, kept as float32: what a
 * stream stored in f16 holds.
 *
 * @param values Values to round.
 * @returns The rounded values.
 *
 * @example 1 + 2⁻¹² is not representable in f16
 * ```ts
 * import { roundToF16 } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...roundToF16(new Float32Array([1 + 2 ** -12]))], [1]);
 * ```
 */
export function roundToF16(values: ArrayLike<number>): Float32Array {
  return f16BitsToF32(f32ToF16Bits(values));
}
