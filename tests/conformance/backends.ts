// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: the backends every case runs on.
 *
 * - `reference`: the TypeScript reference on float32 arrays.
 * - `webgpu`: the kernels with f32 streams.
 * - `webgpu-f16`: the kernels with f16 streams (needs `shader-f16`).
 * - `webgpu-split`: f32 streams on a runtime whose limits are tightened to
 *   64 KiB per storage binding and 8 workgroups per grid dimension, so that
 *   the larger cases are cut into chunks bound at aligned offsets and
 *   dispatched on 2D grids: the paths a huge `T` takes on a real device.
 *   The conformance test records the grids dispatched there and fails a
 *   case that declares a split (`ConformanceCase.split`) but did not run
 *   one.
 *
 * @module
 */

import {
  type MhcBackend,
  MhcGpu,
  type MhcGpuOptions,
  referenceBackend,
  webgpuBackend,
} from "@birkhoff/mhc";
import type { Precision } from "./tolerance.ts";

/** A backend to create lazily inside its test. */
export interface BackendSpec {
  /** Backend name in test names. */
  name: string;
  /** Needs a WebGPU adapter. */
  gpu: boolean;
  /** Needs `shader-f16`. */
  f16: boolean;
  /** The precision its stream outputs have. */
  precision: Precision;
  /** Creates it; the runtime is destroyed with the backend. */
  make(): Promise<MhcBackend>;
}

function onOwnRuntime(
  name: string,
  precision: Precision,
  limits?: MhcGpuOptions["limits"],
): BackendSpec {
  return {
    name,
    gpu: true,
    f16: precision === "f16",
    precision,
    async make() {
      const gpu = await MhcGpu.create({ limits });
      const b = webgpuBackend(gpu, { precision });
      return { ...b, destroy: () => gpu.destroy() };
    },
  };
}

/** The limits of the `webgpu-split` backend. */
export const SPLIT_LIMITS = {
  maxStorageBufferBindingSize: 64 * 1024,
  maxComputeWorkgroupsPerDimension: 8,
} as const;

/** The backends, in test order. */
export const BACKENDS: readonly BackendSpec[] = [
  {
    name: "reference",
    gpu: false,
    f16: false,
    precision: "f32",
    make: () => Promise.resolve(referenceBackend()),
  },
  onOwnRuntime("webgpu", "f32"),
  onOwnRuntime("webgpu-f16", "f16"),
  onOwnRuntime("webgpu-split", "f32", SPLIT_LIMITS),
];
