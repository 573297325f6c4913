// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * What a finished run reports: the leaf module that the run loop, the
 * report and the summary all read (so none of them imports another for a
 * type).
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";
import type { SourceEntropy } from "./corpus.ts";
import type { FlopCount } from "./flops.ts";
import type { EvalRecord, StepRecord } from "./trainer.ts";

/** Step-time overhead of a mode against residual. */
export interface Overhead {
  /** Milliseconds per step of the mode. */
  modeMs: number;
  /** Milliseconds per step of a residual network of the same shape. */
  residualMs: number;
  /** Measured `modeMs / residualMs − 1`. */
  measured: number;
  /** `FLOPs(mode) / FLOPs(residual) − 1`. */
  expected: number;
  /** How it was measured. */
  how: string;
}

/** Everything the report and the summary need about one finished run. */
export interface RunResult {
  /** Configuration. */
  cfg: TrainConfig;
  /** Run directory. */
  dir: string;
  /** Data description. */
  dataName: string;
  /** Source entropy (synthetic corpus only). */
  entropy?: SourceEntropy;
  /** Every step's record. */
  steps: StepRecord[];
  /** Every evaluation. */
  evals: EvalRecord[];
  /** Training time (steps only), milliseconds. */
  trainMs: number;
  /** Per-op milliseconds over all steps. */
  profile: Record<string, number>;
  /** FLOPs per token. */
  flops: FlopCount;
  /** Median step time, milliseconds. */
  stepMs: number;
  /** Tokens per second at the median step time. */
  tokensPerSec: number;
  /** Whether the loss became non-finite and training stopped. */
  diverged: boolean;
  /** Generated text. */
  sample: string;
  /** Step-time overhead against residual (HC and mHC). */
  overhead?: Overhead;
  /** The device it trained on, in words. */
  device: string;
  /** Bytes of the device buffers the model held (0 on the CPU). */
  bufferBytes: number;
  /** What `--recompute` saves and costs (HC and mHC on WebGPU). */
  recompute?: RecomputeCost;
}

/** Memory and time of the WebGPU trainer with and without `--recompute`. */
export interface RecomputeCost {
  /** Whether the run itself used it. */
  used: boolean;
  /** Device buffer bytes without recompute. */
  bytes: number;
  /** Device buffer bytes with recompute. */
  recomputeBytes: number;
  /** Median step milliseconds without recompute. */
  ms: number;
  /** Median step milliseconds with recompute. */
  recomputeMs: number;
}
