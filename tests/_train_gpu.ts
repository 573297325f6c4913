// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper for the WebGPU trainer's ops: a runtime on the shared test
 * device, uploads, read-backs, and a run of recorded work inside error
 * scopes. Each GPU op is held against its CPU twin in `src/train/ops/` with
 * `assertAllClose` (every element, `|a − b| <= atol + rtol·|ref|`).
 *
 * @module
 */

import { MhcGpu } from "../mod.ts";
import { requireDevice, withErrorScopes } from "./_gpu.ts";

export { GPU_REQUIRED, SKIP_GPU } from "./_gpu.ts";
export { assertAllClose } from "./conformance/tolerance.ts";

let runtime: Promise<MhcGpu> | undefined;

/** The runtime on the shared test device (not destroyed: the device is shared). */
export function testGpu(): Promise<MhcGpu> {
  runtime ??= requireDevice().then((device) => MhcGpu.create({ device }));
  return runtime;
}

const USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/**
 * A storage buffer holding `data` (or `bytes` zero bytes).
 *
 * @param gpu The runtime.
 * @param data Contents, or a byte count for a zeroed buffer.
 * @returns The buffer.
 */
export function upload(
  gpu: MhcGpu,
  data: Float32Array | Uint32Array | Int32Array | number,
): GPUBuffer {
  const bytes = typeof data === "number" ? data : data.byteLength;
  const b = gpu.device.createBuffer({
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: USAGE,
    mappedAtCreation: true,
  });
  if (typeof data !== "number") {
    new Uint8Array(b.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }
  b.unmap();
  return b;
}

/**
 * Records work with `record`, submits it inside validation and out-of-memory
 * error scopes, and reads back `reads` as `Float32Array`s.
 *
 * @param gpu The runtime.
 * @param record Records into the encoder.
 * @param reads Buffers to read, with their float counts.
 * @returns The values read, in order.
 */
export async function runAndRead(
  gpu: MhcGpu,
  record: (encoder: GPUCommandEncoder) => Promise<void> | void,
  reads: [GPUBuffer, number][],
): Promise<Float32Array[]> {
  const device = gpu.device;
  return await withErrorScopes(device, async () => {
    const encoder = device.createCommandEncoder();
    await record(encoder);
    const staging = reads.map(([buf, floats]) => {
      const s = device.createBuffer({
        size: Math.max(16, Math.ceil(floats / 4) * 16),
        usage: 0x01 | 0x08, // MAP_READ | COPY_DST
      });
      encoder.copyBufferToBuffer(buf, 0, s, 0, floats * 4);
      return s;
    });
    device.queue.submit([encoder.finish()]);
    const out: Float32Array[] = [];
    for (let i = 0; i < staging.length; i++) {
      await staging[i].mapAsync(0x01);
      out.push(
        new Float32Array(staging[i].getMappedRange().slice(0, reads[i][1] * 4)),
      );
      staging[i].destroy();
    }
    return out;
  });
}
