// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Planning of token-indexed dispatches: how to split `T` tokens into chunks
 * so that every storage binding fits `maxStorageBufferBindingSize`, every
 * binding offset is a multiple of `minStorageBufferOffsetAlignment`, and the
 * workgroups of one chunk fit a 2D grid of `maxComputeWorkgroupsPerDimension`
 * squared. Pure functions, no GPU needed.
 *
 * @module
 */

/** The device limits the runtime plans with (possibly tightened for tests). */
export interface MhcGpuLimits {
  /** Largest byte size of one storage-buffer binding. */
  maxStorageBufferBindingSize: number;
  /** Largest workgroup count in one dimension of a dispatch. */
  maxComputeWorkgroupsPerDimension: number;
  /** Storage-buffer binding offsets must be multiples of this. */
  minStorageBufferOffsetAlignment: number;
}

/** A run of consecutive tokens dispatched together. */
export interface TokenChunk {
  /** Index of the first token of the chunk. */
  first: number;
  /** Number of tokens in the chunk. */
  count: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Splits `T` tokens into chunks. A chunk boundary `first` is always a
 * multiple of the smallest token count whose byte size is a multiple of the
 * offset alignment for every per-token buffer, so that `offset + first ·
 * bytesPerToken` stays aligned when `offset` is.
 *
 * @param T Number of tokens.
 * @param bytesPerToken Bytes one token occupies in each per-token binding
 *   (entries of 0, for bindings not indexed by token, are ignored).
 * @param limits Limits to respect.
 * @param workgroups Workgroups a chunk of `tokens` tokens needs (monotone).
 * @returns The chunks, in order, covering `0 … T-1` exactly once.
 * @throws {RangeError} When a single aligned group of tokens cannot fit.
 *
 * @example Chunks for a binding limit of 1 KiB
 * ```ts
 * import { planTokenChunks } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const chunks = planTokenChunks(100, [16], {
 *   maxStorageBufferBindingSize: 1024,
 *   maxComputeWorkgroupsPerDimension: 65535,
 *   minStorageBufferOffsetAlignment: 256,
 * }, (t) => t);
 * assertEquals(chunks, [{ first: 0, count: 64 }, { first: 64, count: 36 }]);
 * ```
 */
export function planTokenChunks(
  T: number,
  bytesPerToken: readonly number[],
  limits: MhcGpuLimits,
  workgroups: (tokens: number) => number,
): TokenChunk[] {
  const align = limits.minStorageBufferOffsetAlignment;
  let quantum = 1, cap = T;
  for (const b of bytesPerToken) {
    if (b <= 0) continue;
    const q = align / gcd(align, b);
    quantum = quantum * q / gcd(quantum, q);
    cap = Math.min(cap, Math.floor(limits.maxStorageBufferBindingSize / b));
  }
  const maxGroups = limits.maxComputeWorkgroupsPerDimension ** 2;
  if (cap < T) cap -= cap % quantum;
  while (cap > 0 && workgroups(cap) > maxGroups) {
    cap = Math.floor(cap / 2);
    cap -= cap % quantum;
  }
  if (cap < 1) {
    throw new RangeError(
      `Cannot split the tokens: a group of ${quantum} token(s) needs ${
        Math.max(...bytesPerToken) * quantum
      } bytes in one binding or ${
        workgroups(quantum)
      } workgroups, over the device limits ` +
        `(maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, ` +
        `maxComputeWorkgroupsPerDimension ${limits.maxComputeWorkgroupsPerDimension})`,
    );
  }
  const chunks: TokenChunk[] = [];
  for (let first = 0; first < T; first += cap) {
    chunks.push({ first, count: Math.min(cap, T - first) });
  }
  return chunks;
}

/**
 * Lays `workgroups` out on a 2D grid whose sides do not exceed
 * `maxPerDimension`. Kernels recover the linear workgroup index as
 * `wid.x + wid.y * num_workgroups.x` and must ignore indices past the end
 * (the grid can hold up to `x - 1` extra workgroups).
 *
 * @param workgroups Total workgroups needed, `>= 0`.
 * @param maxPerDimension The device's `maxComputeWorkgroupsPerDimension`.
 * @returns `[x, y]` with `x·y >= workgroups`.
 *
 * @example 100 000 workgroups
 * ```ts
 * import { grid2d } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(grid2d(100_000, 65535), [50000, 2]);
 * ```
 */
export function grid2d(
  workgroups: number,
  maxPerDimension: number,
): [number, number] {
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / y), y];
}
