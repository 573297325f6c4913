// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * RMSNorm with a learned gain on WebGPU, forward and backward; the CPU twin
 * is `src/train/ops/rmsnorm.ts` (same `ε`). Kernels:
 * `wgsl/train/rmsnorm_forward.wgsl`, `wgsl/train/rmsnorm_backward.wgsl`
 * (input and gain gradients in one launch).
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";

import { rmsnormBackwardWgsl } from "../kernels/rmsnorm_backward.ts";
import { rmsnormForwardWgsl } from "../kernels/rmsnorm_forward.ts";
import { RMSNORM_EPS } from "../ops/rmsnorm.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { scalarVariant } from "./_specialize.ts";
import { type Binding, dispatch, f32Word } from "./dispatch.ts";

/** Rows (one per invocation) of a workgroup of the RMSNorm kernels. */
const WG = 64;

const scalarSources = new Map<string, string>();

/** The kernel's source: 16-byte loads when `C` is a multiple of 4. */
function source(code: string, vec4: boolean): string {
  if (vec4) return code;
  let s = scalarSources.get(code);
  if (s === undefined) {
    s = scalarVariant(code);
    scalarSources.set(code, s);
  }
  return s;
}

/**
 * Records `out = x·r·w` per row with `r = 1/sqrt(mean(x²) + ε)`, and keeps
 * `r` in `rstd` for the backward. One invocation per row, no barrier.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` `[N, C]` and `rstd` `[N]` (overwritten), `x` `[N, C]`, `w`
 * `[C]`.
 * @param s Sizes: `N` rows of width `C`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export async function encodeRmsnormForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; rstd: Binding; x: Binding; w: Binding },
  s: { N: number; C: number },
): Promise<void> {
  const op = "RMSNorm forward";
  checkSize(op, "N", s.N);
  checkSize(op, "C", s.C);
  checkBinding(op, "out", b.out, s.N * s.C);
  checkBinding(op, "rstd", b.rstd, s.N);
  checkBinding(op, "x", b.x, s.N * s.C);
  checkBinding(op, "w", b.w, s.C);
  const vec4 = s.C % 4 === 0;
  await dispatch(gpu, encoder, {
    label: "train rmsnorm forward",
    code: source(rmsnormForwardWgsl, vec4),
    key: `rmsnorm_forward|${vec4 ? "vec4" : "scalar"}`,
    params: [s.N, s.C, f32Word(RMSNORM_EPS)],
    buffers: [b.out, b.rstd, b.x, b.w],
    workgroups: Math.ceil(s.N / WG),
  });
}

/**
 * Records the backward of {@linkcode encodeRmsnormForward}:
 * `dx = r·w·dout − r³·x·mean(w·dout·x)` per row and `dw = Σ_rows dout·x·r`,
 * both reduced in a fixed order (deterministic). One launch: invocations
 * own a row of `dx` or 4 channels of `dw`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dx` `[N, C]`, `dw` `[C]` (overwritten, or added to with
 * `accumulate`), `dout` `[N, C]`, `x` `[N, C]`, `w` `[C]`, `rstd` `[N]` from
 * the forward.
 * @param s Sizes `N`, `C`; `accumulate: true` adds to `dx` and `dw` instead
 * of overwriting them.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export async function encodeRmsnormBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: {
    dx: Binding;
    dw: Binding;
    dout: Binding;
    x: Binding;
    w: Binding;
    rstd: Binding;
  },
  s: { N: number; C: number; accumulate?: boolean },
): Promise<void> {
  const op = "RMSNorm backward";
  checkSize(op, "N", s.N);
  checkSize(op, "C", s.C);
  for (const k of ["dx", "dout", "x"] as const) {
    checkBinding(op, k, b[k], s.N * s.C);
  }
  checkBinding(op, "dw", b.dw, s.C);
  checkBinding(op, "w", b.w, s.C);
  checkBinding(op, "rstd", b.rstd, s.N);
  const acc = s.accumulate ? 1 : 0;
  const vec4 = s.C % 4 === 0;
  const rowGroups = Math.ceil(s.N / WG);
  await dispatch(gpu, encoder, {
    label: "train rmsnorm backward",
    code: source(rmsnormBackwardWgsl, vec4),
    key: `rmsnorm_backward|${vec4 ? "vec4" : "scalar"}`,
    params: [s.N, s.C, acc, rowGroups],
    buffers: [b.dx, b.dw, b.dout, b.x, b.w, b.rstd],
    workgroups: rowGroups + Math.ceil(Math.ceil(s.C / 4) / WG),
  });
}
