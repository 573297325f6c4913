// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * AdamW with decoupled weight decay on weight matrices only, global-norm
 * gradient clipping, and a linear warm-up followed by a cosine decay of the
 * learning rate.
 *
 * @module
 */

import type { FloatArray } from "../../mod.ts";
import type { TensorSpec } from "./model.ts";

/** Hyper-parameters of {@linkcode AdamW}. */
export interface AdamWOptions {
  /** First-moment decay. Default 0.9. */
  beta1?: number;
  /** Second-moment decay. Default 0.95. */
  beta2?: number;
  /** Denominator epsilon. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay on tensors with `decay: true`. Default 0.1. */
  weightDecay?: number;
}

/** The AdamW hyper-parameters both trainers use unless told otherwise. */
export const ADAMW_DEFAULTS: Readonly<
  { beta1: number; beta2: number; eps: number; weightDecay: number }
> = Object.freeze({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });

/** AdamW state: the two moments and the step count. */
export class AdamW<A extends FloatArray> {
  /** First moments, same layout as the parameters. */
  readonly m: A;
  /** Second moments, same layout as the parameters. */
  readonly v: A;
  /** Updates done so far. */
  t = 0;
  readonly #layout: TensorSpec[];
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;
  readonly #wd: number;

  /**
   * @param layout Tensor layout (which tensors get weight decay).
   * @param alloc Allocates a zeroed array of the parameters' type.
   * @param size Total number of parameters.
   * @param options Hyper-parameters.
   */
  constructor(
    layout: TensorSpec[],
    alloc: (n: number) => A,
    size: number,
    options: AdamWOptions = {},
  ) {
    this.#layout = layout;
    this.m = alloc(size);
    this.v = alloc(size);
    this.#b1 = options.beta1 ?? ADAMW_DEFAULTS.beta1;
    this.#b2 = options.beta2 ?? ADAMW_DEFAULTS.beta2;
    this.#eps = options.eps ?? ADAMW_DEFAULTS.eps;
    this.#wd = options.weightDecay ?? ADAMW_DEFAULTS.weightDecay;
  }

  /**
   * Applies one update. The gradient is multiplied by `gradScale` first
   * (for clipping).
   *
   * @param params Parameters (updated in place).
   * @param grads Gradients.
   * @param lr Learning rate of this step.
   * @param gradScale Factor applied to the gradients.
   */
  step(params: A, grads: A, lr: number, gradScale = 1): void {
    this.t++;
    const b1 = this.#b1, b2 = this.#b2, eps = this.#eps;
    const c1 = 1 - Math.pow(b1, this.t), c2 = 1 - Math.pow(b2, this.t);
    const m = this.m, v = this.v;
    for (const spec of this.#layout) {
      const wd = spec.decay ? this.#wd : 0;
      const end = spec.offset + spec.size;
      for (let i = spec.offset; i < end; i++) {
        const g = grads[i] * gradScale;
        const mi = b1 * m[i] + (1 - b1) * g;
        const vi = b2 * v[i] + (1 - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        const p = params[i];
        params[i] = p - lr * ((mi / c1) / (Math.sqrt(vi / c2) + eps) + wd * p);
      }
    }
  }
}

/**
 * @param grads Gradients.
 * @returns Their global L2 norm.
 */
export function gradNorm(grads: FloatArray): number {
  let s = 0;
  for (let i = 0; i < grads.length; i++) s += grads[i] * grads[i];
  return Math.sqrt(s);
}

/** A learning-rate schedule: warm-up then cosine decay. */
export interface Schedule {
  /** Peak learning rate. */
  lr: number;
  /** Warm-up steps. */
  warmup: number;
  /** Total steps. */
  steps: number;
  /** Final learning rate as a fraction of the peak. */
  minRatio: number;
}

/**
 * @param s The schedule.
 * @param step Zero-based step index.
 * @returns The learning rate of that step: linear warm-up to `lr` over
 * `warmup` steps, then cosine decay to `lr·minRatio` at the last step.
 */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const span = Math.max(1, s.steps - 1 - s.warmup);
  const frac = Math.min(1, (step - s.warmup) / span);
  const min = s.lr * s.minRatio;
  return min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * frac));
}
