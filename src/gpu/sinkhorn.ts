// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Sinkhorn-Knopp projection on WebGPU (SPEC §4), forward and exact backward,
 * with the semantics of the reference {@linkcode sinkhornKnopp} and
 * {@linkcode sinkhornKnoppBackward}: log domain for `eps = 0`, DeepSeek's
 * linear variant for `eps > 0`, the optional early stop `tolerance` (its f32
 * bits in the uniform); the backward recomputes the iterates on chip, with
 * the same stopping rule, and runs through every normalisation that ran.
 *
 * Kernels: `wgsl/sinkhorn_core.wgsl` + `wgsl/sinkhorn.wgsl`; one invocation
 * per matrix (its `n²` iterates in registers, no barrier), 64 matrices per
 * workgroup, `n` compiled in as a constant.
 *
 * @module
 */

import type { BufferRef, MhcGpu } from "./runtime.ts";
import {
  type SinkhornConfig,
  sinkhornConfig,
  type SinkhornKnoppOptions,
} from "../reference/sinkhorn.ts";
import { checkObject, checkPositiveInt } from "../_validate.ts";
import { sinkhornCoreWgsl } from "../kernels/sinkhorn_core.ts";
import { sinkhornWgsl } from "../kernels/sinkhorn.ts";
import { checkF32, checkGpu } from "./_validate.ts";
import { cachedSource, f32Bits, withConstants } from "./specialize.ts";

/** Largest matrix size the kernels support. */
export const MAX_SINKHORN_N = 8;

/**
 * Matrices (invocations) per workgroup of the standalone kernels: their
 * `SK_WG`, written in when the source is built.
 */
const MATRICES_PER_WORKGROUP = 64;

/** Buffers of {@linkcode encodeSinkhornKnopp}, all f32 with `STORAGE` usage. */
export interface SinkhornKnoppBuffers {
  /** Logits `[T, n, n]`. */
  logits: BufferRef;
  /** Receives the projected matrices `[T, n, n]`. */
  output: BufferRef;
}

/** Buffers of {@linkcode encodeSinkhornKnoppBackward}, all f32. */
export interface SinkhornKnoppBackwardBuffers {
  /** Logits `[T, n, n]` given to the forward. */
  logits: BufferRef;
  /** Upstream gradient of the forward's output, `[T, n, n]`. */
  gradOutput: BufferRef;
  /** Receives the gradient of the logits, `[T, n, n]`. */
  gradLogits: BufferRef;
}

/** Checked sizes and settings. Internal. */
export interface SinkhornGpuConfig extends SinkhornConfig {
  n: number;
  T: number;
}

/**
 * Checks the options of the GPU Sinkhorn ops: as the reference, plus
 * `n <= 8`. Internal.
 */
export function sinkhornGpuConfig(
  options: SinkhornKnoppOptions,
): SinkhornGpuConfig {
  checkObject("options", options);
  const n = checkSinkhornN(options.n);
  const T = checkPositiveInt("T", options.T);
  return { n, T, ...sinkhornConfig(options) };
}

/** Throws unless `n` is an integer in `1 … 8`. Internal. */
export function checkSinkhornN(n: unknown): number {
  checkPositiveInt("n", n);
  if ((n as number) > MAX_SINKHORN_N) {
    throw new RangeError(
      `n must be at most ${MAX_SINKHORN_N} on the GPU, got ${String(n)}`,
    );
  }
  return n as number;
}

function pipeline(gpu: MhcGpu, n: number, backward: boolean) {
  const entryPoint = backward ? "sinkhorn_backward" : "sinkhorn_forward";
  const key = `sinkhorn|${entryPoint}|n=${n}`;
  return gpu.pipeline({
    label: entryPoint,
    code: cachedSource(
      key,
      () =>
        withConstants(sinkhornCoreWgsl + sinkhornWgsl, {
          N: n,
          SK_WG: MATRICES_PER_WORKGROUP,
        }),
    ),
    entryPoint,
    key,
  });
}

/** Records one Sinkhorn kernel over checked options. */
function record(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  pipe: GPUComputePipeline,
  bindings: [string, BufferRef][],
  config: SinkhornGpuConfig,
  backward: boolean,
): void {
  const { n, T } = config;
  const eps = f32Bits(config.eps);
  const shape = `[T, n, n] = [${T}, ${n}, ${n}] as f32`;
  gpu.encodeTokens(encoder, {
    label: backward ? "sinkhornKnoppBackward" : "sinkhornKnopp",
    pipeline: pipe,
    T,
    buffers: bindings.map(([name, ref]) => ({
      name,
      ref,
      bytesPerToken: n * n * 4,
      shape,
    })),
    workgroups: (tokens) => Math.ceil(tokens / MATRICES_PER_WORKGROUP),
    params: (tokens) =>
      new Uint32Array([
        tokens,
        config.iterations,
        eps,
        f32Bits(config.tolerance),
      ]),
  });
}

async function encode(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  bindings: [string, BufferRef][],
  options: SinkhornKnoppOptions,
  backward: boolean,
): Promise<void> {
  checkGpu(gpu);
  const config = sinkhornGpuConfig(options);
  const pipe = await pipeline(gpu, config.n, backward);
  record(gpu, encoder, pipe, bindings, config, backward);
}

/**
 * Records the Sinkhorn-Knopp forward into `encoder`: `buffers.output` gets
 * the projection of `buffers.logits` (see {@linkcode sinkhornKnopp}). Large
 * `T` is split into chunks within the device limits.
 * An output must not share a buffer with an input of the same call (WebGPU
 * forbids one dispatch reading and writing one buffer); inputs may share.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder; nothing is submitted.
 * @param buffers Logits and output, f32 `[T, n, n]`.
 * @param options Sizes `n` (1 to 8) and `T`, optional `iterations`, `eps`
 *   and `tolerance`.
 * @returns A promise that resolves once the commands are recorded.
 * @throws {RangeError} When a size is invalid or a buffer too small.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage.
 *
 * @example Project logits held in GPU buffers
 * ```ts ignore
 * import { encodeSinkhornKnopp, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const logits = gpu.device.createBuffer({ size: 64, usage });
 * const output = gpu.device.createBuffer({ size: 64, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeSinkhornKnopp(gpu, encoder, { logits, output }, { n: 4, T: 1 });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export function encodeSinkhornKnopp(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: SinkhornKnoppBuffers,
  options: SinkhornKnoppOptions,
): Promise<void> {
  checkObject("buffers", buffers);
  return encode(
    gpu,
    encoder,
    [
      ["logits", buffers.logits],
      ["output", buffers.output],
    ],
    options,
    false,
  );
}

/**
 * Records the exact Sinkhorn-Knopp backward into `encoder`:
 * `buffers.gradLogits` gets the gradient of the logits (see
 * {@linkcode sinkhornKnoppBackward}).
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder; nothing is submitted.
 * @param buffers Logits, upstream gradient and output, f32 `[T, n, n]`.
 * @param options The forward's options.
 * @returns A promise that resolves once the commands are recorded.
 * @throws {RangeError} When a size is invalid or a buffer too small.
 * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage.
 *
 * @example Backward on GPU buffers
 * ```ts ignore
 * import { encodeSinkhornKnoppBackward, MhcGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
 *   GPUBufferUsage.COPY_DST;
 * const make = () => gpu.device.createBuffer({ size: 64, usage });
 * const encoder = gpu.device.createCommandEncoder();
 * await encodeSinkhornKnoppBackward(gpu, encoder, {
 *   logits: make(),
 *   gradOutput: make(),
 *   gradLogits: make(),
 * }, { n: 4, T: 1 });
 * gpu.device.queue.submit([encoder.finish()]);
 * ```
 */
export function encodeSinkhornKnoppBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  buffers: SinkhornKnoppBackwardBuffers,
  options: SinkhornKnoppOptions,
): Promise<void> {
  checkObject("buffers", buffers);
  // Kernel bindings: 1 logits, 2 result, 3 upstream gradient.
  return encode(
    gpu,
    encoder,
    [
      ["logits", buffers.logits],
      ["gradLogits", buffers.gradLogits],
      ["gradOutput", buffers.gradOutput],
    ],
    options,
    true,
  );
}

/**
 * {@linkcode sinkhornKnopp} on the GPU: projects each token's `n × n` logits
 * onto the doubly stochastic matrices. Float32 only, `n <= 8`.
 *
 * @param gpu The runtime.
 * @param logits Logits `[T, n, n]`, row-major.
 * @param options Sizes `n` (1 to 8) and `T`, optional `iterations`, `eps`
 *   and `tolerance`.
 * @returns The projected matrices `[T, n, n]`.
 * @throws {RangeError} When a size or the length of `logits` is wrong.
 * @throws {TypeError} When `logits` is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example Rows sum to one
 * ```ts ignore
 * import { MhcGpu, sinkhornKnoppGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const h = await sinkhornKnoppGpu(gpu, new Float32Array([2, 0, 1, -1]), {
 *   n: 2,
 *   T: 1,
 * });
 * console.log(h[0] + h[1]); // 1
 * ```
 */
export async function sinkhornKnoppGpu(
  gpu: MhcGpu,
  logits: Float32Array,
  options: SinkhornKnoppOptions,
): Promise<Float32Array> {
  checkGpu(gpu);
  const config = sinkhornGpuConfig(options);
  const { n, T } = config;
  checkF32("logits", logits, T * n * n, `[T, n, n] = [${T}, ${n}, ${n}]`);
  const bytes = T * n * n * 4;
  const pipe = await pipeline(gpu, n, false);
  const [out] = await gpu.compute("sinkhornKnopp", (ctx) => {
    const output = ctx.output(bytes, "sinkhorn output");
    record(
      gpu,
      ctx.encoder,
      pipe,
      [
        ["logits", ctx.upload(logits, "sinkhorn logits")],
        ["output", output],
      ],
      config,
      false,
    );
    return [{ buffer: output, bytes }];
  });
  return new Float32Array(out);
}

/**
 * {@linkcode sinkhornKnoppBackward} on the GPU: the exact reverse-mode
 * gradient through every normalisation that ran. Float32 only, `n <= 8`.
 *
 * @param gpu The runtime.
 * @param logits The logits `[T, n, n]` given to the forward.
 * @param gradOutput Upstream gradient of the forward's output, `[T, n, n]`.
 * @param options The forward's options.
 * @returns The gradient with respect to `logits`, `[T, n, n]`.
 * @throws {RangeError} When a size or a length is wrong.
 * @throws {TypeError} When an array is not a `Float32Array`.
 * @throws {GpuError} When the GPU reports an error.
 *
 * @example Gradient of one output entry
 * ```ts ignore
 * import { MhcGpu, sinkhornKnoppBackwardGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const g = await sinkhornKnoppBackwardGpu(
 *   gpu,
 *   new Float32Array([0.5, -0.2, 0.1, 0.3]),
 *   new Float32Array([1, 0, 0, 0]),
 *   { n: 2, T: 1 },
 * );
 * console.log(g.length); // 4
 * ```
 */
export async function sinkhornKnoppBackwardGpu(
  gpu: MhcGpu,
  logits: Float32Array,
  gradOutput: Float32Array,
  options: SinkhornKnoppOptions,
): Promise<Float32Array> {
  checkGpu(gpu);
  const config = sinkhornGpuConfig(options);
  const { n, T } = config;
  const shape = `[T, n, n] = [${T}, ${n}, ${n}]`;
  checkF32("logits", logits, T * n * n, shape);
  checkF32("gradOutput", gradOutput, T * n * n, shape);
  const bytes = T * n * n * 4;
  const pipe = await pipeline(gpu, n, true);
  const [out] = await gpu.compute("sinkhornKnoppBackward", (ctx) => {
    const result = ctx.output(bytes, "sinkhorn grad logits");
    record(
      gpu,
      ctx.encoder,
      pipe,
      [
        ["logits", ctx.upload(logits, "sinkhorn logits")],
        ["gradLogits", result],
        ["gradOutput", ctx.upload(gradOutput, "sinkhorn grad output")],
      ],
      config,
      true,
    );
    return [{ buffer: result, bytes }];
  });
  return new Float32Array(out);
}
