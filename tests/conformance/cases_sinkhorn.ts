// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance cases of the Sinkhorn-Knopp projection and its exact backward:
 * n in {1, 2, 3, 4, 8}, 1 to 40 iterations, the log domain (eps = 0) and
 * DeepSeek's linear variant (eps > 0), extreme logits (±80, ±1e4, one entry
 * of ±3e4 per token: outputs must stay finite), random upstream gradients,
 * token counts that are multiples of no workgroup size, and the split cases
 * of {@linkcode SPLITS}. Every n from 1 to 8. n = 1 and n = 2 with 20
 * iterations, n = 4 with 40, n = 5 with 45 and n = 7 with 60 exceed the
 * kernels' per-matrix history (8·n iterations), so their backward takes the
 * segmented recomputation path.
 *
 * Early-stop cases (`tolerance`) in both eps modes, with n in {2, 3, 4, 8}:
 * each token runs its own number of iterations, so the counts must match the
 * float64 reference's. Their seeds are chosen so that no token is near a
 * switch of its count (checked by `checkEarlyStop`, which also asserts that
 * the counts really differ across tokens); n = 2 with up to 40 iterations
 * stops on both sides of the kernels' 16-iteration history.
 *
 * @module
 */

import {
  type MhcGpuLimits,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { rng } from "../_rand.ts";
import type { ConformanceCase, Outputs } from "./case.ts";
import { sinkhornTolerance } from "./tolerance_sinkhorn.ts";
import { checkEarlyStop } from "./early_stop.ts";
import { U32 } from "./tolerance.ts";

/** How the logits are drawn. */
export type LogitKind = "normal" | "pm80" | "pm1e4" | "huge";

/**
 * Draws `count` logits: `normal` 3·N(0, 1); `pm80` / `pm1e4` uniform in
 * ±80 / ±1e4; `huge`: N(0, 1) with one entry of each `block` entries set to
 * ±3e4 (alternating sign).
 *
 * @param seed PRNG seed.
 * @param count Number of logits.
 * @param block Entries per matrix (for `huge`).
 * @param kind The distribution.
 * @returns Float32 logits.
 */
export function drawLogits(
  seed: number,
  count: number,
  block: number,
  kind: LogitKind,
): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = kind === "normal"
      ? 3 * r.normal()
      : kind === "pm80"
      ? 80 * (2 * r.uniform() - 1)
      : kind === "pm1e4"
      ? 1e4 * (2 * r.uniform() - 1)
      : r.normal();
  }
  if (kind === "huge") {
    for (let b = 0; b * block < count; b++) {
      out[b * block + r.int(block)] = b % 2 ? -3e4 : 3e4;
    }
  }
  return out;
}

/** Largest absolute value of an array, at least `floor`. */
export function maxAbs(a: ArrayLike<number>, floor = 0): number {
  let m = floor;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** `[n, T, iterations, eps, kind]` of every case. */
const SETTINGS: [number, number, number, number, LogitKind][] = [
  [1, 19, 20, 0, "normal"],
  [2, 37, 20, 0, "normal"],
  [3, 19, 20, 0, "normal"],
  [4, 37, 20, 0, "normal"],
  [8, 19, 20, 0, "normal"],
  [4, 19, 1, 0, "normal"],
  [3, 19, 3, 0, "normal"],
  [8, 5, 1, 0, "normal"],
  [4, 37, 40, 0, "normal"],
  [4, 19, 20, 1e-6, "normal"],
  [3, 19, 3, 0.1, "normal"],
  [8, 7, 20, 0.01, "normal"],
  [1, 19, 20, 0.05, "normal"],
  [2, 37, 20, 0.1, "normal"],
  [4, 19, 20, 0, "pm80"],
  [4, 19, 1, 0, "pm80"],
  [4, 19, 20, 1e-6, "pm80"],
  [4, 19, 20, 0, "pm1e4"],
  [8, 5, 20, 0, "pm1e4"],
  [4, 19, 20, 1e-6, "pm1e4"],
  [4, 19, 20, 0, "huge"],
  [3, 19, 20, 1e-6, "huge"],
  [4, 1100, 20, 0, "normal"],
  [8, 500, 3, 0.01, "normal"],
  [5, 19, 20, 0, "normal"],
  [6, 37, 20, 0, "normal"],
  [7, 19, 20, 0, "normal"],
  [5, 19, 45, 0, "normal"],
  [6, 19, 20, 0.01, "normal"],
  [7, 5, 60, 1e-6, "normal"],
  [6, 19, 20, 0, "pm1e4"],
];

/**
 * The cases that must run in chunks on 2D grids on the webgpu-split backend,
 * by `n×T`, with the limits they need when the backend's do not do it.
 * n = 4, T = 1100 (64 B per matrix): 64 KiB bindings hold 1024 matrices, so
 * two chunks, the first of 16 workgroups of 64 matrices: an 8 × 2 grid.
 * n = 8 (256 B per matrix) fits only 256 matrices, 4 workgroups, in 64 KiB,
 * never more than 8; with 48 KiB bindings and 2 workgroups per dimension,
 * T = 500 runs as chunks of 192 matrices (3 workgroups) on 2 × 2 grids.
 */
const SPLITS: Record<string, Partial<MhcGpuLimits> | undefined> = {
  "4x1100": undefined,
  "8x500": {
    maxStorageBufferBindingSize: 48 * 1024,
    maxComputeWorkgroupsPerDimension: 2,
  },
};

function sinkhornCases(
  [n, T, iterations, eps, kind]: [number, number, number, number, LogitKind],
  i: number,
): ConformanceCase[] {
  const options = { n, T, iterations, eps };
  const tag = `n=${n} T=${T} iterations=${iterations} eps=${eps} ${kind}`;
  const count = T * n * n;
  let logits: Float32Array | undefined, grad: Float32Array | undefined;
  const l = () => logits ??= drawLogits(5000 + i, count, n * n, kind);
  const g = () => grad ??= Float32Array.from(rng(6000 + i).normals(count));
  const tol = () => sinkhornTolerance(iterations, maxAbs(l(), 1), maxAbs(g()));
  const split = (label: string) =>
    `${n}x${T}` in SPLITS
      ? { limits: SPLITS[`${n}x${T}`], launches: [{ label, grid2d: true }] }
      : undefined;
  return [
    {
      name: `sinkhornKnopp ${tag}`,
      run: async (b): Promise<Outputs> => ({
        h: await b.sinkhornKnopp(l(), options),
      }),
      truth: () => ({ h: sinkhornKnopp(Float64Array.from(l()), options) }),
      tolerance: () => tol().forward,
      split: split("sinkhornKnopp"),
    },
    {
      name: `sinkhornKnoppBackward ${tag}`,
      run: async (b): Promise<Outputs> => ({
        gradLogits: await b.sinkhornKnoppBackward(l(), g(), options),
      }),
      truth: () => ({
        gradLogits: sinkhornKnoppBackward(
          Float64Array.from(l()),
          Float64Array.from(g()),
          options,
        ),
      }),
      tolerance: () => tol().backward,
      split: split("sinkhornKnoppBackward"),
    },
  ];
}

/**
 * `[n, T, iterations, eps, tolerance, seed]` of the early-stop cases. The
 * seeds are ones whose every token is far from a switch of its count.
 */
const EARLY_STOP: [number, number, number, number, number, number][] = [
  [4, 37, 20, 0, 0.05, 8001],
  [3, 19, 20, 1e-6, 0.01, 8000],
  [3, 19, 20, 0.01, 0.05, 8001],
  [8, 19, 30, 0, 0.05, 8000],
  [2, 37, 40, 0, 0.01, 8000],
  [4, 151, 20, 0, 0.05, 8005],
];

function earlyStopCases(
  [n, T, iterations, eps, tolerance, seed]: [
    number,
    number,
    number,
    number,
    number,
    number,
  ],
): ConformanceCase[] {
  const options = { n, T, iterations, eps, tolerance };
  const tag =
    `n=${n} T=${T} iterations=${iterations} eps=${eps} tolerance=${tolerance}`;
  const count = T * n * n;
  let logits: Float32Array | undefined, grad: Float32Array | undefined;
  let checked = false;
  const l = () => logits ??= drawLogits(seed, count, n * n, "normal");
  const g = () => grad ??= Float32Array.from(rng(seed + 1).normals(count));
  const tol = () => sinkhornTolerance(iterations, maxAbs(l(), 1), maxAbs(g()));
  /** The float64 logits, once checked to be far from a switch. */
  const l64 = () => {
    const l64 = Float64Array.from(l());
    if (!checked) {
      // A backend's iterates are within the forward atol of the reference's
      // (the backward recomputes the same forward), so its deviations are
      // within n·(atol + u); see early_stop.ts.
      checkEarlyStop(l64, options, n * (tol().forward.atol + U32), tag);
      checked = true;
    }
    return l64;
  };
  return [
    {
      name: `sinkhornKnopp ${tag}`,
      run: async (b): Promise<Outputs> => ({
        h: await b.sinkhornKnopp(l(), options),
      }),
      truth: () => ({ h: sinkhornKnopp(l64(), options) }),
      tolerance: () => tol().forward,
    },
    {
      name: `sinkhornKnoppBackward ${tag}`,
      run: async (b): Promise<Outputs> => ({
        gradLogits: await b.sinkhornKnoppBackward(l(), g(), options),
      }),
      truth: () => ({
        gradLogits: sinkhornKnoppBackward(
          l64(),
          Float64Array.from(g()),
          options,
        ),
      }),
      tolerance: () => tol().backward,
    },
  ];
}

/** Every Sinkhorn case, forward and backward. */
export const cases: ConformanceCase[] = [
  ...SETTINGS.flatMap(sinkhornCases),
  ...EARLY_STOP.flatMap(earlyStopCases),
];
