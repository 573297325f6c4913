// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: the `{ n, C, T }` shapes every stream op is tested on.
 *
 * - Every documented n, 1 to 8; C = 37 and T = 19 are multiples of no
 *   workgroup size and take the scalar path (C % 4 != 0); C = 64 takes the
 *   vec4 path.
 * - C = 1 and C = 4: the smallest rows of each path; C = 1284 = 4·321: a
 *   wide vec4 row (321 vectors) whose length is a multiple of no workgroup
 *   size and of no lane count (long rows get 8 lanes per token).
 * - T = 300: with the split backend's limits (64 KiB bindings, 8 workgroups
 *   per dimension, see backends.ts) these are cut into several chunks, and
 *   the launches marked below use 2D grids. The elementwise pre forward (one
 *   thread per vector, 256 per workgroup) does so on the backend's limits,
 *   except at n = 4, C = 64, where a chunk holds 64 tokens
 *   (64 KiB / 1 KiB), which is 4 workgroups of 256 threads.
 * - The token-walking kernels (post forward, pre and post backward) hold 64
 *   tokens per workgroup on these short rows (one lane per token,
 *   src/gpu/_streams.ts), so a 64 KiB chunk is one workgroup: they run with
 *   their own limits instead, whose chunks hold 256 tokens (4 workgroups) on
 *   grids of at most 2 per dimension. The layout of long rows (several lanes
 *   per token) is split and laid out in 2D by tests/gpu_stream_layout_test.ts.
 *
 * @module
 */

import type { MhcGpuLimits, StreamShape } from "@birkhoff/mhc";

/** A shape, and for the split cases which launches use a 2D grid. */
export interface StreamCaseShape extends StreamShape {
  /**
   * On the split backend: every launch runs in chunks; `elementwise2d` (the
   * pre forward) and `tokens2d` (the token-walking kernels: post forward,
   * pre and post backward) say which must also use a 2D grid.
   */
  split?: {
    elementwise2d: boolean;
    tokens2d: boolean;
    /** Limits of the token-walking kernels' split runs, when the backend's do not split them in 2D. */
    tokenLimits?: Partial<MhcGpuLimits>;
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
    split: { elementwise2d: false, tokens2d: true, tokenLimits: LIMITS_4X64 },
  },
  {
    n: 3,
    C: 37,
    T: 300,
    split: { elementwise2d: true, tokens2d: true, tokenLimits: LIMITS_3X37 },
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
 * @param layout `"elementwise"` for the pre forward, `"tokens"` for the
 *   token-walking kernels (post forward, pre and post backward).
 * @returns The check, or `undefined` when the shape is not a split case.
 */
export function streamSplit(
  s: StreamCaseShape,
  label: string,
  layout: "elementwise" | "tokens",
): {
  limits?: Partial<MhcGpuLimits>;
  launches: { label: string; grid2d: boolean }[];
} | undefined {
  if (!s.split) return undefined;
  const tokens = layout === "tokens";
  const grid2d = tokens ? s.split.tokens2d : s.split.elementwise2d;
  const limits = tokens ? s.split.tokenLimits : undefined;
  return { ...(limits ? { limits } : {}), launches: [{ label, grid2d }] };
}
