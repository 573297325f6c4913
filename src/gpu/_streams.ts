// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Internal: what the pre and post host files share: options, the stream
// layout of one call, pipelines of the specialised stream kernels, and the
// launch shapes.

import type { StreamShape } from "../reference/types.ts";
import { checkShape } from "../_validate.ts";
import { checkGpu, checkPrecision } from "./_validate.ts";
import { GpuError } from "./errors.ts";
import type { MhcGpu, StreamPrecision } from "./runtime.ts";
import {
  cachedSource,
  specializeStreams,
  type StreamVariant,
  variantKey,
  withConstants,
} from "./specialize.ts";
import { tokenReduceWgsl } from "../kernels/token_reduce.ts";
import { f16BitsToF32 } from "./f16.ts";

/** Largest supported number of streams. */
export const MAX_STREAMS = 8;
/**
 * Threads per workgroup of the elementwise kernel (pre): its `WG`, written
 * in by {@linkcode streamPipeline}.
 */
export const WG_ELEMENTWISE = 256;

/** Options of the WebGPU stream ops: the shape and the stream precision. */
export interface GpuStreamOptions extends StreamShape {
  /**
   * Storage precision of the streams (`x`, `y`, `x'`, `u` and their
   * gradients). `"f16"` needs `shader-f16`; arithmetic stays f32 and the
   * coefficients stay f32. Default `"f32"`.
   */
  precision?: StreamPrecision;
}

/** A checked call: sizes, precision, vector width. */
export interface StreamLayout extends StreamVariant {
  C: number;
  T: number;
  /** Vectors per stream row, `C / width`. */
  cv: number;
  /** Bytes per stream element. */
  es: number;
  /** `" as f32"` or `" as f16"`, for error messages. */
  as: string;
}

/** Checks the arguments shared by every stream op. */
export function streamLayout(
  gpu: MhcGpu,
  options: GpuStreamOptions,
): StreamLayout {
  checkGpu(gpu);
  const { n, C, T } = checkShape(options);
  if (n > MAX_STREAMS) {
    throw new RangeError(
      `n must be at most ${MAX_STREAMS} on WebGPU, got ${n}`,
    );
  }
  const precision = checkPrecision(gpu, options.precision);
  const width = C % 4 === 0 ? 4 : 1;
  return {
    n,
    C,
    T,
    precision,
    width,
    cv: C / width,
    es: precision === "f16" ? 2 : 4,
    as: ` as ${precision}`,
  };
}

/**
 * The pipeline of a stream kernel for this layout (cached by variant), with
 * the kernel's `const NAME: u32 = …u;` lines named in `constants` rewritten
 * (e.g. `ACCUMULATE`). A kernel without `reduce` gets
 * `WG = WG_ELEMENTWISE` unless `constants` sets `WG`; a reducing kernel (`reduce` given) gets
 * token_reduce.wgsl appended and its `WG`, `L` and `R` set from `reduce`.
 */
export function streamPipeline(
  gpu: MhcGpu,
  kernel: string,
  code: string,
  s: StreamLayout,
  reduce?: ReduceLayout,
  constants: Record<string, number> = {},
): Promise<GPUComputePipeline> {
  const v: StreamVariant = { n: s.n, width: s.width, precision: s.precision };
  const all = reduce
    ? { ...constants, WG: reduce.wg, L: reduce.lanes, R: reduce.rows }
    : constants;
  const key = variantKey(kernel, v) +
    Object.entries(all).map(([k, value]) => `|${k}=${value}`).join("");
  return gpu.pipeline({
    label: key,
    key,
    code: cachedSource(
      key,
      () =>
        withConstants(
          specializeStreams(code, v, reduce ? [tokenReduceWgsl] : []),
          reduce ? all : { WG: WG_ELEMENTWISE, ...all },
        ),
    ),
  });
}

/** Uniform words of the stream kernels: `{ tokens, cv }`. */
export function streamParams(s: StreamLayout): (tokens: number) => Uint32Array {
  return (tokens) => new Uint32Array([tokens, s.cv]);
}

/** Workgroups of an elementwise kernel: one thread per token and vector. */
export function elementwiseGroups(s: StreamLayout): (tokens: number) => number {
  return (tokens) => Math.ceil(tokens * s.cv / WG_ELEMENTWISE);
}

/** Invocations per workgroup of the reducing (backward) stream kernels. */
export const WG_REDUCE = 64;
/** Invocations per workgroup of the fused post forward (`wgsl/post.wgsl`). */
export const WG_POST = 64;
/**
 * Lanes per token of the token-walking stream kernels (post forward, pre
 * and post backward) on rows of more than {@linkcode ONE_LANE_MAX_VECTORS}
 * vectors.
 */
export const LANES_WIDE = 8;
/**
 * Longest row, in vectors, that one lane walks alone (no workgroup
 * reduction at all).
 */
export const ONE_LANE_MAX_VECTORS = 64;
/** Most partial sums per lane and reduction round (workgroup memory). */
const MAX_ROWS = 32;

/**
 * Lanes per token of the token-walking stream kernels: one lane walks a
 * short row (up to {@linkcode ONE_LANE_MAX_VECTORS} vectors) alone; longer
 * rows get {@linkcode LANES_WIDE} lanes, so that a GPU sees neighbouring
 * lanes read neighbouring vectors and enough invocations. On a CPU adapter
 * such as lavapipe this is the fastest choice at every measured width
 * (bench/backward_variants.ts, bench/variants.ts).
 *
 * @param s The call's layout.
 * @returns 1 or {@linkcode LANES_WIDE}.
 */
export function tokenLanes(s: StreamLayout): number {
  return s.cv <= ONE_LANE_MAX_VECTORS ? 1 : LANES_WIDE;
}

/**
 * How a token-walking stream kernel lays tokens out: `lanes` invocations
 * per token, `wg / lanes` tokens per workgroup.
 */
export interface LaneLayout {
  /** Invocations per workgroup (`WG`). */
  wg: number;
  /** Lanes per token (`L`), a power of two dividing `wg`. */
  lanes: number;
  /** Workgroups for a chunk of `tokens` tokens. */
  workgroups(tokens: number): number;
}

/**
 * The layout of the fused post forward: {@linkcode WG_POST} invocations per
 * workgroup, {@linkcode tokenLanes} lanes per token.
 *
 * @param s The call's layout.
 * @param lanes Lanes per token, overriding the rule (bench variants).
 * @returns The layout.
 */
export function postLayout(s: StreamLayout, lanes = tokenLanes(s)): LaneLayout {
  const wg = WG_POST;
  const perGroup = wg / lanes;
  return {
    wg,
    lanes,
    workgroups: (tokens) => Math.ceil(tokens / perGroup),
  };
}

/**
 * How a reducing stream kernel (pre and post backward) lays tokens out:
 * `lanes` invocations per token, `wg / lanes` tokens per workgroup, and
 * `rows` partial sums reduced per round (token_reduce.wgsl).
 */
export interface ReduceLayout extends LaneLayout {
  /** Partial sums per lane and round (`R`). */
  rows: number;
}

/**
 * The layout of a reducing kernel that sums `values` per-token channel
 * sums, with {@linkcode tokenLanes} lanes per token. With one lane a lane
 * walks the whole row and writes its sums, with no workgroup memory and no
 * barrier; with more, the lanes' partial sums are added in lane order
 * (token_reduce.wgsl).
 *
 * @param s The call's layout.
 * @param values Channel sums per token (`n` for pre, `n + n²` for post).
 * @param lanes Lanes per token, overriding the rule (bench variants).
 * @returns The layout.
 */
export function reduceLayout(
  s: StreamLayout,
  values: number,
  lanes = tokenLanes(s),
): ReduceLayout {
  const wg = WG_REDUCE;
  const rounds = Math.ceil(values / MAX_ROWS);
  const perGroup = wg / lanes;
  return {
    wg,
    lanes,
    rows: Math.ceil(values / rounds),
    workgroups: (tokens) => Math.ceil(tokens / perGroup),
  };
}

/** Throws unless the device allows `count` storage buffers in one shader. */
export function requireStorageBuffers(
  gpu: MhcGpu,
  count: number,
  what: string,
): void {
  const have = gpu.device.limits.maxStorageBuffersPerShaderStage;
  if (have < count) {
    throw new GpuError(
      "unsupported",
      `${what} binds ${count} storage buffers, but the device allows ${have}: ` +
        `request the device with requiredLimits.maxStorageBuffersPerShaderStage >= ${count} ` +
        `(MhcGpu.create() without a device does)`,
    );
  }
}

/** Converts read-back stream bytes to f32 values. */
export function streamValues(
  bytes: ArrayBuffer,
  s: { precision: StreamPrecision },
  length: number,
): Float32Array {
  return s.precision === "f16"
    ? f16BitsToF32(new Uint16Array(bytes, 0, length))
    : new Float32Array(bytes, 0, length);
}
