// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Chooses and builds the device a run trains on: WebGPU when an adapter is
 * found (`auto`, the default, or `webgpu`), else the CPU trainer with a
 * one-line notice (`auto`), or an error (`webgpu`). Portable: no Deno API.
 *
 * @module
 */

import { GpuError, MhcGpu } from "../../mod.ts";
import type { TrainConfig } from "./config.ts";
import { CPU_DESCRIPTION, CpuDevice } from "./cpu/device.ts";
import type { DeviceChoice, StepDevice } from "./device.ts";
import { gpuDescription, GpuDevice } from "./gpu/device.ts";

/** Options of {@linkcode createStepDevice}. */
export interface StepDeviceOptions {
  /** Recompute the HC/mHC site intermediates in the backward (WebGPU). */
  recompute?: boolean;
  /** Per-op GPU timing with timestamp queries. Default true. */
  timing?: boolean;
  /** Use this runtime instead of creating one (WebGPU). */
  gpu?: MhcGpu;
}

/**
 * A factory that builds devices of one kind for any configuration, sharing
 * one WebGPU runtime (so `--compare` and the overhead measurement create
 * one GPU device, not one per run).
 */
export interface DeviceFactory {
  /** What the runs use. */
  readonly kind: "cpu" | "webgpu";
  /** One line for the user: device and adapter. */
  readonly description: string;
  /** The shared runtime (WebGPU only). */
  readonly gpu?: MhcGpu;
  /** Why `auto` fell back to the CPU, in one line (else undefined). */
  readonly notice?: string;
  /**
   * @param cfg A configuration.
   * @returns A fresh device for it, its model initialised from `cfg.seed`.
   */
  make(cfg: TrainConfig): Promise<StepDevice>;
  /** Frees the shared runtime. */
  destroy(): void;
}

/**
 * Resolves a device choice once: finds the adapter for `auto` and
 * `webgpu`.
 *
 * @param choice `auto`, `webgpu` or `cpu`.
 * @param options Recompute, timing, runtime.
 * @returns The factory.
 * @throws {GpuError} For `webgpu` when WebGPU or an adapter is missing.
 */
export async function deviceFactory(
  choice: DeviceChoice,
  options: StepDeviceOptions = {},
): Promise<DeviceFactory> {
  if (choice !== "cpu") {
    let gpu = options.gpu, notice: string | undefined;
    if (!gpu) {
      try {
        gpu = await MhcGpu.create();
      } catch (e) {
        const missing = e instanceof GpuError &&
          (e.kind === "no-webgpu" || e.kind === "no-adapter");
        if (choice === "webgpu" || !missing) throw e;
        notice = `no WebGPU adapter (${
          (e as Error).message.split(":")[0]
        }); training on the CPU`;
      }
    }
    if (gpu) {
      const shared = gpu;
      return {
        kind: "webgpu",
        description: gpuDescription(shared),
        gpu: shared,
        make: (cfg) =>
          GpuDevice.create(shared, cfg, {
            recompute: options.recompute,
            timing: options.timing,
          }),
        destroy: () => {
          if (!options.gpu) shared.destroy();
        },
      };
    }
    return {
      kind: "cpu",
      description: CPU_DESCRIPTION,
      notice,
      make: (cfg) => Promise.resolve(new CpuDevice(cfg)),
      destroy: () => {},
    };
  }
  return {
    kind: "cpu",
    description: CPU_DESCRIPTION,
    make: (cfg) => Promise.resolve(new CpuDevice(cfg)),
    destroy: () => {},
  };
}
