// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper for the encode API: GPU buffers made, filled and read on one
 * runtime (streams in f32 or f16), and the check that a gradient was added
 * to a buffer's values (`accumulate`) rather than written over them.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import {
  f16BitsToF32,
  f32ToF16Bits,
  type MhcGpu,
  type StreamPrecision,
} from "@birkhoff/mhc";
import { SKIP_GPU } from "./_gpu.ts";
import { assertAllClose, U16, U32 } from "./conformance/tolerance.ts";

/** What {@linkcode buffers} returns. */
export interface Buffers {
  /** A buffer of at least `bytes` bytes (STORAGE, COPY_SRC, COPY_DST by default). */
  make(bytes: number, usage?: number): GPUBuffer;
  /** A buffer holding `a` from byte `offset`. */
  upload(a: Float32Array, offset?: number): GPUBuffer;
  /** A buffer holding `a` as stream values of `precision`. */
  uploadStreams(a: Float32Array, precision: StreamPrecision): GPUBuffer;
  /** Reads `count` f32 values. */
  read(b: GPUBuffer, count: number): Promise<Float32Array>;
  /** Reads `count` stream values of `precision`, as f32. */
  readStreams(
    b: GPUBuffer,
    count: number,
    precision: StreamPrecision,
  ): Promise<Float32Array>;
  /** Destroys every buffer made. */
  destroy(): void;
}

const USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/** True when the test adapter has `shader-f16` (f16 stream tests run). */
export const HAS_F16: boolean = !SKIP_GPU &&
  ((await navigator.gpu?.requestAdapter())?.features.has("shader-f16") ??
    false);

/** The bit patterns of `a`, for bit-for-bit comparisons. */
export function bits(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

/** Buffers made and read on one runtime; destroyed by `destroy()`. */
export function buffers(gpu: MhcGpu): Buffers {
  const made: GPUBuffer[] = [];
  const make = (bytes: number, usage = USAGE) => {
    const b = gpu.device.createBuffer({
      size: Math.max(4, Math.ceil(bytes / 4) * 4),
      usage,
    });
    made.push(b);
    return b;
  };
  const upload = (a: Float32Array, offset = 0) => {
    const b = make(offset + a.byteLength);
    gpu.device.queue.writeBuffer(b, offset, a);
    return b;
  };
  /** Stream values stored in `precision` (f16 rounds them). */
  const uploadStreams = (a: Float32Array, precision: StreamPrecision) => {
    if (precision === "f32") return upload(a);
    const h = f32ToF16Bits(a);
    const b = make(h.byteLength);
    const padded = new Uint16Array(Math.ceil(h.length / 2) * 2);
    padded.set(h);
    gpu.device.queue.writeBuffer(b, 0, padded);
    return b;
  };
  const read = async (b: GPUBuffer, count: number) =>
    new Float32Array(await gpu.read(b, count * 4));
  const readStreams = async (
    b: GPUBuffer,
    count: number,
    precision: StreamPrecision,
  ) =>
    precision === "f32" ? await read(b, count) : f16BitsToF32(
      new Uint16Array(await gpu.read(b, Math.ceil(count / 2) * 4), 0, count),
    );
  return {
    make,
    upload,
    uploadStreams,
    read,
    readStreams,
    destroy: () => made.forEach((b) => b.destroy()),
  };
}

/** The values a stream buffer of `precision` holds for `a`. */
export function stored(
  a: Float32Array,
  precision: StreamPrecision,
): Float32Array {
  return precision === "f32" ? a : f16BitsToF32(f32ToF16Bits(a));
}

/**
 * Asserts `acc = initial + fresh` for every element, where `fresh` is what
 * the same kernel writes without `accumulate`. The adding variant computes
 * the fresh gradient from the same terms, but the compiler may order, fuse
 * or contract them differently (e.g. fold the add into the last FMA), which
 * moves it by a few roundings of its terms, themselves at most about the
 * largest |fresh| for these random inputs: 8·u·max|fresh|. The sum is
 * rounded once (u·|sum|), and in f16 the stored `fresh` was itself rounded
 * (u16·|fresh|). In all 2·u·(|initial| + |fresh|) + 8·u·max|fresh|, u the
 * unit roundoff of the stream precision. A gradient written over the initial
 * values misses by |initial| (about 1): the last assertion makes sure that
 * this is far above the bound.
 */
export function assertAccumulated(
  acc: Float32Array,
  initial: Float32Array,
  fresh: Float32Array,
  precision: StreamPrecision,
  label: string,
): void {
  const u = precision === "f16" ? U16 : U32;
  assertEquals(acc.length, initial.length);
  let big = 0;
  for (let i = 0; i < fresh.length; i++) {
    big = Math.max(big, Math.abs(fresh[i]));
  }
  let far = 0;
  for (let i = 0; i < acc.length; i++) {
    const bound = 2 * u * (Math.abs(initial[i]) + Math.abs(fresh[i])) +
      8 * u * big;
    assertAllClose(
      [acc[i]],
      [initial[i] + fresh[i]],
      { atol: bound, rtol: 0 },
      `${label}[${i}]`,
    );
    if (Math.abs(initial[i]) > 10 * bound) far++;
  }
  assert(
    far > acc.length / 2,
    `only ${far} initial values exceed 10× the bound`,
  );
}
