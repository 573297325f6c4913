// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * WebGPU host code of the fused post mixing `x' = H_res·x + H_post·y`
 * (`wgsl/post.wgsl`) and its backward (`wgsl/post_backward.wgsl`): an
 * encode API that records into the caller's command encoder, and an
 * error-scoped convenience API on `Float32Array`s with the reference's
 * semantics (src/reference/post.ts).
 *
 * @module
 */

import type { MhcPostGrads } from "../reference/post.ts";
import { postWgsl } from "../kernels/post.ts";
import { postBackwardWgsl } from "../kernels/post_backward.ts";
import { checkF32 } from "./_validate.ts";
import { checkObject, tc, tn, tnc, tnn } from "../_validate.ts";
import {
  type GpuStreamOptions,
  type LaneLayout,
  postLayout,
  reduceLayout,
  requireStorageBuffers,
  type StreamLayout,
  streamLayout,
  streamParams,
  streamPipeline,
  streamValues,
} from "./_streams.ts";
import type { BufferRef, MhcGpu, TokenDispatch } from "./runtime.ts";

/** Buffers of {@linkcode encodeMhcPost}. Streams in the chosen precision, coefficients f32. */
export interface MhcPostBuffers {
  /** Residual states `[T, n, C]`. */
  x: BufferRef;
  /** Sub-layer output `[T, C]`. */
  y: BufferRef;
  /** `H_post`, `[T, n]`, f32. */
  hPost: BufferRef;
  /** `H_res`, `[T, n, n]`, f32. */
  hRes: BufferRef;
  /** Output `x'`, `[T, n, C]`. */
  out: BufferRef;
}

/** Buffers of {@linkcode encodeMhcPostBackward}. */
export interface MhcPostBackwardBuffers {
  /** Residual states `[T, n, C]` given to the forward. */
  x: BufferRef;
  /** Sub-layer output `[T, C]` given to the forward. */
  y: BufferRef;
  /** `H_post`, `[T, n]`, f32. */
  hPost: BufferRef;
  /** `H_res`, `[T, n, n]`, f32. */
  hRes: BufferRef;
  /** Upstream gradient of `x'`, `[T, n, C]`. */
  gradOut: BufferRef;
  /** Output: gradient of `x`, `[T, n, C]`. */
  gradX: BufferRef;
  /** Output: gradient of `y`, `[T, C]`. */
  gradY: BufferRef;
  /** Output: gradient of `H_post`, `[T, n]`, f32. */
  gradHPost: BufferRef;
  /** Output: gradient of `H_res`, `[T, n, n]`, f32. */
  gradHRes: BufferRef;
}

/** Storage buffers the backward kernel binds. */
const BACKWARD_STORAGE_BUFFERS = 9;

function forwardDispatch(
  s: StreamLayout,
  layout: LaneLayout,
  pipeline: GPUComputePipeline,
  b: MhcPostBuffers,
): TokenDispatch {
  const { n, C, es, as } = s;
  return {
    label: "mhcPost",
    pipeline,
    T: s.T,
    buffers: [
      { name: "x", ref: b.x, bytesPerToken: n * C * es, shape: tnc(s) + as },
      { name: "y", ref: b.y, bytesPerToken: C * es, shape: tc(s) + as },
      { name: "hPost", ref: b.hPost, bytesPerToken: n * 4, shape: tn(s) },
      { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4, shape: tnn(s) },
      {
        name: "out",
        ref: b.out,
        bytesPerToken: n * C * es,
        shape: tnc(s) + as,
      },
    ],
    workgroups: layout.workgroups,
    params: streamParams(s),
  };
}

function backwardDispatch(
  s: StreamLayout,
  pipeline: GPUComputePipeline,
  b: MhcPostBackwardBuffers,
): TokenDispatch {
  const { n, C, es, as } = s;
  const stream = (name: string, ref: BufferRef) => ({
    name,
    ref,
    bytesPerToken: n * C * es,
    shape: tnc(s) + as,
  });
  return {
    label: "mhcPostBackward",
    pipeline,
    T: s.T,
    buffers: [
      stream("x", b.x),
      { name: "y", ref: b.y, bytesPerToken: C * es, shape: tc(s) + as },
      { name: "hPost", ref: b.hPost, bytesPerToken: n * 4, shape: tn(s) },
      { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4, shape: tnn(s) },
      stream("gradOut", b.gradOut),
      stream("gradX", b.gradX),
      { name: "gradY", ref: b.gradY, bytesPerToken: C * es, shape: tc(s) + as },
      {
        name: "gradHPost",
        ref: b.gradHPost,
        bytesPerToken: n * 4,
        shape: tn(s),
      },
      {
        name: "gradHRes",
        ref: b.gradHRes,
        bytesPerToken: n * n * 4,
        shape: tnn(s),
      },
    ],
    workgroups: reduceLayout(s, backwardSums(s)).workgroups,
    params: streamParams(s),
  };
}

/** Channel sums per token of the backward: `g_H_post` and `g_H_res`. */
function backwardSums(s: StreamLayout): number {
  return s.n + s.n * s.n;
}

function forwardPipeline(
  gpu: MhcGpu,
  s: StreamLayout,
  layout: LaneLayout,
): Promise<GPUComputePipeline> {
  return streamPipeline(gpu, "post", postWgsl, s, undefined, {
    WG: layout.wg,
    L: layout.lanes,
  });
}

function backwardPipeline(
  gpu: MhcGpu,
  s: StreamLayout,
): Promise<GPUComputePipeline> {
  requireStorageBuffers(gpu, BACKWARD_STORAGE_BUFFERS, "mhcPostBackward");
  return streamPipeline(
    gpu,
    "post_backward",
    postBackwardWgsl,
    s,
    reduceLayout(s, backwardSums(s)),
  );
}

/**
 * Records the fused post mixing into `encoder` (no submit, no readback):
 * `out[t][i] = Σ_j hRes[t][i][j]·x[t][j] + hPost[t][i]·y[t]`. Streams are in
 * `options.precision` (f16 buffers hold binary16 values), coefficients f32.
 * Buffers need `STORAGE` usage; offsets must be multiples of
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
 * import { encodeMhcPost, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
 * const buf = (floats: number) =>
 *   gpu.device.createBuffer({ size: floats * 4, usage });
 * const x = buf(T * n * C), y = buf(T * C), hPost = buf(T * n);
 * const hRes = buf(T * n * n), out = buf(T * n * C);
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcPost(gpu, encoder, { x, y, hPost, hRes, out }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export async function encodeMhcPost(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcPostBuffers,
  options: GpuStreamOptions,
): Promise<void> {
  const s = streamLayout(gpu, options);
  checkObject("buffers", buffers);
  const layout = postLayout(s);
  const pipeline = await forwardPipeline(gpu, s, layout);
  gpu.encodeTokens(encoder, forwardDispatch(s, layout, pipeline, buffers));
}

/**
 * Records the backward of the fused post mixing into `encoder`. Gradients
 * of `H_post` and `H_res` are per-token channel sums, reduced in a fixed
 * order (deterministic) and written in f32.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder.
 * @param buffers Forward inputs, upstream gradient, and the four outputs.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns When the work is recorded.
 * @throws {RangeError} When a size is wrong or a buffer too small or misaligned.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage.
 * @throws {GpuError} When the device allows fewer than 9 storage buffers per stage.
 *
 * @example Record the backward (needs WebGPU)
 * ```ts ignore
 * import { encodeMhcPostBackward, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 64, T = 128;
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
 * const buf = (floats: number) =>
 *   gpu.device.createBuffer({ size: floats * 4, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeMhcPostBackward(gpu, encoder, {
 *   x: buf(T * n * C), y: buf(T * C), hPost: buf(T * n), hRes: buf(T * n * n),
 *   gradOut: buf(T * n * C), gradX: buf(T * n * C), gradY: buf(T * C),
 *   gradHPost: buf(T * n), gradHRes: buf(T * n * n),
 * }, { n, C, T });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export async function encodeMhcPostBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: MhcPostBackwardBuffers,
  options: GpuStreamOptions,
): Promise<void> {
  const s = streamLayout(gpu, options);
  checkObject("buffers", buffers);
  const pipeline = await backwardPipeline(gpu, s);
  gpu.encodeTokens(encoder, backwardDispatch(s, pipeline, buffers));
}

function checkForwardArrays(
  s: StreamLayout,
  x: Float32Array,
  y: Float32Array,
  hPost: Float32Array,
  hRes: Float32Array,
): void {
  const { n, C, T } = s;
  checkF32("x", x, T * n * C, tnc(s));
  checkF32("y", y, T * C, tc(s));
  checkF32("hPost", hPost, T * n, tn(s));
  checkF32("hRes", hRes, T * n * n, tnn(s));
}

/**
 * Fused post mixing on the GPU, with the semantics of the reference
 * `mhcPost`: `x'[t][i][c] = Σ_j H_res[t][i][j]·x[t][j][c] + H_post[t][i]·y[t][c]`.
 * Uploads, runs inside error scopes, reads back. With `precision: "f16"`
 * the streams are rounded to f16 on upload and the result is f16 widened.
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]`.
 * @param y Sub-layer output `[T, C]`.
 * @param hPost Output weights `[T, n]`.
 * @param hRes Mixing matrices `[T, n, n]`, row `i` = output stream `i`.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns The new residual states `[T, n, C]`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error or the device is lost.
 *
 * @example Swap two streams and add the layer output (needs WebGPU)
 * ```ts ignore
 * import { MhcGpu, mhcPostGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const out = await mhcPostGpu(gpu, new Float32Array([1, 2]),
 *   new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), { n: 2, C: 1, T: 1 });
 * console.log(out); // Float32Array [12, 1]
 * ```
 */
export async function mhcPostGpu(
  gpu: MhcGpu,
  x: Float32Array,
  y: Float32Array,
  hPost: Float32Array,
  hRes: Float32Array,
  options: GpuStreamOptions,
): Promise<Float32Array> {
  const s = streamLayout(gpu, options);
  checkForwardArrays(s, x, y, hPost, hRes);
  const layout = postLayout(s);
  const pipeline = await forwardPipeline(gpu, s, layout);
  const count = s.T * s.n * s.C;
  const [out] = await gpu.compute("mhcPost", (ctx) => {
    const p = s.precision;
    const b: MhcPostBuffers = {
      x: ctx.uploadStreams(x, p, "x"),
      y: ctx.uploadStreams(y, p, "y"),
      hPost: ctx.upload(hPost, "hPost"),
      hRes: ctx.upload(hRes, "hRes"),
      out: ctx.output(count * s.es, "out"),
    };
    gpu.encodeTokens(ctx.encoder, forwardDispatch(s, layout, pipeline, b));
    return [{ buffer: b.out as GPUBuffer, bytes: count * s.es }];
  });
  return streamValues(out, s, count);
}

/**
 * Backward of the fused post mixing on the GPU, with the semantics of the
 * reference `mhcPostBackward`.
 *
 * @param gpu The runtime.
 * @param x Residual states `[T, n, C]` given to the forward.
 * @param y Sub-layer output `[T, C]` given to the forward.
 * @param hPost Weights `[T, n]` given to the forward.
 * @param hRes Matrices `[T, n, n]` given to the forward.
 * @param gradOut Upstream gradient of `x'`, `[T, n, C]`.
 * @param options Sizes `n`, `C`, `T` and the stream precision.
 * @returns Gradients of `x`, `y`, `hPost` and `hRes`.
 * @throws {RangeError} When a size or length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error or the device is lost.
 *
 * @example Gradient of the layer output (needs WebGPU)
 * ```ts ignore
 * import { MhcGpu, mhcPostBackwardGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const g = await mhcPostBackwardGpu(gpu, new Float32Array([1, 2]),
 *   new Float32Array([10]), new Float32Array([1, 0]),
 *   new Float32Array([0, 1, 1, 0]), new Float32Array([1, 1]),
 *   { n: 2, C: 1, T: 1 });
 * console.log(g.y); // Float32Array [1]
 * ```
 */
export async function mhcPostBackwardGpu(
  gpu: MhcGpu,
  x: Float32Array,
  y: Float32Array,
  hPost: Float32Array,
  hRes: Float32Array,
  gradOut: Float32Array,
  options: GpuStreamOptions,
): Promise<MhcPostGrads<Float32Array>> {
  const s = streamLayout(gpu, options);
  checkForwardArrays(s, x, y, hPost, hRes);
  const { n, C, T, es } = s;
  checkF32("gradOut", gradOut, T * n * C, tnc(s));
  const pipeline = await backwardPipeline(gpu, s);
  const sizes = [T * n * C, T * C, T * n, T * n * n];
  const [gx, gy, gp, gr] = await gpu.compute("mhcPostBackward", (ctx) => {
    const p = s.precision;
    const b: MhcPostBackwardBuffers = {
      x: ctx.uploadStreams(x, p, "x"),
      y: ctx.uploadStreams(y, p, "y"),
      hPost: ctx.upload(hPost, "hPost"),
      hRes: ctx.upload(hRes, "hRes"),
      gradOut: ctx.uploadStreams(gradOut, p, "gradOut"),
      gradX: ctx.output(sizes[0] * es, "gradX"),
      gradY: ctx.output(sizes[1] * es, "gradY"),
      gradHPost: ctx.output(sizes[2] * 4, "gradHPost"),
      gradHRes: ctx.output(sizes[3] * 4, "gradHRes"),
    };
    gpu.encodeTokens(ctx.encoder, backwardDispatch(s, pipeline, b));
    return [
      { buffer: b.gradX as GPUBuffer, bytes: sizes[0] * es },
      { buffer: b.gradY as GPUBuffer, bytes: sizes[1] * es },
      { buffer: b.gradHPost as GPUBuffer, bytes: sizes[2] * 4 },
      { buffer: b.gradHRes as GPUBuffer, bytes: sizes[3] * 4 },
    ];
  });
  return {
    x: streamValues(gx, s, sizes[0]),
    y: streamValues(gy, s, sizes[1]),
    hPost: new Float32Array(gp),
    hRes: new Float32Array(gr),
  };
}
