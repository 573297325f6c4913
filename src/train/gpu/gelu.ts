// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * GELU (tanh approximation) on WebGPU, forward and backward; the CPU twin is
 * `src/train/ops/gelu.ts`. Kernel: `wgsl/train/gelu.wgsl`.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { geluWgsl } from "../kernels/gelu.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/**
 * Records `out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` elementwise.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` (overwritten) and `x`, `N` floats each.
 * @param s Sizes: `N` elements.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeGeluForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; x: Binding },
  s: { N: number },
): Promise<void> {
  const op = "GELU forward";
  checkSize(op, "N", s.N);
  checkBinding(op, "out", b.out, s.N);
  checkBinding(op, "x", b.x, s.N);
  await dispatch(gpu, encoder, {
    label: "train gelu forward",
    code: geluWgsl,
    key: "gelu|forward",
    entryPoint: "forward",
    params: [s.N],
    buffers: [b.out, b.x],
    workgroups: Math.ceil(s.N / 256),
  });
}

/**
 * Records `dx = gelu'(x)·dout` elementwise (the backward of
 * {@linkcode encodeGeluForward}).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dx` (overwritten), `x` (the forward's input), `dout`; `N` floats
 * each.
 * @param s Sizes: `N` elements.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeGeluBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { dx: Binding; x: Binding; dout: Binding },
  s: { N: number },
): Promise<void> {
  const op = "GELU backward";
  checkSize(op, "N", s.N);
  for (const k of ["dx", "x", "dout"] as const) checkBinding(op, k, b[k], s.N);
  await dispatch(gpu, encoder, {
    label: "train gelu backward",
    code: geluWgsl,
    key: "gelu|backward",
    entryPoint: "backward",
    params: [s.N],
    buffers: [b.dx, b.x, b.dout],
    workgroups: Math.ceil(s.N / 256),
  });
}
