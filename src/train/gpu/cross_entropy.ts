// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Softmax cross-entropy on WebGPU (forward and backward fused, one kernel
 * per row), the plain softmax for sampling, and a deterministic scaled sum
 * (the mean loss). The CPU twin is `src/train/ops/cross_entropy.ts`.
 * Kernels: `wgsl/train/cross_entropy.wgsl`, `wgsl/train/softmax.wgsl`,
 * `wgsl/train/sum.wgsl`.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";

import { crossEntropyWgsl } from "../kernels/cross_entropy.ts";
import { softmaxWgsl } from "../kernels/softmax.ts";
import { sumWgsl } from "../kernels/sum.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { scalarVariant } from "./_specialize.ts";
import { type Binding, dispatch, f32Word } from "./dispatch.ts";

/** The cross-entropy kernel with 4-byte loads (`V` not a multiple of 4). */
let crossEntropyScalar: string | undefined;

/**
 * Records, for each of the `N` rows, `losses[row] = logsumexp(logits[row]) −
 * logits[row, target]` (exact even when the target's probability
 * underflows) and `dlogits[row] = (softmax(logits[row]) − onehot(target))/N`,
 * the gradient of the mean loss, one invocation per row (no barrier). The
 * mean itself is
 * {@linkcode encodeSum} over `losses` with `scale = 1/N`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dlogits` `[N, V]` and `losses` `[N]` (overwritten), `logits`
 * `[N, V]`, `targets` `[N]` u32 ids `< V` (larger ids are read as `V − 1`).
 * @param s Sizes: `N` rows, vocabulary `V`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export async function encodeCrossEntropy(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { dlogits: Binding; losses: Binding; logits: Binding; targets: Binding },
  s: { N: number; V: number },
): Promise<void> {
  const op = "cross-entropy";
  checkSize(op, "N", s.N);
  checkSize(op, "V", s.V);
  checkBinding(op, "dlogits", b.dlogits, s.N * s.V);
  checkBinding(op, "losses", b.losses, s.N);
  checkBinding(op, "logits", b.logits, s.N * s.V);
  checkBinding(op, "targets", b.targets, s.N);
  const vec4 = s.V % 4 === 0;
  if (!vec4) crossEntropyScalar ??= scalarVariant(crossEntropyWgsl);
  await dispatch(gpu, encoder, {
    label: "train cross-entropy",
    code: vec4 ? crossEntropyWgsl : crossEntropyScalar!,
    key: `cross_entropy|${vec4 ? "vec4" : "scalar"}`,
    params: [s.N, s.V, f32Word(1 / s.N)],
    buffers: [b.dlogits, b.losses, b.logits, b.targets],
    workgroups: Math.ceil(s.N / 64),
  });
}

/**
 * Records `probs[row] = softmax(logits[row])` for each of the `N` rows.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `probs` `[N, V]` (overwritten), `logits` `[N, V]`.
 * @param s Sizes: `N` rows, vocabulary `V`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export async function encodeSoftmax(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { probs: Binding; logits: Binding },
  s: { N: number; V: number },
): Promise<void> {
  const op = "softmax";
  checkSize(op, "N", s.N);
  checkSize(op, "V", s.V);
  checkBinding(op, "probs", b.probs, s.N * s.V);
  checkBinding(op, "logits", b.logits, s.N * s.V);
  await dispatch(gpu, encoder, {
    label: "train softmax",
    code: softmaxWgsl,
    key: "softmax",
    params: [s.N, s.V],
    buffers: [b.probs, b.logits],
    workgroups: s.N,
  });
}

/**
 * Records `out[index] = scale·Σ_{k < N} values[k]` with one workgroup and a
 * fixed summation order (the same result on every run). Other elements of
 * `out` are left alone. Meant for up to about 10⁵ values (the loss of a
 * batch): one workgroup of 256 threads does all the work.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` (one float written at `index`), `values` `[N]`.
 * @param s `N` values, the `scale` (a size-derived constant such as `1/N`:
 * it is baked into the uniform words, as float32) and the `index` written.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` or `index` is not an integer in range,
 * `scale` is not finite, or a binding is too small.
 */
export async function encodeSum(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; values: Binding },
  s: { N: number; scale: number; index: number },
): Promise<void> {
  const op = "sum";
  checkSize(op, "N", s.N);
  checkSize(op, "index", s.index, 0);
  if (!Number.isFinite(s.scale)) {
    throw new RangeError(
      `Cannot encode ${op}: scale must be finite, got ${s.scale}`,
    );
  }
  checkBinding(op, "out", b.out, s.index + 1);
  checkBinding(op, "values", b.values, s.N);
  await dispatch(gpu, encoder, {
    label: "train sum",
    code: sumWgsl,
    key: "sum",
    params: [s.N, s.index, f32Word(s.scale)],
    buffers: [b.out, b.values],
    workgroups: 1,
  });
}
