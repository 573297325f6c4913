// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: one shared WebGPU device for the test run.
 *
 * - With `MHC_REQUIRE_GPU=1` (set by CI) a missing adapter is an error: every
 *   GPU test fails with a message saying so.
 * - Otherwise GPU tests are skipped with one clear message.
 *
 * @module
 */

/** True when the run requires a WebGPU adapter (CI). */
export const GPU_REQUIRED: boolean = Deno.env.get("MHC_REQUIRE_GPU") === "1";

let devicePromise: Promise<GPUDevice | null> | undefined;

async function acquire(): Promise<GPUDevice | null> {
  const adapter = typeof navigator !== "undefined" && navigator.gpu
    ? await navigator.gpu.requestAdapter()
    : null;
  if (!adapter) {
    if (GPU_REQUIRED) return null;
    console.warn(
      "WebGPU: no adapter found; GPU tests are skipped. Install a Vulkan driver " +
        "(e.g. Debian's mesa-vulkan-drivers) or set MHC_REQUIRE_GPU=1 to make this an error.",
    );
    return null;
  }
  const want: GPUFeatureName[] = ["shader-f16", "timestamp-query"];
  const requiredFeatures = want.filter((f) => adapter.features.has(f));
  // Ask for the adapter's own maxima of the limits the kernels use (the
  // defaults allow only 8 storage buffers per stage, for example).
  const names = [
    "maxStorageBuffersPerShaderStage",
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxComputeWorkgroupsPerDimension",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const name of names) requiredLimits[name] = adapter.limits[name];
  return await adapter.requestDevice({ requiredFeatures, requiredLimits });
}

/** Returns the shared test device, or `null` when GPU tests are skipped. */
export function testDevice(): Promise<GPUDevice | null> {
  devicePromise ??= acquire();
  return devicePromise;
}

/**
 * True when GPU tests should be registered as ignored: no adapter and the run
 * does not require one. Evaluated once, at module load of a test file.
 */
export const SKIP_GPU: boolean = (await testDevice()) === null && !GPU_REQUIRED;

/** Returns the device, or throws when the run requires a GPU and has none. */
export async function requireDevice(): Promise<GPUDevice> {
  const d = await testDevice();
  if (!d) {
    throw new Error(
      "WebGPU adapter required (MHC_REQUIRE_GPU=1) but navigator.gpu.requestAdapter() returned none",
    );
  }
  return d;
}

export { withErrorScopes } from "./_error_scopes.ts";
