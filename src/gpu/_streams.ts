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
  assertInvariant,
  cachedSource,
  constantValue,
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
 * Threads per workgroup of the elementwise kernels (pre, post): their `WG`,
 * written in by {@linkcode streamPipeline}.
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
 * (e.g. `ACCUMULATE`). An elementwise kernel also gets
 * `WG = WG_ELEMENTWISE`; a reducing one gets the token reduction appended,
 * whose `R` partial sums per round must cover every supported `n` in one
 * round (`R == MAX_STREAMS`).
 */
export function streamPipeline(
  gpu: MhcGpu,
  kernel: string,
  code: string,
  s: StreamLayout,
  reduces = false,
  constants: Record<string, number> = {},
): Promise<GPUComputePipeline> {
  const v: StreamVariant = { n: s.n, width: s.width, precision: s.precision };
  const key = variantKey(kernel, v) +
    Object.entries(constants).map(([k, value]) => `|${k}=${value}`).join("");
  return gpu.pipeline({
    label: key,
    key,
    code: cachedSource(key, () => {
      if (!reduces) {
        return withConstants(specializeStreams(code, v), {
          WG: WG_ELEMENTWISE,
          ...constants,
        });
      }
      const r = constantValue(tokenReduceWgsl, "R");
      assertInvariant(
        r === MAX_STREAMS,
        `token_reduce.wgsl reduces R = ${r} values per round, the backward kernels need R == MAX_STREAMS = ${MAX_STREAMS}`,
      );
      return withConstants(
        specializeStreams(code, v, [tokenReduceWgsl]),
        constants,
      );
    }),
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

/** Workgroups of a reducing kernel: one workgroup per token. */
export function perToken(tokens: number): number {
  return tokens;
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
