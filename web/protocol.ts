// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Messages between the playground page (web/main.ts) and its trainer
 * worker (web/worker.ts). Plain structured-clone values.
 *
 * @module
 */

import type { TrainConfig } from "../src/train/config.ts";
import type { StepDevice } from "../src/train/device.ts";
import type { EvalRecord, StepRecord } from "../src/train/trainer.ts";

/** Which trainer the page asks the worker for. */
export type WantedDevice = "webgpu" | "cpu";

/** Page → worker. */
export type ToWorker =
  | { type: "init"; device: WantedDevice }
  | { type: "start"; id: number; cfg: TrainConfig }
  | { type: "stop" }
  | { type: "sample"; id: number; bytes: number };

/** Worker → page. */
export type FromWorker =
  | {
    type: "ready";
    /** The trainer the worker will use. */
    device: WantedDevice;
    /** One line: the device and adapter. */
    description: string;
    /** Why WebGPU was asked for and the CPU is used, in one line. */
    notice?: string;
  }
  | {
    type: "started";
    id: number;
    /** Exact entropy rate of the synthetic corpus, nats/byte: the loss floor. */
    entropy: number | null;
    /** Trainable parameters. */
    params: number;
  }
  | { type: "step"; id: number; record: StepRecord }
  | { type: "eval"; id: number; record: EvalRecord }
  | {
    type: "done";
    id: number;
    /** Whether the run ran all its steps or was stopped. */
    reason: "finished" | "stopped";
  }
  | {
    type: "sample";
    id: number;
    /** The prompt (the first bytes of the validation text), printable. */
    prompt: string;
    /** The generated continuation, printable. */
    text: string;
    /** Bytes generated. */
    bytes: number;
    /** Milliseconds it took. */
    ms: number;
  }
  | { type: "error"; id: number | null; message: string };

/**
 * What the separately bundled WebGPU module (web/gpu_trainer.ts) exports:
 * the worker imports it only when the page asks for WebGPU, so that the CPU
 * fallback never loads the GPU trainer.
 */
export interface GpuTrainerModule {
  /**
   * Creates the WebGPU runtime.
   *
   * @returns A factory of WebGPU step devices, or throws when there is no
   *   adapter.
   */
  createGpuFactory(): Promise<GpuFactory>;
}

/** The part of the trainer's device factory the worker uses. */
export interface GpuFactory {
  /** The adapter's name. */
  readonly description: string;
  /**
   * @param cfg A configuration.
   * @returns A device for it, its model initialised from `cfg.seed`.
   */
  make(cfg: TrainConfig): Promise<StepDevice>;
}

/** What the page's test hook (`globalThis.mhcPlayground.snapshot()`) returns. */
export interface PlaygroundSnapshot {
  /** Whether the worker has said which trainer it uses. */
  ready: boolean;
  /** The trainer in use. */
  device: WantedDevice | null;
  /** The device line shown at the top of the page. */
  deviceLine: string;
  /** Whether a run is in progress. */
  running: boolean;
  /** Whether a sample is being generated. */
  sampling: boolean;
  /** The messages shown for refused settings or failures (empty when none). */
  errors: string[];
  /** Every run, oldest first. */
  runs: {
    id: number;
    mode: string;
    state: string;
    /** Training loss of every step. */
    losses: number[];
    evals: {
      step: number;
      valLoss: number;
      maxColumnSumError: number | null;
      maxForwardGain: number | null;
      maxBackwardGain: number | null;
      /** Sites with a mean `H_res`, and values per site. */
      sites: number;
      values: number;
    }[];
    sample: string | null;
    error: string | null;
  }[];
}
