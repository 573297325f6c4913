// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Floating-point operation counts per training token (forward + backward),
 * to set a measured step-time overhead of HC / mHC next to the overhead the
 * arithmetic alone predicts. Multiply-adds count 2; `exp`, `log`, divisions
 * and square roots count 1. Backward matmuls cost twice their forward.
 *
 * @module
 */

import type { ModelConfig } from "./model.ts";
import { VOCAB } from "./model.ts";

/** FLOPs per training token, split by part. */
export interface FlopCount {
  /** Embedding, blocks' sub-layers, final norm, LM head, loss. */
  dense: number;
  /** Residual bookkeeping: coefficients, Sinkhorn, pre, post, expand/reduce. */
  connection: number;
  /** `dense + connection`. */
  total: number;
}

/**
 * Counts the FLOPs of one training token (forward and backward) of a model.
 *
 * @param cfg Model shape.
 * @returns The counts.
 */
export function flopsPerToken(cfg: ModelConfig): FlopCount {
  const C = cfg.width, L = cfg.layers, T = cfg.context, H = cfg.heads;
  const keys = (T + 1) / 2; // mean number of keys a causal query sees
  const fwdBlock = 2 * 12 * C * C + // qkv, proj, fc, fc-proj
    2 * 2 * C * keys + 4 * H * keys + // scores, weighted sum, softmax
    2 * 4 * C + 10 * 4 * C; // two RMSNorms, GELU
  const fwdDense = L * fwdBlock + 2 * VOCAB * C + 4 * C + 4 * VOCAB;
  const dense = 3 * fwdDense;
  let site: number;
  if (cfg.mode === "residual") {
    site = C + 2 * C; // add forward, two gradient copies
  } else {
    const n = cfg.streams, K = n * n + 2 * n, nC = n * C;
    const coeffFwd = cfg.mode === "mhc"
      ? 2 * nC * K + 2 * nC + 3 * K + 8 * n +
        2 * cfg.sinkhornIters * (3 * n * n + 2 * n) // log-domain normalisations
      : 2 * nC * (n + 2) + 4 * nC + 3 * K; // per-stream norm, θ·x̃, tanh
    const coeffBwd = 3 * coeffFwd; // recompute + reverse
    const preFwd = 2 * nC, postFwd = 2 * n * nC + 2 * nC;
    site = coeffFwd + coeffBwd + 3 * preFwd + 3 * postFwd;
  }
  const n = cfg.mode === "residual" ? 1 : cfg.streams;
  const connection = 2 * L * site + 2 * n * C * 2; // expand + reduce, fwd + bwd
  return { dense, connection, total: dense + connection };
}
