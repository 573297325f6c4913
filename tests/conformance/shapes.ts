// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: the `{ n, C, T }` shapes every stream op is tested on.
 *
 * - Every documented n, 1 to 8; C = 37 and T = 19 are multiples of no
 *   workgroup size and take the scalar path (C % 4 != 0); C = 64 takes the
 *   vec4 path.
 * - C = 1 and C = 4: the smallest rows of each path; C = 1284 = 4·321: a
 *   wide vec4 row whose length is not a multiple of the 64-thread stride.
 * - T = 300: with the split backend's limits (64 KiB bindings, 8 workgroups
 *   per dimension, see backends.ts) these are cut into several chunks, and
 *   the launches marked below use 2D grids. A vec4 forward cannot: a chunk
 *   of n = 4, C = 64 holds 64 tokens (64 KiB / 1 KiB), which is 4
 *   workgroups of 256 threads.
 * - The backwards of these short rows hold 64 tokens per workgroup (one
 *   lane per token, src/gpu/_streams.ts), so a 64 KiB chunk is one
 *   workgroup: they run with their own limits instead, whose chunks hold
 *   256 tokens (4 workgroups) on grids of at most 2 per dimension. The
 *   layout of long rows (several lanes per token) is split and laid out in
 *   2D by tests/gpu_stream_layout_test.ts.
 *
 * @module
 */

import type { MhcGpuLimits, StreamShape } from "@birkhoff/mhc";

/** A shape, and for the split cases which launches use a 2D grid. */
export interface StreamCaseShape extends StreamShape {
  /**
   * On the split backend: both launches run in chunks; `forward2d` and
   * `backward2d` say which of them must also use a 2D grid.
   */
  split?: {
    forward2d: boolean;
    backward2d: boolean;
    /** Limits of the backward's split run, when the backend's do not split it in 2D. */
    backwardLimits?: Partial<MhcGpuLimits>;
  };
}

/** Chunks of 256 tokens of n = 4, C = 64 (1 KiB per token), 2×2 grids. */
const LIMITS_4X64 = {
  maxStorageBufferBindingSize: 256 * 1024,
  maxComputeWorkgroupsPerDimension: 2,
};
/** Chunks of 256 tokens of n = 3, C = 37 (444 bytes per token), 2×2 grids. */
const LIMITS_3X37 = {
  maxStorageBufferBindingSize: 128 * 1024,
  maxComputeWorkgroupsPerDimension: 2,
};

/** The shapes, in test order (new shapes go last: seeds follow the index). */
export const STREAM_SHAPES: readonly StreamCaseShape[] = [
  ...[1, 2, 3, 4, 8].flatMap((n) => [
    { n, C: 37, T: 19 },
    { n, C: 64, T: 19 },
  ]),
  { n: 4, C: 1, T: 5 },
  { n: 1, C: 4, T: 1 },
  { n: 4, C: 1284, T: 3 },
  {
    n: 4,
    C: 64,
    T: 300,
    split: { forward2d: false, backward2d: true, backwardLimits: LIMITS_4X64 },
  },
  {
    n: 3,
    C: 37,
    T: 300,
    split: { forward2d: true, backward2d: true, backwardLimits: LIMITS_3X37 },
  },
  ...[5, 6, 7].flatMap((n) => [
    { n, C: 37, T: 19 },
    { n, C: 64, T: 19 },
  ]),
];

/**
 * The split check of a stream case: its one launch, labelled `label`.
 *
 * @param s The shape.
 * @param label The launch's label (the op's name).
 * @param backward True for the backward op.
 * @returns The check, or `undefined` when the shape is not a split case.
 */
export function streamSplit(
  s: StreamCaseShape,
  label: string,
  backward: boolean,
): {
  limits?: Partial<MhcGpuLimits>;
  launches: { label: string; grid2d: boolean }[];
} | undefined {
  if (!s.split) return undefined;
  const grid2d = backward ? s.split.backward2d : s.split.forward2d;
  const limits = backward ? s.split.backwardLimits : undefined;
  return { ...(limits ? { limits } : {}), launches: [{ label, grid2d }] };
}
