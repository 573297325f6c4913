// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * WebGPU dense layer without bias (`wgsl/train/matmul.wgsl`), the twin of
 * `src/train/ops/matmul.ts`: `out = inp · Wᵀ` with `inp [N, C]`,
 * `W [OC, C]`, `out [N, OC]`, and its backward `dinp = dout · W`,
 * `dW = doutᵀ · inp` in one dispatch. Deterministic (no atomics).
 *
 * Kernels read 16 bytes at a time when `C` and `OC` are multiples of 4, and
 * one float at a time otherwise (a second specialisation of the same source).
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { matmulWgsl } from "../kernels/matmul.ts";
import { checkBinding, checkSizes } from "./_check.ts";
import { scalarVariant } from "./_specialize.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/** Invocations per workgroup (`WG` in the kernel). */
const WG = 8;
/** Output rows and columns per invocation (`TB` in the kernel). */
const TB = 16;

/** Buffers of {@linkcode encodeMatmulForward}. */
export interface MatmulForwardBuffers {
  /** Output `[N, OC]` (overwritten). */
  out: Binding;
  /** Input `[N, C]`. */
  inp: Binding;
  /** Weight `[OC, C]`. */
  w: Binding;
}

/** Sizes of {@linkcode encodeMatmulForward}. */
export interface MatmulSizes {
  /** Rows (tokens). */
  N: number;
  /** Input width. */
  C: number;
  /** Output width. */
  OC: number;
}

/** Buffers of {@linkcode encodeMatmulBackward}. */
export interface MatmulBackwardBuffers {
  /** Gradient of the input `[N, C]` (written, or added to). */
  dinp: Binding;
  /** Gradient of the weight `[OC, C]` (written, or added to). */
  dw: Binding;
  /** Gradient of the output `[N, OC]`. */
  dout: Binding;
  /** Input `[N, C]` given to the forward. */
  inp: Binding;
  /** Weight `[OC, C]`. */
  w: Binding;
}

/** Sizes of {@linkcode encodeMatmulBackward}. */
export interface MatmulBackwardSizes extends MatmulSizes {
  /** Add into `dinp` and `dw` instead of overwriting them. Default `false`. */
  accumulate?: boolean;
}

const sources = new Map<boolean, string>();

function kernel(vec4: boolean): { code: string; variant: string } {
  let code = sources.get(vec4);
  if (code === undefined) {
    sources.set(vec4, code = vec4 ? matmulWgsl : scalarVariant(matmulWgsl));
  }
  return { code, variant: vec4 ? "vec4" : "scalar" };
}

/** Output blocks of an `M × N` product. */
function blocks(M: number, N: number): number {
  return Math.ceil(M / TB) * Math.ceil(N / TB);
}

/**
 * Workgroups of the forward, or of the backward (both products), for these
 * sizes: at most `maxComputeWorkgroupsPerDimension` per dimension is not
 * required, larger counts are laid out on a 2D grid.
 *
 * @param s Sizes.
 * @param backward The backward instead of the forward.
 * @returns The workgroup count.
 */
export function matmulWorkgroups(s: MatmulSizes, backward: boolean): number {
  const n = backward ? blocks(s.N, s.C) + blocks(s.OC, s.C) : blocks(s.N, s.OC);
  return Math.ceil(n / WG);
}

/**
 * Records `out = inp · Wᵀ` into `encoder`: `out[t][o] = Σ_c inp[t][c] · W[o][c]`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major).
 * @param s Sizes.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer or a buffer
 * is too small.
 */
export async function encodeMatmulForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: MatmulForwardBuffers,
  s: MatmulSizes,
): Promise<void> {
  const op = "matmul forward";
  checkSizes(op, { N: s.N, C: s.C, OC: s.OC });
  checkBinding(op, "out", b.out, s.N * s.OC);
  checkBinding(op, "inp", b.inp, s.N * s.C);
  checkBinding(op, "w", b.w, s.OC * s.C);
  const { code, variant } = kernel(s.C % 4 === 0 && s.OC % 4 === 0);
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `matmul|forward|${variant}`,
    entryPoint: "forward",
    params: [s.N, s.C, s.OC, 0],
    buffers: [b.out, b.inp, b.w],
    workgroups: matmulWorkgroups(s, false),
  });
}

/**
 * Records the backward of {@linkcode encodeMatmulForward} into `encoder`, in
 * one dispatch: `dinp = dout · W` and `dW = doutᵀ · inp`, written, or added
 * to `dinp` and `dw` with `accumulate: true` (as the CPU twin does).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major); `dinp` and `dw` must not overlap the inputs.
 * @param s Sizes, and whether to accumulate.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer or a buffer
 * is too small.
 */
export async function encodeMatmulBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: MatmulBackwardBuffers,
  s: MatmulBackwardSizes,
): Promise<void> {
  const op = "matmul backward";
  checkSizes(op, { N: s.N, C: s.C, OC: s.OC });
  checkBinding(op, "dinp", b.dinp, s.N * s.C);
  checkBinding(op, "dw", b.dw, s.OC * s.C);
  checkBinding(op, "dout", b.dout, s.N * s.OC);
  checkBinding(op, "inp", b.inp, s.N * s.C);
  checkBinding(op, "w", b.w, s.OC * s.C);
  const { code, variant } = kernel(s.C % 4 === 0 && s.OC % 4 === 0);
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `matmul|backward|${variant}`,
    entryPoint: "backward",
    params: [s.N, s.C, s.OC, s.accumulate ? 1 : 0],
    buffers: [b.dinp, b.dout, b.w, b.dw, b.inp],
    workgroups: matmulWorkgroups(s, true),
  });
}
