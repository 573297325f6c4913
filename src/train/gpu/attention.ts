// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * WebGPU causal multi-head self-attention without the projections
 * (`wgsl/train/attention_forward.wgsl`, `wgsl/train/attention_backward.wgsl`),
 * the twin of `src/train/ops/attention.ts`: `qkv [B·T, 3C]` holds q, k and v
 * side by side, each split into `H` heads of `hs = C / H` channels. One
 * dispatch each way; deterministic (no atomics).
 *
 * The kernels are specialised per head size (registers hold whole heads) and
 * read 16 bytes at a time when `hs` is a multiple of 4, one float at a time
 * otherwise.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { attentionBackwardWgsl } from "../kernels/attention_backward.ts";
import { attentionForwardWgsl } from "../kernels/attention_forward.ts";
import { checkBinding, checkSizes } from "./_check.ts";
import { scalarVariant, setConst } from "./_specialize.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/** Invocations per workgroup of the forward (`WG` in its kernel). */
const FORWARD_WG = 16;
/** (b, h) pairs per workgroup of the backward (`PAIRS` in its kernel). */
const BACKWARD_PAIRS = 8;

/** Sizes of the attention ops. */
export interface AttentionSizes {
  /** Sequences. */
  B: number;
  /** Sequence length. */
  T: number;
  /** Width (a multiple of `H`). */
  C: number;
  /** Heads. */
  H: number;
}

/** Buffers of {@linkcode encodeAttentionForward}. */
export interface AttentionForwardBuffers {
  /** Output `[B·T, C]` (overwritten). */
  out: Binding;
  /** Probabilities `[B, H, T, T]` (overwritten; zero above the diagonal). */
  att: Binding;
  /** Queries, keys and values `[B·T, 3C]`. */
  qkv: Binding;
}

/** Buffers of {@linkcode encodeAttentionBackward}. */
export interface AttentionBackwardBuffers {
  /** Gradient of `qkv`, `[B·T, 3C]` (overwritten). */
  dqkv: Binding;
  /** Scratch of `B·H·T·T` floats (gradient of the scores, left undefined). */
  datt: Binding;
  /** Gradient of the output `[B·T, C]`. */
  dout: Binding;
  /** Queries, keys and values given to the forward. */
  qkv: Binding;
  /** Probabilities written by the forward. */
  att: Binding;
}

const sources = new Map<string, string>();

/** The kernel `code` specialised for head size `hs`, and its variant name. */
function kernel(
  name: string,
  code: string,
  hs: number,
): { code: string; variant: string } {
  const vec4 = hs % 4 === 0;
  const variant = `hs=${hs}|${vec4 ? "vec4" : "scalar"}`;
  const key = `${name}|${variant}`;
  let s = sources.get(key);
  if (s === undefined) {
    s = setConst(code, "HS", `${hs}u`);
    s = setConst(s, "SCALE", String(Math.fround(1 / Math.sqrt(hs))));
    if (!vec4) s = scalarVariant(s);
    sources.set(key, s);
  }
  return { code: s, variant };
}

function check(op: string, s: AttentionSizes): void {
  checkSizes(op, { B: s.B, T: s.T, C: s.C, H: s.H });
  if (s.H < 1 || s.C < 1 || s.C % s.H !== 0) {
    throw new RangeError(
      `${op}: C must be a positive multiple of H, got C = ${s.C}, H = ${s.H}`,
    );
  }
}

/**
 * Workgroups of the forward or the backward for these sizes (counts above
 * `maxComputeWorkgroupsPerDimension` are laid out on a 2D grid).
 *
 * @param s Sizes.
 * @param backward The backward instead of the forward.
 * @returns The workgroup count.
 */
export function attentionWorkgroups(
  s: AttentionSizes,
  backward: boolean,
): number {
  return backward
    ? Math.ceil(s.B * s.H / BACKWARD_PAIRS)
    : Math.ceil(s.B * s.H * Math.ceil(s.T / 4) / FORWARD_WG);
}

/**
 * Records the forward into `encoder`: for each sequence `b`, head `h` and
 * position `t`, `att[b][h][t][t2] = softmax_{t2 ≤ t}(q_t · k_t2 / √hs)`
 * (zero for `t2 > t`) and `out[b·T + t][h·hs + i] = Σ_t2 att · v_t2[i]`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major).
 * @param s Sizes.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer, `C` is not
 * a positive multiple of `H`, or a buffer is too small.
 */
export async function encodeAttentionForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: AttentionForwardBuffers,
  s: AttentionSizes,
): Promise<void> {
  const op = "attention forward";
  check(op, s);
  const { B, T, C, H } = s;
  checkBinding(op, "out", b.out, B * T * C);
  checkBinding(op, "att", b.att, B * H * T * T);
  checkBinding(op, "qkv", b.qkv, B * T * 3 * C);
  const { code, variant } = kernel(
    "attention forward",
    attentionForwardWgsl,
    C / H,
  );
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `attention|forward|${variant}`,
    params: [B, T, C, H],
    buffers: [b.out, b.att, b.qkv],
    workgroups: attentionWorkgroups(s, false),
  });
}

/**
 * Records the backward of {@linkcode encodeAttentionForward} into
 * `encoder`: `dqkv` is overwritten with the gradient of `qkv` (the CPU twin
 * accumulates into a zeroed buffer, which is the same); `datt` is scratch.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major); `dqkv` and `datt` must not overlap the others.
 * @param s Sizes.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer, `C` is not
 * a positive multiple of `H`, or a buffer is too small.
 */
export async function encodeAttentionBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: AttentionBackwardBuffers,
  s: AttentionSizes,
): Promise<void> {
  const op = "attention backward";
  check(op, s);
  const { B, T, C, H } = s;
  checkBinding(op, "dqkv", b.dqkv, B * T * 3 * C);
  checkBinding(op, "datt", b.datt, B * H * T * T);
  checkBinding(op, "dout", b.dout, B * T * C);
  checkBinding(op, "qkv", b.qkv, B * T * 3 * C);
  checkBinding(op, "att", b.att, B * H * T * T);
  const { code, variant } = kernel(
    "attention backward",
    attentionBackwardWgsl,
    C / H,
  );
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `attention|backward|${variant}`,
    params: [B, T, C, H],
    buffers: [b.dqkv, b.datt, b.dout, b.qkv, b.att],
    workgroups: attentionWorkgroups(s, true),
  });
}
