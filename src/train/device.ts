// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The one step interface that the CPU trainer and the WebGPU trainer both
 * implement: forward, backward and update of one batch, a forward for
 * evaluation with the stability diagnostics, and the model state in the
 * device-independent layout of `parameterLayout` (model.ts) (what checkpoints
 * hold, so a checkpoint written on one device resumes on the other).
 *
 * Portable: no Deno API, usable from a web page.
 *
 * @module
 */

/** Where a step runs. */
export type DeviceKind = "cpu" | "webgpu";

/** Which device the user asked for. */
export type DeviceChoice = DeviceKind | "auto";

/** The device choices, in help order. */
export const DEVICE_CHOICES: readonly DeviceChoice[] = [
  "auto",
  "webgpu",
  "cpu",
];

/** Parameters and AdamW moments in the layout of `parameterLayout` (model.ts). */
export interface ModelState {
  /** All parameters, flat. */
  params: Float32Array;
  /** AdamW first moments, same layout. */
  m: Float32Array;
  /** AdamW second moments, same layout. */
  v: Float32Array;
  /** AdamW updates done so far (for the bias corrections). */
  adamStep: number;
}

/** Per-step hyper-parameters (they may change every step). */
export interface StepHyper {
  /** Learning rate of this step. */
  lr: number;
  /** Global gradient-norm clip (0 = none). */
  clip: number;
}

/** What one step reports. */
export interface StepNumbers {
  /** Mean training loss of the batch before the update, nats/byte. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** True when the gradient was not finite and the update was skipped. */
  skipped: boolean;
}

/** What one evaluation forward reports. */
export interface EvalNumbers {
  /** Mean loss of the batch, nats/byte. */
  loss: number;
  /** `H_res` `[tokens, n, n]` of every site (HC and mHC, with diagnostics). */
  hRes?: Float32Array[];
  /** Stream spread of every residual state (HC and mHC, with diagnostics). */
  spread?: number[];
}

/** A device that trains the model: CPU (TypeScript) or WebGPU. */
export interface StepDevice {
  /** Where it runs. */
  readonly kind: DeviceKind;
  /** One line for the user: the adapter, or the CPU. */
  readonly description: string;
  /**
   * Runs one optimiser step on a batch of `batch × context` bytes. Calls are
   * queued in order; on WebGPU the step is submitted at once and the promise
   * resolves when its numbers have been read back, so the next step can be
   * submitted while this one runs.
   *
   * @param inputs Input bytes `[batch·context]` (copied before returning).
   * @param targets Next bytes `[batch·context]` (copied before returning).
   * @param hyper This step's learning rate and clip.
   * @returns The step's loss and gradient norm.
   */
  step(
    inputs: Uint8Array,
    targets: Uint8Array,
    hyper: StepHyper,
  ): Promise<StepNumbers>;
  /**
   * Runs the network forward on `B ≤ batch` windows of `context` bytes
   * without updating anything.
   *
   * @param inputs Input bytes `[B·context]`.
   * @param targets Next bytes `[B·context]`.
   * @param B Windows.
   * @param diagnostics Also return `H_res` per site and the stream spreads.
   * @returns The loss and, with `diagnostics`, the small mixing tensors.
   */
  evaluate(
    inputs: Uint8Array,
    targets: Uint8Array,
    B: number,
    diagnostics: boolean,
  ): Promise<EvalNumbers>;
  /** @returns The parameters and moments, in the device-independent layout. */
  readState(): Promise<ModelState>;
  /**
   * Replaces the parameters and moments.
   *
   * @param state A state from {@linkcode readState} of either device.
   */
  writeState(state: ModelState): Promise<void>;
  /**
   * @returns Milliseconds per op summed over the training steps so far
   * (GPU time from timestamp queries where the adapter has them).
   */
  profile(): Record<string, number>;
  /**
   * Adds saved per-op totals (from a checkpoint of the same device kind).
   *
   * @param totals Milliseconds per op name.
   */
  loadProfile(totals: Record<string, number>): void;
  /** Bytes of the device buffers the model holds (0 on the CPU). */
  readonly bufferBytes: number;
  /** Frees the device's resources. */
  destroy(): void;
}
