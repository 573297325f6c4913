// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The optimiser step on WebGPU, on ONE flat parameter buffer: the global
 * gradient norm, clipping, and AdamW with decoupled weight decay, as the CPU
 * trainer does it (`src/train/adamw.ts`, `Trainer.trainStep` in
 * `src/train/trainer.ts`): the norm is taken before clipping, the gradient
 * is scaled by `clip/‖g‖` when `clip > 0` and `‖g‖ > clip`, and a step whose
 * gradient is not finite is skipped (parameters and moments untouched).
 *
 * Nothing is read back: the step's numbers land in a small `stats` buffer
 * ({@linkcode STATS_FLOATS} floats, copied out with one
 * `copyBufferToBuffer`), and the per-step hyper-parameters come in through a
 * `hyper` storage buffer that the host fills with {@linkcode hyperWords}
 * and `queue.writeBuffer` (uniform words carry sizes only).
 *
 * Kernels: `wgsl/train/grad_norm_partials.wgsl`,
 * `wgsl/train/grad_norm_finish.wgsl` (with
 * `wgsl/train/grad_norm_combine.wgsl`), `wgsl/train/adamw.wgsl`.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { adamwWgsl } from "../kernels/adamw.ts";
import { gradNormCombineWgsl } from "../kernels/grad_norm_combine.ts";
import { gradNormFinishWgsl } from "../kernels/grad_norm_finish.ts";
import { gradNormPartialsWgsl } from "../kernels/grad_norm_partials.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/** `stats[STAT_LOSS]`: the mean loss of the step (written by `encodeSum`). */
export const STAT_LOSS = 0;
/** `stats[STAT_GRAD_NORM]`: the global gradient norm, before clipping. */
export const STAT_GRAD_NORM = 1;
/** `stats[STAT_CLIP_SCALE]`: the factor applied to the gradient (1: none). */
export const STAT_CLIP_SCALE = 2;
/** `stats[STAT_SKIPPED]`: 1 when the step was skipped, else 0. */
export const STAT_SKIPPED = 3;
/** Floats of the `stats` buffer (contiguous, from index 0). */
/** Index in `stats` of AdamW's step count: updates applied so far. */
export const STAT_ADAM_STEP = 4;
/** Floats of the `stats` buffer. */
export const STATS_FLOATS = 5;

/**
 * Floats of the per-step header of the `hyper` buffer:
 * `[lr, β1, β2, ε, wd, L, 0, clip]`; the bias-correction tables
 * `c1[1..L]`, `c2[1..L]` follow (see {@linkcode hyperWords}).
 */
export const HYPER_FLOATS = 8;

/** Hyper-parameters of the optimiser, for {@linkcode hyperWords}. */
export interface StepHyper {
  /** Learning rate of this step. */
  lr: number;
  /** First-moment decay, in (0, 1). */
  beta1: number;
  /** Second-moment decay, in (0, 1). */
  beta2: number;
  /** Denominator epsilon. */
  eps: number;
  /** Decoupled weight decay (applied where the decay mask says so). */
  weightDecay: number;
  /** Gradient-norm clipping threshold; `0` disables clipping. */
  clip: number;
}

/** Longest bias-correction table. */
const MAX_TABLE = 1 << 16;

/**
 * Length `L` of the bias-correction tables: the first step at which both
 * `β1^t` and `β2^t` are below `2⁻²⁶`, so that `1 − β^t` rounds to 1 in
 * float32 from there on (capped at 65536).
 *
 * @param beta1 First-moment decay.
 * @param beta2 Second-moment decay.
 * @returns `L`.
 */
export function biasTableLength(beta1: number, beta2: number): number {
  const need = (b: number) => Math.ceil((26 * Math.LN2) / -Math.log(b));
  return Math.min(MAX_TABLE, Math.max(need(beta1), need(beta2), 1));
}

/**
 * The whole `hyper` buffer: the per-step header and the bias-correction
 * tables `c1[t] = 1 − β1^t`, `c2[t] = 1 − β2^t` for `t = 1..L`, computed in
 * float64 before rounding. AdamW keeps its step count `t` on the GPU
 * (`stats[STAT_ADAM_STEP]`, not advanced by a skipped step) and looks the
 * corrections up, so steps can be submitted before the previous step's
 * skip flag is known. Write the whole buffer once, then only the first
 * {@linkcode HYPER_FLOATS} floats per step (the learning rate changes).
 *
 * @param h The hyper-parameters.
 * @returns `HYPER_FLOATS + 2L` floats.
 * @throws {RangeError} When a value is not finite or a β is outside (0, 1).
 */
export function hyperWords(h: StepHyper): Float32Array {
  for (
    const k of ["lr", "beta1", "beta2", "eps", "weightDecay", "clip"] as const
  ) {
    if (!Number.isFinite(h[k])) {
      throw new RangeError(
        `Cannot build the AdamW hyper-parameters: ${k} must be finite, got ${
          h[k]
        }`,
      );
    }
  }
  for (const k of ["beta1", "beta2"] as const) {
    if (!(h[k] > 0 && h[k] < 1)) {
      throw new RangeError(
        `Cannot build the AdamW hyper-parameters: ${k} must be in (0, 1), got ${
          h[k]
        }`,
      );
    }
  }
  const L = biasTableLength(h.beta1, h.beta2);
  const out = new Float32Array(HYPER_FLOATS + 2 * L);
  out.set([h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, L, 0, h.clip]);
  for (let t = 1; t <= L; t++) {
    out[HYPER_FLOATS + t - 1] = 1 - Math.pow(h.beta1, t);
    out[HYPER_FLOATS + L + t - 1] = 1 - Math.pow(h.beta2, t);
  }
  return out;
}

/** Floats per decay-mask entry: every tensor starts on such a boundary. */
export const DECAY_BLOCK = 64;

/**
 * The `decay` mask of {@linkcode encodeAdamW}: one `u32` per 64-float block
 * of the flat buffer, 1 where the block's tensor gets weight decay.
 *
 * @param tensors Tensors in the flat buffer (`offset` a multiple of 64).
 * @param floats Floats of the flat buffer.
 * @returns `⌈floats/64⌉` words; blocks outside every tensor get 0.
 * @throws {RangeError} When a tensor is misaligned or out of the buffer.
 */
export function decayMask(
  tensors: readonly { offset: number; size: number; decay: boolean }[],
  floats: number,
): Uint32Array {
  const mask = new Uint32Array(Math.ceil(floats / DECAY_BLOCK));
  for (const t of tensors) {
    if (t.offset % DECAY_BLOCK !== 0 || t.offset + t.size > floats) {
      throw new RangeError(
        `Cannot build the decay mask: a tensor at ${t.offset} (${t.size} floats) must start at a multiple of ${DECAY_BLOCK} and end within ${floats}`,
      );
    }
    if (!t.decay) continue;
    const end = Math.ceil((t.offset + t.size) / DECAY_BLOCK);
    mask.fill(1, t.offset / DECAY_BLOCK, end);
  }
  return mask;
}

const NORM_MIN_CHUNK = 4096;
const NORM_MAX_PARTS = 1024;

/** Workgroups of the norm's first pass: a function of `N` only. */
function normParts(N: number): number {
  return Math.min(NORM_MAX_PARTS, Math.max(1, Math.ceil(N / NORM_MIN_CHUNK)));
}

/**
 * Bytes of the scratch buffer `partials` of {@linkcode encodeGradNorm}.
 *
 * @param N Floats of the gradient.
 * @returns 16 bytes per partial sum (at most 16 KiB).
 */
export function gradNormPartialsBytes(N: number): number {
  return 16 * normParts(N);
}

/**
 * Records the global gradient norm `‖g‖ = sqrt(Σ g²)` in two passes with a
 * fixed summation order (deterministic), overflow-free for any finite
 * gradient, and writes into `stats`:
 * - `stats[STAT_GRAD_NORM]`: `‖g‖`; NaN if a gradient is NaN, else +Inf if
 *   one is ±Inf (non-finite values are told apart by their bits);
 * - `stats[STAT_CLIP_SCALE]`: `clip/‖g‖` when `clip = hyper[7] > 0` and
 *   `‖g‖ > clip`, else 1 (also 1 for a skipped step);
 * - `stats[STAT_SKIPPED]`: 1 if any gradient is not finite, else 0;
 * - `stats[STAT_ADAM_STEP]`: advanced by one unless the step is skipped.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `stats` ({@linkcode STATS_FLOATS} floats; `STAT_LOSS` is left
 * alone), `grads` `[N]`, `partials` (scratch of
 * {@linkcode gradNormPartialsBytes} bytes), `hyper` (the step's
 * {@linkcode hyperWords}, for the clip threshold).
 * @param s Sizes: `N` floats.
 * @returns When the passes are recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeGradNorm(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { stats: Binding; grads: Binding; partials: Binding; hyper: Binding },
  s: { N: number },
): Promise<void> {
  const op = "gradient norm";
  checkSize(op, "N", s.N);
  const parts = normParts(s.N);
  checkBinding(op, "stats", b.stats, STATS_FLOATS);
  checkBinding(op, "grads", b.grads, s.N);
  checkBinding(op, "partials", b.partials, 4 * parts);
  checkBinding(op, "hyper", b.hyper, HYPER_FLOATS);
  await dispatch(gpu, encoder, {
    label: "train grad norm partials",
    code: gradNormPartialsWgsl + "\n" + gradNormCombineWgsl,
    key: "grad_norm_partials",
    params: [s.N, Math.ceil(s.N / parts)],
    buffers: [b.partials, b.grads],
    workgroups: parts,
  });
  await dispatch(gpu, encoder, {
    label: "train grad norm finish",
    code: gradNormFinishWgsl + "\n" + gradNormCombineWgsl,
    key: "grad_norm_finish",
    params: [parts],
    buffers: [b.stats, b.partials, b.hyper],
    workgroups: 1,
  });
}

/**
 * Records one AdamW update of the flat buffer, `g = grads·stats[2]`,
 * `m = β1·m + (1 − β1)·g`, `v = β2·v + (1 − β2)·g²`,
 * `p −= lr·((m/c1)/(sqrt(v/c2) + ε) + wd·p)` with `wd` only on blocks whose
 * `decay` word is non-zero and `c1`, `c2` looked up in `hyper` at
 * `t = stats[STAT_ADAM_STEP]`; nothing is written when `stats[3] ≠ 0` (the
 * step is skipped). Run {@linkcode encodeGradNorm} first.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `params`, `m`, `v` `[N]` (updated), `grads` `[N]`, `decay`
 * (`⌈N/64⌉` u32, see {@linkcode decayMask}), `stats`, `hyper`.
 * @param s `N` floats, and the two β the `hyper` tables were built with.
 * @returns When the pass is recorded.
 * @throws {RangeError} When `N` is not a positive integer or a binding is
 * too small.
 */
export async function encodeAdamW(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: {
    params: Binding;
    grads: Binding;
    m: Binding;
    v: Binding;
    decay: Binding;
    stats: Binding;
    hyper: Binding;
  },
  s: { N: number; beta1: number; beta2: number },
): Promise<void> {
  const op = "AdamW";
  checkSize(op, "N", s.N);
  for (const k of ["params", "grads", "m", "v"] as const) {
    checkBinding(op, k, b[k], s.N);
  }
  checkBinding(op, "decay", b.decay, Math.ceil(s.N / DECAY_BLOCK));
  checkBinding(op, "stats", b.stats, STATS_FLOATS);
  const L = biasTableLength(s.beta1, s.beta2);
  checkBinding(op, "hyper", b.hyper, HYPER_FLOATS + 2 * L);
  await dispatch(gpu, encoder, {
    label: "train adamw",
    code: adamwWgsl,
    key: "adamw",
    params: [s.N, L],
    buffers: [b.params, b.m, b.v, b.grads, b.decay, b.stats, b.hyper],
    workgroups: Math.ceil(s.N / 256),
  });
}
