// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * WebGPU host code of the pre-aggregation `u = H_pre · x`
 * (`wgsl/pre.wgsl`) and its backward (`wgsl/pre_backward.wgsl`): an encode
 * API that records into the caller's command encoder, and an error-scoped
 * convenience API on `Float32Array`s with the reference's semantics
 * (src/reference/pre.ts).
 *
 * @module
 */

import type { MhcPreGrads } from "../reference/pre.ts";
import { preWgsl } from "../kernels/pre.ts";
import { preBackwardWgsl } from "../kernels/pre_backward.ts";
import { checkF32, checkOptionalBoolean } from "./_validate.ts";
import { checkObject, tc, tn, tnc } from "../_validate.ts";
import {
  elementwiseGroups,
  type GpuStreamOptions,
  reduceLayout,
  type StreamLayout,
  streamLayout,
  streamParams,
  streamPipeline,
  streamValues,
} from "./_streams.ts";
import type { BufferRef, MhcGpu, TokenDispatch } from "./runtime.ts";

/** Buffers of {@linkcode encodeMhcPre}. Streams in the chosen precision, `hPre` f32. */
export interface MhcPreBuffers {
  /** Residual states `[T, n, C]`. */
  x: BufferRef;
  /** `H_pre`, `[T, n]`, f32. */
  hPre: BufferRef;
  /** Output `u`, `[T, C]`. */
  out: BufferRef;
}

/** Buffers of {@linkcode encodeMhcPreBackward}. */
export interface MhcPreBackwardBuffers {
  /** Residual states `[T, n, C]` given to the forward. */
  x: BufferRef;
  /** `H_pre`, `[T, n]`, f32. */
  hPre: BufferRef;
  /** Upstream gradient of `u`, `[T, C]`. */
  gradU: BufferRef;
  /** Output: gradient of `x`, `[T, n, C]`. */
  gradX: BufferRef;
  /** Output: gradient of `H_pre`, `[T, n]`, f32. */
  gradHPre: BufferRef;
}

/** Options of {@linkcode encodeMhcPreBackward}. */
export interface MhcPreBackwardGpuOptions extends GpuStreamOptions {
  /**
   * `true`: add the gradient of `x` to the values already in `gradX` (read,
   * add in f32, store in the stream precision); `false` (default):
   * overwrite them. `gradHPre` is always overwritten.
   */
  accumulate?: boolean;
}

/** The backward pipeline; `accumulate` selects the adding variant. */
function backwardPipeline(
  gpu: MhcGpu,
  s: StreamLayout,
  accumulate: boolean,
): Promise<GPUComputePipeline> {
  return streamPipeline(
    gpu,
    "pre_backward",
    preBackwardWgsl,
    s,
    reduceLayout(s, s.n),
    { ACCUMULATE: accumulate ? 1 : 0 },
  );
}

function forwardDispatch(
  s: StreamLayout,
  pipeline: GPUComputePipeline,
  b: MhcPreBuffers,
): TokenDispatch {
  const { n, C, es, as } = s;
  return {
    label: "mhcPre",
    pipeline,
    T: s.T,
    buffers: [
      { name: "x", ref: b.x, bytesPerToken: n * C * es, shape: tnc(s) + as },
      { name: "hPre", ref: b.hPre, bytesPerToken: n * 4, shape: tn(s) },
      { name: "out", ref: b.out, bytesPerToken: C * es, shape: tc(s) + as },
    ],
    workgroups: elementwiseGroups(s),
    params: streamParams(s),
  };
}

function backwardDispatch(
  s: StreamLayout,
  pipeline: GPUComputePipeline,
  b: MhcPreBackwardBuffers,
): TokenDispatch {
  const { n, C, es, as } = s;
  return {
    label: "mhcPreBackward",
    pipeline,
    T: s.T,
    buffers: [
      { name: "x", ref: b.x, bytesPerToken: n * C * es, shape: tnc(s) + as },
      { name: "hPre", ref: b.hPre, bytesPerToken: n * 4, shape: tn(s) },
      { name: "gradU", ref: b.gradU, bytesPerToken: C * es, shape: tc(s) + as },
      {
        name: "gradX",
        ref: b.gradX,
        bytesPerToken: n * C * es,
        shape: tnc(s) + as,
      },
      { name: "gradHPre", ref: b.gradHPre, bytesPerToken: n * 4, shape: tn(s) },
    ],
    workgroups: reduceLayout(s, s.n).workgroups,
    params: streamParams(s),
  };
}

/**
 * Records the pre-aggregation into `encoder` (no submit, no readback):
 * `out[t] = Σ_j hPre[t][j]·x[t][j]`. Streams in `options.precision`,
 * `hPre` f32. Buffers need `STORAGE` usage; offsets must be multiples of
 * `minStorageBufferOffsetAlignment`. Large `T` is split automatically.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder.
 * @param buffers Inputs and output.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns When the work is recorded.
 * @throws {RangeError} When a size is wrong or a buffer too small or misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage.
 *
 * @example Record into your own encoder (needs WebGPU)
 * ```ts ignore
 * import { encodeMhcPre, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
 * const buf = (floats: number) =>
 *   gpu.device.createBuffer({ size: floats * 4, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcPre(gpu, encoder, {
 *   x: buf(T * n * C), hPre: buf(T * n), out: buf(T * C),
 * }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export async function encodeMhcPre(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcPreBuffers,
  options: GpuStreamOptions,
): Promise<void> {
  const s = streamLayout(gpu, options);
  checkObject("buffers", buffers);
  const pipeline = await streamPipeline(gpu, "pre", preWgsl, s);
  gpu.encodeTokens(encoder, forwardDispatch(s, pipeline, buffers));
}

/**
 * Records the backward of the pre-aggregation into `encoder`. The gradient
 * of `H_pre` is a per-token channel sum, reduced in a fixed order
 * (deterministic) and written in f32. With `accumulate: true` the gradient
 * of `x` is added to the values already in `gradX` instead of overwriting
 * them (to sum several paths through `x` into one gradient).
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder.
 * @param buffers Forward inputs, upstream gradient and the two outputs.
 * @param options Sizes `n`, `C`, `T`, the stream precision and `accumulate`.
 * @returns When the work is recorded.
 * @throws {RangeError} When a size is wrong or a buffer too small or misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage, or
 *   `accumulate` is not a boolean.
 *
 * @example Record the backward (needs WebGPU)
 * ```ts ignore
 * import { encodeMhcPreBackward, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
 * const buf = (floats: number) =>
 *   gpu.device.createBuffer({ size: floats * 4, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcPreBackward(gpu, encoder, {
 *   x: buf(T * n * C), hPre: buf(T * n), gradU: buf(T * C),
 *   gradX: buf(T * n * C), gradHPre: buf(T * n),
 * }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 *
 * @example Add to a gradient of x that another path already wrote
 * ```ts ignore
 * import { encodeMhcPreBackward, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * // With the buffers of the first example, gradX holding the gradient of x
 * // from the post backward:
 * // await encodeMhcPreBackward(gpu, encoder, buffers,
 * //   { n, C, T, accumulate: true });
 * ```
 */
export async function encodeMhcPreBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcPreBackwardBuffers,
  options: MhcPreBackwardGpuOptions,
): Promise<void> {
  const s = streamLayout(gpu, options);
  const accumulate = checkOptionalBoolean("accumulate", options.accumulate);
  checkObject("buffers", buffers);
  const pipeline = await backwardPipeline(gpu, s, accumulate);
  gpu.encodeTokens(encoder, backwardDispatch(s, pipeline, buffers));
}

/**
 * Pre-aggregation on the GPU, with the semantics of the reference
 * `mhcPre`: `u[t][c] = Σ_j H_pre[t][j]·x[t][j][c]`. Uploads, runs inside
 * error scopes, reads back.
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]`.
 * @param hPre Per-token weights `[T, n]`.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns The sub-layer input `u`, `[T, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error or the device is lost.
 *
 * @example Weighted sum of two streams (needs WebGPU)
 * ```ts ignore
 * import { MhcGpu, mhcPreGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const u = await mhcPreGpu(gpu, new Float32Array([1, 2, 10, 20]),
 *   new Float32Array([1, 0.5]), { n: 2, C: 2, T: 1 });
 * console.log(u); // Float32Array [6, 12]
 * ```
 */
export async function mhcPreGpu(
  gpu: MhcGpu,
  x: Float32Array,
  hPre: Float32Array,
  options: GpuStreamOptions,
): Promise<Float32Array> {
  const s = streamLayout(gpu, options);
  const { n, C, T, es } = s;
  checkF32("x", x, T * n * C, tnc(s));
  checkF32("hPre", hPre, T * n, tn(s));
  const pipeline = await streamPipeline(gpu, "pre", preWgsl, s);
  const [out] = await gpu.compute("mhcPre", (ctx) => {
    const b: MhcPreBuffers = {
      x: ctx.uploadStreams(x, s.precision, "x"),
      hPre: ctx.upload(hPre, "hPre"),
      out: ctx.output(T * C * es, "u"),
    };
    gpu.encodeTokens(ctx.encoder, forwardDispatch(s, pipeline, b));
    return [{ buffer: b.out as GPUBuffer, bytes: T * C * es }];
  });
  return streamValues(out, s, T * C);
}

/**
 * Backward of the pre-aggregation on the GPU, with the semantics of the
 * reference `mhcPreBackward`.
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]` given to the forward.
 * @param hPre Weights `[T, n]` given to the forward.
 * @param gradU Upstream gradient of `u`, `[T, C]`.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns Gradients of `x` and `hPre`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error or the device is lost.
 *
 * @example Gradient of the weights (needs WebGPU)
 * ```ts ignore
 * import { MhcGpu, mhcPreBackwardGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const g = await mhcPreBackwardGpu(gpu, new Float32Array([1, 2, 10, 20]),
 *   new Float32Array([1, 0.5]), new Float32Array([1, 1]), { n: 2, C: 2, T: 1 });
 * console.log(g.hPre); // Float32Array [3, 30]
 * ```
 */
export async function mhcPreBackwardGpu(
  gpu: MhcGpu,
  x: Float32Array,
  hPre: Float32Array,
  gradU: Float32Array,
  options: GpuStreamOptions,
): Promise<MhcPreGrads<Float32Array>> {
  const s = streamLayout(gpu, options);
  const { n, C, T, es } = s;
  checkF32("x", x, T * n * C, tnc(s));
  checkF32("hPre", hPre, T * n, tn(s));
  checkF32("gradU", gradU, T * C, tc(s));
  const pipeline = await backwardPipeline(gpu, s, false);
  const [gx, gh] = await gpu.compute("mhcPreBackward", (ctx) => {
    const b: MhcPreBackwardBuffers = {
      x: ctx.uploadStreams(x, s.precision, "x"),
      hPre: ctx.upload(hPre, "hPre"),
      gradU: ctx.uploadStreams(gradU, s.precision, "gradU"),
      gradX: ctx.output(T * n * C * es, "gradX"),
      gradHPre: ctx.output(T * n * 4, "gradHPre"),
    };
    gpu.encodeTokens(ctx.encoder, backwardDispatch(s, pipeline, b));
    return [
      { buffer: b.gradX as GPUBuffer, bytes: T * n * C * es },
      { buffer: b.gradHPre as GPUBuffer, bytes: T * n * 4 },
    ];
  });
  return { x: streamValues(gx, s, T * n * C), hPre: new Float32Array(gh) };
}
