// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The yardsticks of SPEC §9: the adapter's `copyBufferToBuffer` bandwidth
 * and, for the TypeScript reference, the bandwidth of a `Float32Array.set`
 * copy; also a copy done by a compute shader (kernels/copy.wgsl), the
 * ceiling of what a kernel can move through shader loads and stores. A copy
 * of `bytes` bytes moves `2·bytes` (read + write), counted the same way as
 * the kernels' traffic.
 *
 * @module
 */

import type { BenchEnv } from "./_env.ts";
import type { Recorder } from "./_timing.ts";

const copyWgsl = await Deno.readTextFile(
  new URL("./kernels/copy.wgsl", import.meta.url),
);

/** Work to time and the buffers to free afterwards. */
export interface CopyWork {
  /** Records one copy. */
  record: Recorder;
  /** Frees the buffers. */
  dispose(): void;
}

/** Two GPU buffers of `bytes` bytes and a recorder copying one into the other. */
export function gpuCopy(env: BenchEnv, bytes: number): CopyWork {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const size = Math.ceil(bytes / 4) * 4;
  const src = env.device.createBuffer({ label: "copy src", size, usage });
  const dst = env.device.createBuffer({ label: "copy dst", size, usage });
  return {
    record: (encoder) => encoder.copyBufferToBuffer(src, 0, dst, 0, size),
    dispose() {
      src.destroy();
      dst.destroy();
    },
  };
}

/** Two `Float32Array`s of `bytes` bytes and a function copying one into the other. */
export function tsCopy(bytes: number): { run(): void } {
  const src = new Float32Array(Math.ceil(bytes / 4)).fill(1);
  const dst = new Float32Array(src.length);
  return { run: () => dst.set(src) };
}

/**
 * Two storage buffers of `bytes` bytes (rounded up to 16) and a recorder of
 * the copy kernel from one into the other.
 *
 * @param env The bench environment.
 * @param bytes Bytes to copy.
 * @returns The work.
 */
export async function shaderCopy(
  env: BenchEnv,
  bytes: number,
): Promise<CopyWork> {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
    GPUBufferUsage.COPY_DST;
  const size = Math.ceil(bytes / 16) * 16;
  const src = env.device.createBuffer({ label: "copy src", size, usage });
  const dst = env.device.createBuffer({ label: "copy dst", size, usage });
  const pipeline = await env.gpu.pipeline({
    label: "bench copy kernel",
    code: copyWgsl,
    key: "bench|copy",
  });
  return {
    record: (encoder) =>
      env.gpu.encodeTokens(encoder, {
        label: "copy kernel",
        pipeline,
        T: size / 16,
        buffers: [
          { name: "src", ref: src, bytesPerToken: 16 },
          { name: "dst", ref: dst, bytesPerToken: 16 },
        ],
        workgroups: (count) => Math.ceil(count / 256),
        params: (count) => new Uint32Array([count]),
      }),
    dispose() {
      src.destroy();
      dst.destroy();
    },
  };
}
