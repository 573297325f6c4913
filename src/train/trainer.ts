// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * One training run in memory: data order, learning-rate schedule, a step
 * and an evaluation with the stability metrics, on a CPU or WebGPU
 * {@linkcode StepDevice}.
 *
 * @module
 */

import { learningRate } from "./adamw.ts";
import type { TrainConfig } from "./config.ts";
import { BatchSampler, type Dataset, validationOffsets } from "./data.ts";
import type { DeviceKind, StepDevice } from "./device.ts";
import { mixingMetrics, type StabilityMetrics } from "./metrics.ts";

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
  /** True when the gradient was not finite and the update was skipped. */
  skipped?: boolean;
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

/**
 * A training run in memory: configuration, data order, the learning-rate
 * schedule and a {@linkcode StepDevice} that does the work. It has no I/O;
 * the CLI (`run.ts`) adds logging, checkpoints and reports around it.
 * Portable: no Deno API.
 */
export class Trainer {
  /** Configuration. */
  readonly cfg: TrainConfig;
  /** The data. */
  readonly data: Dataset;
  /** The device that runs the steps. */
  readonly device: StepDevice;
  /** The training-data order. */
  readonly sampler: BatchSampler;
  /** Optimiser steps submitted so far. */
  step = 0;
  readonly #valOffsets: number[];
  #lastDone = 0;

  /**
   * Builds a run on `device` (whose model is initialised from the seed).
   *
   * @param cfg Configuration.
   * @param data Train and validation bytes.
   * @param device The device, built for `cfg`.
   */
  constructor(cfg: TrainConfig, data: Dataset, device: StepDevice) {
    this.cfg = cfg;
    this.data = data;
    this.device = device;
    this.sampler = new BatchSampler(data.train, cfg.seed);
    this.#valOffsets = validationOffsets(
      data.val,
      cfg.evalBatches * cfg.batch,
      cfg.context,
    );
  }

  /** @returns Where the steps run. */
  get deviceKind(): DeviceKind {
    return this.device.kind;
  }

  /** @returns Tokens per optimiser step. */
  get tokensPerStep(): number {
    return this.cfg.batch * this.cfg.context;
  }

  /**
   * Starts one optimiser step on the next training batch. On WebGPU the
   * step is submitted before this returns, so a caller may start the next
   * step before awaiting this one (the numbers of step k are read back while
   * step k + 1 runs).
   *
   * @returns What the step logs, once its numbers are known.
   */
  trainStep(): Promise<StepRecord> {
    const { batch: B, context: T } = this.cfg;
    const BT = B * T;
    const inputs = new Uint8Array(BT), targets = new Uint8Array(BT);
    this.sampler.next(inputs, targets, B, T);
    const lr = learningRate(
      {
        lr: this.cfg.lr,
        warmup: this.cfg.warmup,
        steps: this.cfg.scheduleSteps ?? this.cfg.steps,
        minRatio: this.cfg.minLrRatio,
      },
      this.step,
    );
    const step = ++this.step;
    const started = performance.now();
    return this.device.step(inputs, targets, { lr, clip: this.cfg.gradClip })
      .then((r) => {
        // Pipelined steps overlap: a step's time runs from the later of its
        // start and the previous step's end.
        const now = performance.now();
        const ms = now - Math.max(started, this.#lastDone);
        this.#lastDone = now;
        return {
          step,
          loss: r.loss,
          lr,
          gradNorm: r.gradNorm,
          ms,
          tokensPerSec: (BT * 1000) / ms,
          ...(r.skipped ? { skipped: true } : {}),
        };
      });
  }

  /**
   * Measures the validation loss on fixed windows, and the stability
   * metrics on the first validation batch. Await every submitted step first.
   *
   * @returns What the evaluation logs.
   */
  async evaluate(): Promise<EvalRecord> {
    const { batch: B, context: T } = this.cfg;
    const val = this.data.val;
    let total = 0, batches = 0;
    let stability: StabilityMetrics | undefined;
    let spread: number[] | undefined;
    const inputs = new Uint8Array(B * T), targets = new Uint8Array(B * T);
    for (let start = 0; start < this.#valOffsets.length; start += B) {
      const offs = this.#valOffsets.slice(start, start + B);
      offs.forEach((off, b) => {
        inputs.set(val.subarray(off, off + T), b * T);
        targets.set(val.subarray(off + 1, off + T + 1), b * T);
      });
      const first = start === 0 && this.cfg.mode !== "residual";
      const r = await this.device.evaluate(inputs, targets, offs.length, first);
      total += r.loss;
      batches++;
      if (first && r.hRes) {
        const n = this.cfg.streams;
        stability = mixingMetrics(r.hRes, n, offs.length * T);
        spread = r.spread;
      }
    }
    this.#lastDone = performance.now();
    return {
      step: this.step,
      valLoss: total / batches,
      stability,
      streamSpread: spread,
    };
  }
}
