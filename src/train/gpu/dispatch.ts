// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * How the trainer's own kernels (`wgsl/train/`) are launched: one compute
 * pass per call, a uniform of `u32` words at binding 0, storage buffers at
 * bindings 1, 2, … in order, and a workgroup count that is laid out on a 2D
 * grid when it exceeds `maxComputeWorkgroupsPerDimension` (kernels recover
 * the linear index as `wid.x + wid.y * num_workgroups.x` and ignore indices
 * past the end).
 *
 * Pipelines are compiled once per key and cached by the runtime; uniform
 * buffers are cached by content, so a step whose sizes do not change
 * creates no buffer after its first run. Values that change every step (the
 * learning rate, the step count) must live in storage buffers written with
 * `queue.writeBuffer`, never in the uniform words.
 *
 * @module
 */

import { bufferOf, grid2d, type MhcGpu, offsetOf } from "../../../mod.ts";

/** A storage binding: a buffer, optionally a byte range of it. */
export type Binding = GPUBuffer | {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Byte offset, a multiple of `minStorageBufferOffsetAlignment`. Default 0. */
  offset?: number;
  /** Bytes bound. Default: the rest of the buffer. */
  size?: number;
};

/** One kernel launch of {@linkcode dispatch}. */
export interface KernelCall {
  /** Label of the pass and pipeline, used in error messages. */
  label: string;
  /** WGSL source. */
  code: string;
  /** Pipeline cache key: must determine `code` and `entryPoint`. */
  key: string;
  /** Entry point. Default `"main"`. */
  entryPoint?: string;
  /** Words of the uniform at binding 0 (sizes; never per-step values). */
  params: ArrayLike<number>;
  /** Storage bindings, at 1, 2, … in this order. */
  buffers: Binding[];
  /** Workgroups: a count (laid out 2D when needed) or an explicit `[x, y, z]`. */
  workgroups: number | [number, number, number];
}

/**
 * Compiles (once, cached) the pipeline of `call` and returns it, so that a
 * caller can compile every pipeline before its first step.
 *
 * @param gpu The runtime.
 * @param call The launch (only `label`, `code`, `key`, `entryPoint` are used).
 * @returns The pipeline.
 */
export function kernelPipeline(
  gpu: MhcGpu,
  call: Pick<KernelCall, "label" | "code" | "key" | "entryPoint">,
): Promise<GPUComputePipeline> {
  return gpu.pipeline({
    label: call.label,
    code: call.code,
    key: `train|${call.key}`,
    entryPoint: call.entryPoint ?? "main",
  });
}

/**
 * Records one kernel launch into `encoder`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param call What to launch.
 * @returns When the pass is recorded.
 */
export async function dispatch(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  call: KernelCall,
): Promise<void> {
  const pipeline = await kernelPipeline(gpu, call);
  const words = new Uint32Array(Math.max(1, call.params.length));
  words.set(Array.from(call.params));
  const entries: GPUBindGroupEntry[] = [{
    binding: 0,
    resource: { buffer: gpu.uniform(words) },
  }];
  call.buffers.forEach((b, i) => {
    const buffer = bufferOf(b), offset = offsetOf(b);
    const size = "buffer" in b && b.size !== undefined
      ? b.size
      : buffer.size - offset;
    entries.push({ binding: i + 1, resource: { buffer, offset, size } });
  });
  const bindGroup = gpu.device.createBindGroup({
    label: call.label,
    layout: pipeline.getBindGroupLayout(0),
    entries,
  });
  const [x, y, z] = typeof call.workgroups === "number"
    ? [
      ...grid2d(call.workgroups, gpu.limits.maxComputeWorkgroupsPerDimension),
      1,
    ]
    : call.workgroups;
  if (x * y * z === 0) return;
  const pass = encoder.beginComputePass({ label: call.label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * The bits of a float32, for an f32 field of a kernel's uniform words.
 *
 * @param value A number (rounded to float32).
 * @returns Its float32 bit pattern.
 */
export function f32Word(value: number): number {
  F32[0] = value;
  return U32[0];
}
