// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: the `{ n, C, T }` shapes every stream op is tested on.
 *
 * - n in {1, 2, 3, 4, 8}; C = 37 and T = 19 are multiples of no workgroup
 *   size and take the scalar path (C % 4 != 0); C = 64 takes the vec4 path.
 * - C = 1 and C = 4: the smallest rows of each path; C = 1284 = 4·321: a
 *   wide vec4 row whose length is not a multiple of the 64-thread stride.
 * - T = 300: with the split backend's limits (64 KiB bindings, 8 workgroups
 *   per dimension, see backends.ts) these are cut into several chunks and
 *   laid out on 2D grids.
 *
 * @module
 */

import type { StreamShape } from "@birkhoff/mhc";

/** The shapes, in test order. */
export const STREAM_SHAPES: readonly StreamShape[] = [
  ...[1, 2, 3, 4, 8].flatMap((n) => [
    { n, C: 37, T: 19 },
    { n, C: 64, T: 19 },
  ]),
  { n: 4, C: 1, T: 5 },
  { n: 1, C: 4, T: 1 },
  { n: 4, C: 1284, T: 3 },
  { n: 4, C: 64, T: 300 },
  { n: 3, C: 37, T: 300 },
];
