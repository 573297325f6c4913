// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Stream expansion and reduction (SPEC §5) on WebGPU, each the other's
 * backward, and elementwise sums of flat buffers. CPU twins:
 * `expandStreams`, `reduceStreams` and their backwards in
 * `src/reference/streams.ts`. Kernel: `wgsl/train/streams.wgsl`.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { streamsWgsl } from "../kernels/streams.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/** Sizes of the stream ops: `n` streams of width `C` for each of `T` tokens. */
export interface StreamSizes {
  /** Streams per token. */
  n: number;
  /** Width. */
  C: number;
  /** Tokens. */
  T: number;
}

function checkStreams(op: string, s: StreamSizes): void {
  checkSize(op, "n", s.n);
  checkSize(op, "C", s.C);
  checkSize(op, "T", s.T);
}

/** Copies `[T, C]` into every stream of `[T, n, C]`. */
async function expand(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  op: string,
  out: Binding,
  x: Binding,
  s: StreamSizes,
): Promise<void> {
  checkStreams(op, s);
  const count = s.T * s.n * s.C;
  checkBinding(op, "the output", out, count);
  checkBinding(op, "the input", x, s.T * s.C);
  await dispatch(gpu, encoder, {
    label: `train ${op}`,
    code: streamsWgsl,
    key: "streams|expand",
    entryPoint: "expand",
    params: [count, s.n, s.C],
    buffers: [out, x],
    workgroups: Math.ceil(count / 256),
  });
}

/** Sums `[T, n, C]` over the streams into `[T, C]`. */
async function reduce(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  op: string,
  out: Binding,
  x: Binding,
  s: StreamSizes,
): Promise<void> {
  checkStreams(op, s);
  const count = s.T * s.C;
  checkBinding(op, "the output", out, count);
  checkBinding(op, "the input", x, s.T * s.n * s.C);
  await dispatch(gpu, encoder, {
    label: `train ${op}`,
    code: streamsWgsl,
    key: "streams|reduce",
    entryPoint: "reduce",
    params: [count, s.n, s.C],
    buffers: [out, x],
    workgroups: Math.ceil(count / 256),
  });
}

/**
 * Records `out[t, i] = x[t]` for every stream `i` (the model's input
 * expansion).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` `[T, n, C]` (overwritten), `x` `[T, C]`.
 * @param s Sizes `n`, `C`, `T`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export function encodeExpandStreams(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; x: Binding },
  s: StreamSizes,
): Promise<void> {
  return expand(gpu, encoder, "expand streams", b.out, b.x, s);
}

/**
 * Records the backward of {@linkcode encodeExpandStreams}:
 * `dx[t, c] = Σ_i dout[t, i, c]` (streams in increasing order).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dx` `[T, C]` (overwritten), `dout` `[T, n, C]`.
 * @param s Sizes `n`, `C`, `T`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export function encodeExpandStreamsBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { dx: Binding; dout: Binding },
  s: StreamSizes,
): Promise<void> {
  return reduce(gpu, encoder, "expand streams backward", b.dx, b.dout, s);
}

/**
 * Records `out[t, c] = Σ_i x[t, i, c]` (streams in increasing order; the
 * model's output reduction).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` `[T, C]` (overwritten), `x` `[T, n, C]`.
 * @param s Sizes `n`, `C`, `T`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export function encodeReduceStreams(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; x: Binding },
  s: StreamSizes,
): Promise<void> {
  return reduce(gpu, encoder, "reduce streams", b.out, b.x, s);
}

/**
 * Records the backward of {@linkcode encodeReduceStreams}:
 * `dx[t, i] = dout[t]` for every stream `i`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dx` `[T, n, C]` (overwritten), `dout` `[T, C]`.
 * @param s Sizes `n`, `C`, `T`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export function encodeReduceStreamsBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { dx: Binding; dout: Binding },
  s: StreamSizes,
): Promise<void> {
  return expand(gpu, encoder, "reduce streams backward", b.dx, b.dout, s);
}

/**
 * Records `out = a + b` elementwise over `N` floats.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` (overwritten; must not be the same buffer as `a` or `b`),
 * `a`, `b`.
 * @param s Sizes: `N` elements.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeAdd(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; a: Binding; b: Binding },
  s: { N: number },
): Promise<void> {
  const op = "add";
  checkSize(op, "N", s.N);
  for (const k of ["out", "a", "b"] as const) checkBinding(op, k, b[k], s.N);
  await dispatch(gpu, encoder, {
    label: "train add",
    code: streamsWgsl,
    key: "streams|add",
    entryPoint: "add",
    params: [s.N, 1, 1],
    buffers: [b.out, b.a, b.b],
    workgroups: Math.ceil(s.N / 256),
  });
}

/**
 * Records `out += a` elementwise over `N` floats.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` (added to; must not be the same buffer as `a`), `a`.
 * @param s Sizes: `N` elements.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeAddInto(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; a: Binding },
  s: { N: number },
): Promise<void> {
  const op = "add into";
  checkSize(op, "N", s.N);
  checkBinding(op, "out", b.out, s.N);
  checkBinding(op, "a", b.a, s.N);
  await dispatch(gpu, encoder, {
    label: "train add into",
    code: streamsWgsl,
    key: "streams|add_into",
    entryPoint: "add_into",
    params: [s.N, 1, 1],
    buffers: [b.out, b.a],
    workgroups: Math.ceil(s.N / 256),
  });
}
