// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: runs GPU work inside validation and out-of-memory error
 * scopes. It calls no Deno API, so the browser conformance page
 * (tests/browser/) uses it too; tests/_gpu.ts re-exports it.
 *
 * @module
 */

/**
 * Runs `fn` inside validation and out-of-memory error scopes, and throws if
 * either scope caught an error, so that a failed dispatch can never pass.
 *
 * @param device The device the work runs on.
 * @param fn The work.
 * @returns What `fn` returns.
 */
export async function withErrorScopes<T>(
  device: GPUDevice,
  fn: () => T | Promise<T>,
): Promise<T> {
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  let result: T | undefined, thrown: unknown, failed = false;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
    failed = true;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  // A GPU error explains a failure better than what it caused downstream.
  if (validation) {
    throw new Error(`WebGPU validation error: ${validation.message}`);
  }
  if (oom) throw new Error(`WebGPU out-of-memory error: ${oom.message}`);
  if (failed) throw thrown;
  return result as T;
}
