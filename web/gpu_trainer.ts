// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The WebGPU trainer, bundled on its own (`dist/gpu_trainer.js`) and loaded
 * by the trainer worker only when the page has a WebGPU adapter.
 *
 * @module
 */

import { deviceFactory } from "../src/train/devices.ts";
import type { GpuFactory } from "./protocol.ts";

/**
 * Creates the WebGPU runtime (no per-op timing: the page shows only whole
 * steps).
 *
 * @returns A factory of WebGPU step devices.
 * @throws {Error} When there is no WebGPU or no adapter (a `GpuError`).
 */
export async function createGpuFactory(): Promise<GpuFactory> {
  const factory = await deviceFactory("webgpu", { timing: false });
  return {
    description: factory.gpu?.adapterName || "an adapter",
    make: (cfg) => factory.make(cfg),
  };
}
