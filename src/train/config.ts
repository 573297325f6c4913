// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The full configuration of a training run and its defaults. The defaults
 * train the default model (mHC, n = 4) on the synthetic corpus in a few
 * minutes on a 2-core laptop.
 *
 * @module
 */

import type { ModelConfig } from "./model.ts";

/** Everything that determines a training run. */
export interface TrainConfig extends ModelConfig {
  /** Windows per step. */
  batch: number;
  /** Optimiser steps. */
  steps: number;
  /**
   * Steps the learning-rate schedule was planned for, when `--resume`
   * changed `steps` (the schedule stays the original run's: past this step
   * the rate holds at its minimum). Absent: `steps`.
   */
  scheduleSteps?: number;
  /** Peak learning rate. */
  lr: number;
  /** Seed of the initialisation, the synthetic corpus and the data order. */
  seed: number;
  /** Warm-up steps. */
  warmup: number;
  /** Final learning rate as a fraction of `lr`. */
  minLrRatio: number;
  /** AdamW weight decay (matrices only). */
  weightDecay: number;
  /** Global gradient-norm clip (0 = none). */
  gradClip: number;
  /** Steps between validation / stability evaluations. */
  evalEvery: number;
  /** Validation batches per evaluation. */
  evalBatches: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Training text file, or `null` for the synthetic corpus. */
  data: string | null;
}

/** The defaults of `deno task train`. */
export const DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  mode: "mhc",
  layers: 4,
  width: 64,
  heads: 4,
  context: 64,
  streams: 4,
  sinkhornIters: 20,
  batch: 8,
  steps: 500,
  lr: 6e-3,
  seed: 1,
  warmup: 25,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  gradClip: 1,
  evalEvery: 50,
  evalBatches: 4,
  checkpointEvery: 100,
  data: null,
});
