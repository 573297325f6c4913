// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Training data: the default synthetic corpus or a user's UTF-8 text file,
 * split into train and validation bytes, and the batch sampler whose whole
 * position is the state of its random number generator.
 *
 * @module
 */

import {
  generateText,
  makeWordSource,
  type SourceEntropy,
  sourceEntropy,
} from "./corpus.ts";
import { Rng, type RngState } from "./rng.ts";
import { UsageError } from "./errors.ts";

/** Bytes for training and validation, plus what is known of their source. */
export interface Dataset {
  /** A short description for logs and reports. */
  name: string;
  /** Training bytes. */
  train: Uint8Array;
  /** Validation bytes. */
  val: Uint8Array;
  /** Exact entropy of the source, when it is known (synthetic corpus). */
  entropy?: SourceEntropy;
}

/** Size in bytes of the default synthetic corpus. */
export const SYNTHETIC_BYTES = 1 << 20;

/** Share of a data file kept for validation. */
export const VALIDATION_SHARE = 0.1;

/**
 * The default corpus: text from the seeded word source of `corpus.ts`, with
 * its exact entropy.
 *
 * @param seed Integer seed of the source and of the text.
 * @param bytes Total size; the last tenth is validation.
 * @returns The dataset.
 */
export function syntheticDataset(
  seed: number,
  bytes: number = SYNTHETIC_BYTES,
): Dataset {
  const src = makeWordSource(seed);
  const text = generateText(src, bytes, seed);
  const split = Math.floor(bytes * (1 - VALIDATION_SHARE));
  return {
    name: `synthetic word source (seed ${seed})`,
    train: text.subarray(0, split),
    val: text.subarray(split),
    entropy: sourceEntropy(src),
  };
}

/**
 * Splits a UTF-8 text into train and validation bytes. The last tenth (at
 * least one window) is validation.
 *
 * @param bytes The file's bytes.
 * @param context Window length; both parts must hold `context + 1` bytes.
 * @param name Name for messages (the file path).
 * @returns The dataset.
 * @throws {UsageError} When the text is empty, not UTF-8, or too short.
 */
export function textDataset(
  bytes: Uint8Array,
  context: number,
  name: string,
): Dataset {
  if (bytes.length === 0) throw new UsageError(`data file ${name} is empty`);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`data file ${name} is not valid UTF-8 text`);
  }
  const need = 2 * (context + 1);
  if (bytes.length < need) {
    throw new UsageError(
      `data file ${name} has ${bytes.length} bytes; --context ${context} needs at least ${need} (a training and a validation window)`,
    );
  }
  const val = Math.max(
    Math.floor(bytes.length * VALIDATION_SHARE),
    context + 1,
  );
  return {
    name,
    train: bytes.subarray(0, bytes.length - val),
    val: bytes.subarray(bytes.length - val),
  };
}

/**
 * Draws training windows at random offsets. Its position in the data is the
 * state of its generator, which a checkpoint saves.
 */
export class BatchSampler {
  readonly #data: Uint8Array;
  readonly #rng: Rng;

  /**
   * @param data The bytes to sample from (at least `context + 1`).
   * @param seed Seed of the sampling generator.
   */
  constructor(data: Uint8Array, seed: number) {
    this.#data = data;
    this.#rng = new Rng(seed, 303);
  }

  /**
   * Fills one batch of `B` windows of `T` input bytes and their next-byte targets.
   *
   * @param inputs `[B·T]` input bytes (written).
   * @param targets `[B·T]` target bytes (written).
   * @param B Windows per batch.
   * @param T Window length.
   */
  next(inputs: Uint8Array, targets: Uint8Array, B: number, T: number): void {
    const span = this.#data.length - T;
    for (let b = 0; b < B; b++) {
      const off = this.#rng.int(span);
      inputs.set(this.#data.subarray(off, off + T), b * T);
      targets.set(this.#data.subarray(off + 1, off + T + 1), b * T);
    }
  }

  /** @returns The generator state (the data position). */
  getState(): RngState {
    return this.#rng.getState();
  }

  /** @param state A state from {@linkcode getState}. */
  setState(state: readonly number[]): void {
    this.#rng.setState(state);
  }
}

/**
 * Fixed validation windows, evenly spaced over the validation bytes, so that
 * every evaluation sees the same data.
 *
 * @param val Validation bytes (at least `T + 1`).
 * @param count Number of windows.
 * @param T Window length.
 * @returns Offsets of the windows.
 */
export function validationOffsets(
  val: Uint8Array,
  count: number,
  T: number,
): number[] {
  const span = val.length - T - 1;
  return Array.from(
    { length: count },
    (_, i) => count === 1 ? 0 : Math.round((i * span) / (count - 1)),
  );
}
