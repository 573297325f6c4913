// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Bench inputs: GPU buffers filled on the GPU with pseudo-random values (no
 * upload of hundreds of MiB), their read-back for the correctness check,
 * and seeded `Float32Array`s for the TypeScript reference.
 *
 * @module
 */

import { f16BitsToF32, type StreamPrecision } from "../mod.ts";
import type { BenchEnv } from "./_env.ts";
import { runBatch } from "./_timing.ts";

const fillWgsl = await Deno.readTextFile(
  new URL("./kernels/fill.wgsl", import.meta.url),
);

/** Bytes per element of a stream stored in `precision`. */
export function elementBytes(precision: StreamPrecision): number {
  return precision === "f16" ? 2 : 4;
}

/** GPU buffers of one bench case, destroyed together. */
export class BufferSet {
  readonly #env: BenchEnv;
  readonly #buffers: GPUBuffer[] = [];

  /** @param env The bench environment. */
  constructor(env: BenchEnv) {
    this.#env = env;
  }

  /**
   * A zeroed storage buffer (`STORAGE | COPY_SRC | COPY_DST`).
   *
   * @param label Buffer label.
   * @param bytes Size in bytes (rounded up to 4).
   * @returns The buffer.
   */
  empty(label: string, bytes: number): GPUBuffer {
    const b = this.#env.device.createBuffer({
      label,
      size: Math.max(4, Math.ceil(bytes / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
        GPUBufferUsage.COPY_DST,
    });
    this.#buffers.push(b);
    return b;
  }

  /**
   * A storage buffer of `count` values in `[lo, hi)`, written on the GPU.
   *
   * @param label Buffer label.
   * @param count Number of values.
   * @param range `[lo, hi)`.
   * @param seed Seed of the values.
   * @param precision Storage of the values. Default `"f32"`.
   * @returns The filled buffer.
   */
  async random(
    label: string,
    count: number,
    range: [number, number],
    seed: number,
    precision: StreamPrecision = "f32",
  ): Promise<GPUBuffer> {
    const buffer = this.empty(label, count * elementBytes(precision));
    const { gpu } = this.#env;
    const entryPoint = precision === "f16" ? "fill_f16" : "fill_f32";
    const pipeline = await gpu.pipeline({
      label: `bench ${entryPoint}`,
      code: fillWgsl,
      entryPoint,
      key: `bench|${entryPoint}`,
    });
    const words = Math.ceil(buffer.size / 4);
    const lohi = new Float32Array(range);
    await runBatch(
      this.#env,
      `fill ${label}`,
      (encoder) =>
        gpu.encodeTokens(encoder, {
          label: `fill ${label}`,
          pipeline,
          T: words,
          buffers: [{ name: label, ref: buffer, bytesPerToken: 4 }],
          workgroups: (w) => Math.ceil(w / 256),
          params: (w, first) =>
            new Uint32Array([
              w,
              first,
              seed,
              ...new Uint32Array(lohi.buffer),
            ]),
        }),
      1,
    );
    return buffer;
  }

  /** Destroys every buffer of the set. */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers.length = 0;
  }
}

/**
 * Reads `count` values from the start of `buffer`, widened to f32.
 *
 * @param env The bench environment.
 * @param buffer A buffer with `COPY_SRC` usage.
 * @param count Number of values.
 * @param precision Storage of the values. Default `"f32"`.
 * @returns The values.
 */
export async function readValues(
  env: BenchEnv,
  buffer: GPUBuffer,
  count: number,
  precision: StreamPrecision = "f32",
): Promise<Float32Array> {
  const bytes = Math.ceil(count * elementBytes(precision) / 4) * 4;
  const raw = await env.gpu.read(buffer, bytes);
  return precision === "f16"
    ? f16BitsToF32(new Uint16Array(raw, 0, count))
    : new Float32Array(raw, 0, count);
}

/**
 * A seeded array of `length` values in `[lo, hi)` (a small xorshift
 * generator: fast enough for hundreds of MiB).
 *
 * @param length Number of values.
 * @param range `[lo, hi)`.
 * @param seed Seed.
 * @returns The values.
 */
export function randomArray(
  length: number,
  range: [number, number],
  seed: number,
): Float32Array {
  const out = new Float32Array(length);
  const [lo, hi] = range;
  const scale = (hi - lo) / 4294967296;
  let s = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + s * scale;
  }
  return out;
}

/**
 * Reads `count` values from the start of `buffer` as float64, for the
 * reference.
 *
 * @param env The bench environment.
 * @param buffer A buffer with `COPY_SRC` usage.
 * @param count Number of values.
 * @param precision Storage of the values. Default `"f32"`.
 * @returns The values.
 */
export async function readF64(
  env: BenchEnv,
  buffer: GPUBuffer,
  count: number,
  precision: StreamPrecision = "f32",
): Promise<Float64Array> {
  return Float64Array.from(await readValues(env, buffer, count, precision));
}

/**
 * Largest `|gpu − ref|` over all pairs, relative to the largest `|ref|` of
 * the pair: a scale-free check that a kernel really ran and computed the
 * op (the conformance tests hold the kernels to tight tolerances).
 *
 * @param pairs GPU outputs and the reference's, same lengths.
 * @returns The largest relative error (`Infinity` for NaN).
 * @throws {Error} When a reference output is all zero.
 */
export function relError(pairs: [Float32Array, ArrayLike<number>][]): number {
  let err = 0;
  for (const [gpu, ref] of pairs) {
    let scale = 0, diff = 0;
    for (let i = 0; i < ref.length; i++) {
      scale = Math.max(scale, Math.abs(ref[i]));
      diff = Math.max(diff, Math.abs(gpu[i] - ref[i]));
    }
    if (!(scale > 0)) throw new Error("reference output is all zero");
    err = Math.max(err, Number.isFinite(diff) ? diff / scale : Infinity);
  }
  return err;
}
