// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Softmax cross-entropy over the vocabulary, forward and backward.
 *
 * @module
 */

import type { FloatArray } from "../../../mod.ts";

/**
 * Turns logits into probabilities (in `probs`) and returns the mean loss
 * `−log p[target]` in nats, or `NaN` without targets.
 *
 * @param probs Probabilities `[N, V]` (overwritten).
 * @param logits Logits `[N, V]`.
 * @param targets Target ids `[N]`, or `null`.
 * @param N Rows.
 * @param V Vocabulary size.
 * @returns The mean loss over the `N` rows.
 */
export function crossEntropyForward(
  probs: FloatArray,
  logits: FloatArray,
  targets: ArrayLike<number> | null,
  N: number,
  V: number,
): number {
  let total = 0;
  for (let t = 0; t < N; t++) {
    const row = t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[row + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[row + v] - max);
      probs[row + v] = e;
      sum += e;
    }
    for (let v = 0; v < V; v++) probs[row + v] /= sum;
    if (targets) {
      // log p computed from the logits, exact even when p underflows.
      total += Math.log(sum) + max - logits[row + targets[t]];
    }
  }
  return targets ? total / N : NaN;
}

/**
 * Backward of the mean loss: `dlogits = (probs − onehot(target)) / N`.
 *
 * @param dlogits Gradient of the logits `[N, V]` (overwritten).
 * @param probs Probabilities from the forward.
 * @param targets Target ids `[N]`.
 * @param N Rows.
 * @param V Vocabulary size.
 */
export function crossEntropyBackward(
  dlogits: FloatArray,
  probs: FloatArray,
  targets: ArrayLike<number>,
  N: number,
  V: number,
): void {
  const s = 1 / N;
  for (let t = 0; t < N; t++) {
    const row = t * V;
    for (let v = 0; v < V; v++) dlogits[row + v] = probs[row + v] * s;
    dlogits[row + targets[t]] -= s;
  }
}
