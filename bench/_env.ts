// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The bench environment: one WebGPU device per process (with
 * `timestamp-query` and `shader-f16` when the adapter has them), a
 * {@linkcode MhcGpu} on it, and the sizes to run, chosen from the adapter
 * and the environment variables below.
 *
 * - `MHC_BENCH_SMOKE=1`: tiny sizes, one repetition (CI keeps the benches
 *   from rotting; no timing is looked at).
 * - `MHC_BENCH_MB`: byte budget of one `[T, n, C]` f32 buffer, in MiB, from
 *   which `T` is derived. Default 48 on a CPU adapter (lavapipe), 1024 on a
 *   GPU.
 * - `MHC_BENCH_REPS`: kernel calls per submit (GPU) or per timed batch.
 *
 * @module
 */

import { MhcGpu } from "../mod.ts";

/** Streams per token in every bench (SPEC §11: the paper's n = 4). */
export const N = 4;
/** Model widths benchmarked. */
export const WIDTHS: readonly number[] = [1280, 2560];
/** Sinkhorn iterations (SPEC §4 default). */
export const ITERATIONS = 20;

/** True under `MHC_BENCH_SMOKE=1`. */
export const SMOKE: boolean = Deno.env.get("MHC_BENCH_SMOKE") === "1";

/** What the report says about the adapter. */
export interface AdapterSummary {
  /** `description / vendor / architecture / device`, as far as known. */
  name: string;
  /** True for a CPU implementation (lavapipe, SwiftShader, …). */
  cpu: boolean;
  /** Adapter features the bench uses that are present. */
  features: string[];
  /** `maxStorageBufferBindingSize` of the adapter. */
  maxBinding: number;
  /** `maxBufferSize` of the adapter. */
  maxBuffer: number;
}

/** The device and runtime every bench shares. */
export interface BenchEnv {
  /** The runtime, on a device that has `timestamp-query` when available. */
  gpu: MhcGpu;
  /** The device (same as `gpu.device`). */
  device: GPUDevice;
  /** Adapter summary for reports. */
  adapter: AdapterSummary;
  /** True when GPU times come from timestamp queries. */
  timestamps: boolean;
}

const LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
] as const;

let envPromise: Promise<BenchEnv> | undefined;

async function open(): Promise<BenchEnv> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new Error("WebGPU is not available (navigator.gpu is undefined)");
  }
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: "high-performance",
  });
  if (!adapter) {
    throw new Error(
      "No WebGPU adapter: install a Vulkan driver (e.g. mesa-vulkan-drivers)",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) requiredLimits[k] = adapter.limits[k];
  const wanted: GPUFeatureName[] = ["timestamp-query", "shader-f16"];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures,
  });
  const info = adapter.info;
  const description = info.description || info.device || "unknown adapter";
  const name = [description, info.vendor && `vendor ${info.vendor}`]
    .concat(info.architecture || []).filter((s) => s).join(" / ");
  const cpu = info.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|warp/i.test(description);
  const gpu = await MhcGpu.create({ device });
  // Free the device before the isolate goes away (deno bench runs each file
  // in its own isolate, each with its own device).
  globalThis.addEventListener("unload", () => gpu.destroy());
  return {
    gpu,
    device,
    adapter: {
      name,
      cpu,
      features: requiredFeatures,
      maxBinding: adapter.limits.maxStorageBufferBindingSize,
      maxBuffer: adapter.limits.maxBufferSize,
    },
    timestamps: requiredFeatures.includes("timestamp-query"),
  };
}

/**
 * The shared bench environment (opened once per process).
 *
 * @returns The environment.
 */
export function benchEnv(): Promise<BenchEnv> {
  envPromise ??= open();
  return envPromise;
}

function envNumber(name: string): number | undefined {
  const v = Deno.env.get(name);
  if (v === undefined || v === "") return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) {
    throw new RangeError(`${name} must be a positive number, got "${v}"`);
  }
  return x;
}

/** Sizes of one run. */
export interface BenchSizes {
  /** Tokens of the stream ops (pre, post, coefficients) at width `C`. */
  tokens(C: number): number;
  /** Tokens of the Sinkhorn benches. */
  sinkhornTokens: number;
  /**
   * Fraction of those tokens that `deno bench` runs: it times the reference
   * on the same work as the kernels, and the reference is slow.
   */
  denoBenchShare: number;
  /** Calls per iteration of `deno bench` (for every backend of a group). */
  denoBenchReps: number;
  /** Kernel calls per submit (per timed sample). */
  reps: number;
  /** Timed samples (the median is reported). */
  samples: number;
  /** Longest submit wanted, in ms (see `TimingPlan.batchMs`). */
  batchMs: number;
}

/**
 * Sizes for this adapter: `T` so that one `[T, n, C]` f32 buffer holds
 * the byte budget (a multiple of 256 tokens, within the adapter's buffer
 * size); tiny sizes under `MHC_BENCH_SMOKE=1`.
 *
 * @param adapter The adapter summary.
 * @returns The sizes.
 */
export function benchSizes(adapter: AdapterSummary): BenchSizes {
  if (SMOKE) {
    return {
      tokens: () => 37,
      sinkhornTokens: 37,
      denoBenchShare: 1,
      denoBenchReps: 1,
      reps: 1,
      samples: 1,
      batchMs: Infinity,
    };
  }
  const mib = envNumber("MHC_BENCH_MB") ?? (adapter.cpu ? 48 : 1024);
  const budget = Math.min(mib * 2 ** 20, adapter.maxBuffer);
  const tokens = (C: number) =>
    Math.max(256, Math.floor(budget / (N * C * 4) / 256) * 256);
  return {
    tokens,
    // Sinkhorn reads and writes only n² values per token: 16× the tokens
    // of the stream ops at C = 1280 keeps one call long enough to time.
    sinkhornTokens: 16 * tokens(1280),
    denoBenchShare: adapter.cpu ? 1 / 4 : 1 / 16,
    denoBenchReps: adapter.cpu ? 2 : 10,
    // On a GPU a call takes about a millisecond: up to 100 calls per
    // submit keep Deno's ~10 ms completion latency out of the wall-clock
    // time should timestamps be unusable.
    reps: envNumber("MHC_BENCH_REPS") ?? (adapter.cpu ? 4 : 100),
    samples: adapter.cpu ? 5 : 9,
    batchMs: adapter.cpu ? 400 : 1000,
  };
}
