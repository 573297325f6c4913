// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Causal multi-head self-attention on WebGPU, forward and backward; the CPU
 * twin is `src/train/ops/attention.ts`. Kernels:
 * `wgsl/train/attention_forward.wgsl` (one invocation per sequence, head
 * and position), `wgsl/train/attention_backward.wgsl` (the score gradients,
 * same grid) and `wgsl/train/attention_inputs.wgsl` (one invocation per
 * element of `dqkv`, sums in a fixed order: deterministic, no atomics).
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { attentionForwardWgsl } from "../kernels/attention_forward.ts";
import { attentionBackwardWgsl } from "../kernels/attention_backward.ts";
import { attentionInputsWgsl } from "../kernels/attention_inputs.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { type Binding, dispatch, f32Word } from "./dispatch.ts";

/** Sizes of an attention call. */
export interface AttentionSizes {
  /** Sequences. */
  B: number;
  /** Sequence length. */
  T: number;
  /** Width (`H` heads of `C/H` channels). */
  C: number;
  /** Heads; must divide `C`. */
  H: number;
}

function check(op: string, s: AttentionSizes): number[] {
  for (const k of ["B", "T", "C", "H"] as const) checkSize(op, k, s[k]);
  if (s.C % s.H !== 0) {
    throw new RangeError(
      `Cannot encode ${op}: H (${s.H}) must divide C (${s.C})`,
    );
  }
  return [s.B, s.T, s.C, s.H, f32Word(1 / Math.sqrt(s.C / s.H))];
}

/**
 * Records `out = softmax(q·kᵀ/√hs, causal)·v` per sequence and head, and the
 * probabilities `att` (zero above the diagonal).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` `[B·T, C]` and `att` `[B, H, T, T]` (overwritten), `qkv`
 * `[B·T, 3C]`.
 * @param s Sizes.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is invalid or a binding too small.
 */
export async function encodeAttentionForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; att: Binding; qkv: Binding },
  s: AttentionSizes,
): Promise<void> {
  const op = "attention forward";
  const params = check(op, s);
  const { B, T, C, H } = s;
  checkBinding(op, "out", b.out, B * T * C);
  checkBinding(op, "att", b.att, B * H * T * T);
  checkBinding(op, "qkv", b.qkv, B * T * 3 * C);
  await dispatch(gpu, encoder, {
    label: "train attention forward",
    code: attentionForwardWgsl,
    key: "attention|forward",
    params,
    buffers: [b.qkv, b.att, b.out],
    workgroups: Math.ceil(B * H * T / 64),
  });
}

/**
 * Records the backward of {@linkcode encodeAttentionForward}: `dqkv` is
 * overwritten (the CPU twin adds into a zeroed buffer: the same).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dqkv` `[B·T, 3C]` (overwritten), `datt` (scratch,
 * `[B, H, T, T]`), `dout` `[B·T, C]`, and the forward's `qkv` and `att`.
 * @param s Sizes.
 * @returns When the passes are recorded.
 * @throws {RangeError} When a size is invalid or a binding too small.
 */
export async function encodeAttentionBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: {
    dqkv: Binding;
    datt: Binding;
    dout: Binding;
    qkv: Binding;
    att: Binding;
  },
  s: AttentionSizes,
): Promise<void> {
  const op = "attention backward";
  const params = check(op, s);
  const { B, T, C, H } = s;
  checkBinding(op, "dqkv", b.dqkv, B * T * 3 * C);
  checkBinding(op, "datt", b.datt, B * H * T * T);
  checkBinding(op, "dout", b.dout, B * T * C);
  checkBinding(op, "qkv", b.qkv, B * T * 3 * C);
  checkBinding(op, "att", b.att, B * H * T * T);
  await dispatch(gpu, encoder, {
    label: "train attention backward scores",
    code: attentionBackwardWgsl,
    key: "attention|scores",
    entryPoint: "attention_scores",
    params,
    buffers: [b.qkv, b.att, b.dout, b.datt],
    workgroups: Math.ceil(B * H * T / 64),
  });
  await dispatch(gpu, encoder, {
    label: "train attention backward inputs",
    code: attentionInputsWgsl,
    key: "attention|inputs",
    params: params.slice(0, 4),
    buffers: [b.qkv, b.att, b.dout, b.datt, b.dqkv],
    workgroups: Math.ceil(B * T * 3 * C / 64),
  });
}
