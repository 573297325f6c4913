// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Checkpoints of a training run in the safetensors format: the weights under
 * their plain names, the AdamW moments under `optimizer.m.<name>` and
 * `optimizer.v.<name>`, and in `__metadata__` the configuration and the exact
 * run state (step, optimiser step, data-order generator state, a hash of the
 * training data). Files are written atomically: to a temporary file, synced,
 * then renamed over the old one.
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type Tensor,
} from "./safetensors.ts";
import { Trainer } from "./trainer.ts";
import type { Dataset } from "./data.ts";
import type { DeviceKind, StepDevice } from "./device.ts";
import { parameterLayout } from "./model.ts";

/** File name of the checkpoint inside a run directory. */
export const CHECKPOINT_FILE = "checkpoint.safetensors";

/** The `format` metadata value of this project's checkpoints. */
export const CHECKPOINT_FORMAT = "birkhoff-mhc-train/1";

/** Run state saved next to the tensors. */
export interface RunState {
  /** Optimiser steps done. */
  step: number;
  /** AdamW's step count. */
  adamStep: number;
  /** Data-order generator state. */
  sampler: number[];
  /** FNV-1a hash of the training bytes (hex). */
  dataHash: string;
  /** Training time so far, in milliseconds (without evaluations). */
  trainMs: number;
  /** Per-op milliseconds so far. */
  profile: Record<string, number>;
  /** The device that trained the steps so far (per-op times are its own). */
  device?: DeviceKind;
}

/** A checkpoint read back. */
export interface Checkpoint {
  /** The run's configuration. */
  cfg: TrainConfig;
  /** The run state. */
  state: RunState;
  /** All tensors by name. */
  tensors: Map<string, Tensor>;
}

/**
 * @param bytes Any bytes.
 * @returns Their 32-bit FNV-1a hash as 8 hex digits.
 */
export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * Encodes a trainer's full state as safetensors bytes. The tensors are in
 * the device-independent layout, so the file resumes on either device.
 * Await every submitted step first.
 *
 * @param trainer The run.
 * @param extra Training time and per-op profile to carry over.
 * @returns The file's bytes.
 */
export async function encodeCheckpoint(
  trainer: Trainer,
  extra: { trainMs: number; profile: Record<string, number> },
): Promise<Uint8Array> {
  const layout = parameterLayout(trainer.cfg);
  const st = await trainer.device.readState();
  const tensors: [string, Tensor][] = [];
  const slice = (a: Float32Array, o: number, n: number) => a.subarray(o, o + n);
  for (
    const [prefix, arr] of [["", st.params], ["optimizer.m.", st.m], [
      "optimizer.v.",
      st.v,
    ]] as const
  ) {
    for (const s of layout) {
      tensors.push([`${prefix}${s.name}`, {
        dtype: "F32",
        shape: s.shape,
        data: slice(arr, s.offset, s.size),
      }]);
    }
  }
  const state: RunState = {
    step: trainer.step,
    adamStep: st.adamStep,
    sampler: trainer.sampler.getState(),
    dataHash: fnv1a(trainer.data.train),
    trainMs: extra.trainMs,
    profile: extra.profile,
    device: trainer.device.kind,
  };
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(trainer.cfg),
    state: JSON.stringify(state),
  });
}

/**
 * Writes a checkpoint atomically: a temporary file next to `path`, synced to
 * disk, then renamed over `path`.
 *
 * @param path Destination file.
 * @param bytes The checkpoint's bytes.
 */
export async function writeAtomic(
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

/**
 * Decodes and checks a checkpoint.
 *
 * @param bytes The file's bytes.
 * @param path The file's path, for messages.
 * @returns The configuration, state and tensors.
 * @throws {UsageError} When the file is corrupt or not a checkpoint of this trainer.
 */
export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) {
      throw new UsageError(`checkpoint ${path} is corrupt: ${e.message}`);
    }
    throw e;
  }
  const bad = (why: string) =>
    new UsageError(`checkpoint ${path} is not usable: ${why}`);
  if (file.metadata.format !== CHECKPOINT_FORMAT) {
    throw bad(`its format is not ${CHECKPOINT_FORMAT}`);
  }
  let cfg: TrainConfig, state: RunState;
  try {
    cfg = JSON.parse(file.metadata.config);
    state = JSON.parse(file.metadata.state);
  } catch {
    throw bad("its config or state metadata is not valid JSON");
  }
  if (
    typeof cfg !== "object" || cfg === null || typeof state !== "object" ||
    state === null || !Number.isSafeInteger(state.step) ||
    !Number.isSafeInteger(state.adamStep) || !Array.isArray(state.sampler)
  ) {
    throw bad("its state metadata is incomplete");
  }
  return { cfg, state, tensors: file.tensors };
}

/**
 * Rebuilds a trainer from a checkpoint: same configuration, weights, moments,
 * step and data position, so that training continues exactly as if it had
 * not stopped (bit for bit on the device that wrote it).
 *
 * @param ckpt A decoded checkpoint.
 * @param data The dataset (must be the one the run trained on).
 * @param path The checkpoint's path, for messages.
 * @param makeDevice Builds the device for the checkpoint's configuration.
 * @returns The restored trainer.
 * @throws {UsageError} When a tensor is missing or has the wrong shape, or the data differ.
 */
export async function restoreTrainer(
  ckpt: Checkpoint,
  data: Dataset,
  path: string,
  makeDevice: (cfg: TrainConfig) => Promise<StepDevice>,
): Promise<Trainer> {
  const bad = (why: string) =>
    new UsageError(`checkpoint ${path} is not usable: ${why}`);
  if (fnv1a(data.train) !== ckpt.state.dataHash) {
    throw bad("the training data differ from the data it was trained on");
  }
  let layout;
  try {
    layout = parameterLayout(ckpt.cfg);
  } catch (e) {
    throw bad(`its config is invalid (${e instanceof Error ? e.message : e})`);
  }
  const total = layout.reduce((a, s) => a + s.size, 0);
  const params = new Float32Array(total), m = new Float32Array(total);
  const v = new Float32Array(total);
  const load = (
    name: string,
    into: Float32Array,
    offset: number,
    size: number,
  ) => {
    const t = ckpt.tensors.get(name);
    if (!t) throw bad(`tensor ${name} is missing`);
    if (t.data.length !== size) {
      throw bad(`tensor ${name} has ${t.data.length} values, expected ${size}`);
    }
    into.set(t.data, offset);
  };
  for (const s of layout) {
    load(s.name, params, s.offset, s.size);
    load(`optimizer.m.${s.name}`, m, s.offset, s.size);
    load(`optimizer.v.${s.name}`, v, s.offset, s.size);
  }
  let trainer: Trainer;
  try {
    trainer = new Trainer(ckpt.cfg, data, await makeDevice(ckpt.cfg));
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
    throw bad(`its config is invalid (${e.message})`);
  }
  await trainer.device.writeState({
    params,
    m,
    v,
    adamStep: ckpt.state.adamStep,
  });
  trainer.step = ckpt.state.step;
  try {
    trainer.sampler.setState(ckpt.state.sampler);
  } catch {
    throw bad("its data-order state is invalid");
  }
  if ((ckpt.state.device ?? "cpu") === trainer.device.kind) {
    trainer.device.loadProfile(ckpt.state.profile ?? {});
  }
  return trainer;
}

/**
 * Reads a checkpoint file.
 *
 * @param path File path.
 * @returns The decoded checkpoint.
 * @throws {UsageError} When it is missing, unreadable or corrupt.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new UsageError(
      e instanceof Deno.errors.NotFound
        ? `no checkpoint at ${path}`
        : `checkpoint ${path} cannot be read (${
          e instanceof Error ? e.message : e
        })`,
    );
  }
  return decodeCheckpoint(bytes, path);
}
