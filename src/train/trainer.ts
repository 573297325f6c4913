// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * One training run in memory: model, optimiser, data order, a step, and an
 * evaluation with the stability metrics. It has no I/O; the CLI (`run.ts`)
 * adds logging, checkpoints and reports around it.
 *
 * @module
 */

import { AdamW, gradNorm, learningRate } from "./adamw.ts";
import type { TrainConfig } from "./config.ts";
import { BatchSampler, type Dataset, validationOffsets } from "./data.ts";
import {
  mixingMetrics,
  type StabilityMetrics,
  streamSpread,
} from "./metrics.ts";
import { Model } from "./model.ts";
import { Profiler } from "./profiler.ts";
import { Rng } from "./rng.ts";

/** What one optimiser step logs. */
export interface StepRecord {
  /** Step number, from 1. */
  step: number;
  /** Training loss of the step's batch (before the update), nats/byte. */
  loss: number;
  /** Learning rate used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Wall time of the step in milliseconds. */
  ms: number;
  /** Training tokens per second of this step. */
  tokensPerSec: number;
}

/** What one evaluation logs. */
export interface EvalRecord {
  /** Steps done when it ran. */
  step: number;
  /** Mean validation loss, nats/byte. */
  valLoss: number;
  /** Mixing metrics (HC and mHC only). */
  stability?: StabilityMetrics;
  /** Stream spread of every residual state, from the embedding to the last. */
  streamSpread?: number[];
}

/** A training run in memory. */
export class Trainer {
  /** Configuration. */
  readonly cfg: TrainConfig;
  /** The data. */
  readonly data: Dataset;
  /** The model (float32). */
  readonly model: Model<Float32Array>;
  /** The optimiser. */
  readonly opt: AdamW<Float32Array>;
  /** The training-data order. */
  readonly sampler: BatchSampler;
  /** Per-op times. */
  readonly profiler: Profiler;
  /** Optimiser steps done. */
  step = 0;
  readonly #inputs: Uint8Array;
  readonly #targets: Uint8Array;
  readonly #valOffsets: number[];

  /**
   * Builds and initialises a run from its seed.
   *
   * @param cfg Configuration.
   * @param data Train and validation bytes.
   */
  constructor(cfg: TrainConfig, data: Dataset) {
    this.cfg = cfg;
    this.data = data;
    this.profiler = new Profiler();
    this.model = new Model(cfg, cfg.batch, Float32Array, {
      profiler: this.profiler,
    });
    this.model.init(new Rng(cfg.seed, 1));
    this.opt = new AdamW(
      this.model.layout,
      (n) => new Float32Array(n),
      this.model.params.length,
      { weightDecay: cfg.weightDecay },
    );
    this.sampler = new BatchSampler(data.train, cfg.seed);
    const BT = cfg.batch * cfg.context;
    this.#inputs = new Uint8Array(BT);
    this.#targets = new Uint8Array(BT);
    this.#valOffsets = validationOffsets(
      data.val,
      cfg.evalBatches * cfg.batch,
      cfg.context,
    );
  }

  /** @returns Tokens per optimiser step. */
  get tokensPerStep(): number {
    return this.cfg.batch * this.cfg.context;
  }

  /**
   * Runs one optimiser step on the next training batch.
   *
   * @returns What the step logs.
   */
  trainStep(): StepRecord {
    const { batch: B, context: T } = this.cfg;
    const t0 = performance.now();
    this.sampler.next(this.#inputs, this.#targets, B, T);
    const m = this.model;
    m.zeroGrad();
    const loss = m.forward(this.#inputs, this.#targets, B, T);
    m.backward();
    const p0 = this.profiler.start();
    const norm = gradNorm(m.grads);
    const clip = this.cfg.gradClip;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    const lr = learningRate(
      {
        lr: this.cfg.lr,
        warmup: this.cfg.warmup,
        steps: this.cfg.steps,
        minRatio: this.cfg.minLrRatio,
      },
      this.step,
    );
    // A non-finite gradient would poison the moments for good: skip it.
    if (Number.isFinite(norm)) this.opt.step(m.params, m.grads, lr, scale);
    this.profiler.add("adamw", p0);
    this.step++;
    const ms = performance.now() - t0;
    return {
      step: this.step,
      loss,
      lr,
      gradNorm: norm,
      ms,
      tokensPerSec: (B * T * 1000) / ms,
    };
  }

  /**
   * Measures the validation loss on fixed windows, and the stability
   * metrics on the first validation batch.
   *
   * @returns What the evaluation logs.
   */
  evaluate(): EvalRecord {
    return this.model.profilerPaused(() => this.#evaluate());
  }

  #evaluate(): EvalRecord {
    const { batch: B, context: T, width: C, layers: L } = this.cfg;
    const m = this.model, n = m.n, val = this.data.val;
    let total = 0, batches = 0;
    let stability: StabilityMetrics | undefined;
    let spread: number[] | undefined;
    for (let start = 0; start < this.#valOffsets.length; start += B) {
      const offs = this.#valOffsets.slice(start, start + B);
      offs.forEach((off, b) => {
        this.#inputs.set(val.subarray(off, off + T), b * T);
        this.#targets.set(val.subarray(off + 1, off + T + 1), b * T);
      });
      total += m.forward(this.#inputs, this.#targets, offs.length, T);
      batches++;
      if (start === 0 && m.connection.mode !== "residual") {
        const tokens = offs.length * T;
        const hRes = Array.from(
          { length: 2 * L },
          (_, s) => m.connection.mixing(s)!,
        );
        stability = mixingMetrics(hRes, n, tokens);
        spread = Array.from(
          { length: 2 * L + 1 },
          (_, i) => streamSpread(m.streamState(i), n, C, tokens),
        );
      }
    }
    return {
      step: this.step,
      valLoss: total / batches,
      stability,
      streamSpread: spread,
    };
  }
}
