// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The WebGPU trainer behind the {@linkcode StepDevice} interface. A step is
 * one command buffer: forward, backward, gradient norm, clipping and AdamW,
 * then a copy of the four step numbers (and the timer's timestamps) into a
 * slot of a small ring of staging buffers. The step is submitted at once;
 * its slot is mapped while the next step runs, so the queue never waits on
 * the CPU. Nothing else is read back during training.
 *
 * Portable: no Deno API.
 *
 * @module
 */

import { GpuError, type MhcGpu } from "../../../mod.ts";
import type { TrainConfig } from "../config.ts";
import type {
  EvalNumbers,
  ModelState,
  StepDevice,
  StepHyper,
  StepNumbers,
} from "../device.ts";
import { Model } from "../model.ts";
import { Rng } from "../rng.ts";
import { fromGpuLayout, toGpuLayout } from "./layout.ts";
import { type Diagnostics, GpuModel } from "./model.ts";
import {
  STAT_ADAM_STEP,
  STAT_GRAD_NORM,
  STAT_LOSS,
  STAT_SKIPPED,
  STATS_FLOATS,
} from "./optimizer.ts";
import { GpuTimer } from "./timer.ts";

const MAP_READ = 0x01, COPY_DST = 0x08;
/** Steps whose numbers may be in flight at once. */
const RING = 3;
/** Byte offset of the timestamps in a ring slot. */
const STAMPS_AT = 256;
/** Markers a step may record. */
const TIMER_CAPACITY = 1024;

/**
 * @param gpu A runtime.
 * @returns How the WebGPU trainer on it describes itself.
 */
export function gpuDescription(gpu: MhcGpu): string {
  return `webgpu (${gpu.adapterName || "adapter"})`;
}

/** Options of {@linkcode GpuDevice.create}. */
export interface GpuDeviceOptions {
  /** Recompute the HC/mHC site intermediates in the backward. */
  recompute?: boolean;
  /** Time every op with timestamp queries (where available). Default true. */
  timing?: boolean;
}

interface Slot {
  buffer: GPUBuffer;
  busy: Promise<void>;
}

/** The WebGPU implementation of {@linkcode StepDevice}. */
export class GpuDevice implements StepDevice {
  /** Always `"webgpu"`. */
  readonly kind = "webgpu" as const;
  /** The adapter. */
  readonly description: string;
  /** The model's buffers and encoders. */
  readonly model: GpuModel;
  /** The runtime. */
  readonly gpu: MhcGpu;
  readonly #cfg: TrainConfig;
  readonly #timer: GpuTimer;
  readonly #slots: Slot[];
  readonly #evalBuffer: GPUBuffer;
  readonly #evalStats: GPUBuffer;
  readonly #diag: Diagnostics;
  readonly #tokens32: Uint32Array;
  readonly #targets32: Uint32Array;
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #error: GpuError | undefined;

  private constructor(gpu: MhcGpu, cfg: TrainConfig, opts: GpuDeviceOptions) {
    this.gpu = gpu;
    this.#cfg = cfg;
    const d = gpu.device;
    this.description = gpuDescription(gpu);
    this.#timer = new GpuTimer(d, TIMER_CAPACITY, opts.timing ?? true);
    this.model = new GpuModel(gpu, cfg, cfg.batch, {
      recompute: opts.recompute,
      timer: this.#timer,
      weightDecay: cfg.weightDecay,
    });
    const slotBytes = STAMPS_AT + this.#timer.bytes;
    this.#slots = Array.from({ length: RING }, (_, i) => ({
      buffer: d.createBuffer({
        label: `step readback ${i}`,
        size: slotBytes,
        usage: MAP_READ | COPY_DST,
      }),
      busy: Promise.resolve(),
    }));
    const { layers: L, context: T, batch: B } = cfg, n = this.model.n;
    const hResBytes = B * T * n * n * 4;
    const spreadOffset = Math.ceil((2 * L * hResBytes) / 256) * 256;
    this.#evalBuffer = d.createBuffer({
      label: "evaluation readback",
      size: Math.max(16, spreadOffset + (2 * L + 1) * 4 + 16),
      usage: MAP_READ | COPY_DST,
    });
    this.#evalStats = d.createBuffer({
      label: "evaluation loss",
      size: 16,
      usage: 0x80 | 0x04 | 0x08,
    });
    this.#diag = { dst: this.#evalBuffer, hResBytes, spreadOffset };
    this.#tokens32 = new Uint32Array(B * T);
    this.#targets32 = new Uint32Array(B * T);
    d.addEventListener("uncapturederror", (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.#error ??= new GpuError(
        "validation",
        `WebGPU error during training: ${err.message}`,
      );
    });
  }

  /**
   * Builds the WebGPU trainer for `cfg` and initialises the model from
   * `cfg.seed` exactly as the CPU trainer does (the same draws, uploaded).
   *
   * @param gpu The runtime (its device must allow 9 storage buffers per stage).
   * @param cfg The run's configuration.
   * @param opts Recompute and timing.
   * @returns The device, with every pipeline compiled.
   */
  static async create(
    gpu: MhcGpu,
    cfg: TrainConfig,
    opts: GpuDeviceOptions = {},
  ): Promise<GpuDevice> {
    const dev = new GpuDevice(gpu, cfg, opts);
    const init = new Model(cfg, 1, Float32Array);
    init.init(new Rng(cfg.seed, 1));
    await dev.writeState({
      params: init.params,
      m: new Float32Array(init.params.length),
      v: new Float32Array(init.params.length),
      adamStep: 0,
    });
    return dev;
  }

  /** The per-op timer (disabled without timestamp queries). */
  get timingEnabled(): boolean {
    return this.#timer.enabled;
  }

  /** Bytes of the device buffers the model holds. */
  get bufferBytes(): number {
    return this.model.bufferBytes;
  }

  #enqueue<R>(work: () => Promise<R>): Promise<R> {
    const run = this.#queue.then(work);
    this.#queue = run.then(() => {}, () => {});
    return run;
  }

  #throwIfFailed(): void {
    if (this.gpu.lostError) throw this.gpu.lostError;
    if (this.#error) throw this.#error;
  }

  #upload(inputs: Uint8Array, targets: Uint8Array, count: number): void {
    const q = this.gpu.device.queue;
    for (let i = 0; i < count; i++) {
      this.#tokens32[i] = inputs[i];
      this.#targets32[i] = targets[i];
    }
    q.writeBuffer(this.model.tokens, 0, this.#tokens32, 0, count);
    q.writeBuffer(this.model.targets, 0, this.#targets32, 0, count);
  }

  step(
    inputs: Uint8Array,
    targets: Uint8Array,
    hyper: StepHyper,
  ): Promise<StepNumbers> {
    const inp = inputs.slice(), tgt = targets.slice();
    // The submission is queued; the readback is not, so step k + 1 can be
    // submitted while step k's numbers are still on their way.
    const submitted = this.#enqueue(() => this.#submitStep(inp, tgt, hyper));
    return submitted.then((s) => s.done);
  }

  async #submitStep(
    inputs: Uint8Array,
    targets: Uint8Array,
    hyper: StepHyper,
  ): Promise<{ done: Promise<StepNumbers> }> {
    this.#throwIfFailed();
    const device = this.gpu.device, m = this.model;
    const slot = this.#slots[this.#next];
    this.#next = (this.#next + 1) % RING;
    await slot.busy;
    const { batch: B, context: T } = this.#cfg;
    this.#upload(inputs, targets, B * T);
    // Only the header changes from step to step (AdamW's step count and
    // bias corrections live on the GPU).
    device.queue.writeBuffer(
      m.hyper,
      0,
      m.hyperHeader({ lr: hyper.lr, clip: hyper.clip }),
    );
    const encoder = device.createCommandEncoder({ label: "training step" });
    this.#timer.begin();
    m.timing = true;
    let names: string[];
    try {
      await m.encodeForward(encoder, B);
      await m.encodeBackward(encoder);
      await m.encodeUpdate(encoder);
      encoder.copyBufferToBuffer(
        m.stats,
        0,
        slot.buffer,
        0,
        STATS_FLOATS * 4,
      );
      names = this.#timer.finish(encoder, slot.buffer, STAMPS_AT);
    } finally {
      m.timing = false;
    }
    device.queue.submit([encoder.finish()]);
    const done = slot.buffer.mapAsync(0x01).then(() => {
      const range = slot.buffer.getMappedRange();
      const stats = new Float32Array(range, 0, STATS_FLOATS).slice();
      if (names.length) {
        this.#timer.add(
          names,
          new BigUint64Array(range, STAMPS_AT, names.length + 1),
        );
      }
      slot.buffer.unmap();
      this.#throwIfFailed();
      return {
        loss: stats[STAT_LOSS],
        gradNorm: stats[STAT_GRAD_NORM],
        skipped: stats[STAT_SKIPPED] !== 0,
      };
    });
    slot.busy = done.then(() => {}, () => {});
    return { done };
  }

  evaluate(
    inputs: Uint8Array,
    targets: Uint8Array,
    B: number,
    diagnostics: boolean,
  ): Promise<EvalNumbers> {
    return this.#enqueue(async () => {
      this.#throwIfFailed();
      const device = this.gpu.device, m = this.model;
      const { context: T, layers: L } = this.#cfg, n = m.n;
      this.#upload(inputs, targets, B * T);
      const diag = diagnostics && n > 1 ? this.#diag : undefined;
      const encoder = device.createCommandEncoder({ label: "evaluation" });
      await m.encodeForward(encoder, B, diag, [this.#evalStats, 0]);
      encoder.copyBufferToBuffer(
        this.#evalStats,
        0,
        this.#evalBuffer,
        diag ? diag.spreadOffset + (2 * L + 1) * 4 : 0,
        4,
      );
      device.queue.submit([encoder.finish()]);
      await this.#evalBuffer.mapAsync(0x01);
      const range = this.#evalBuffer.getMappedRange();
      const lossAt = diag ? diag.spreadOffset + (2 * L + 1) * 4 : 0;
      const loss = new Float32Array(range, lossAt, 1)[0];
      let out: EvalNumbers = { loss };
      if (diag) {
        const per = B * T * n * n;
        out = {
          loss,
          hRes: Array.from(
            { length: 2 * L },
            (_, s) => new Float32Array(range, s * diag.hResBytes, per).slice(),
          ),
          spread: Array.from(
            new Float32Array(range, diag.spreadOffset, 2 * L + 1),
          ),
        };
      }
      this.#evalBuffer.unmap();
      this.#throwIfFailed();
      return out;
    });
  }

  readState(): Promise<ModelState> {
    return this.#enqueue(async () => {
      const device = this.gpu.device, m = this.model;
      const bytes = m.layout.floats * 4;
      const staging = device.createBuffer({
        label: "state readback",
        size: 3 * bytes + STATS_FLOATS * 4,
        usage: MAP_READ | COPY_DST,
      });
      try {
        const encoder = device.createCommandEncoder({ label: "read state" });
        encoder.copyBufferToBuffer(m.params, 0, staging, 0, bytes);
        encoder.copyBufferToBuffer(m.m, 0, staging, bytes, bytes);
        encoder.copyBufferToBuffer(m.v, 0, staging, 2 * bytes, bytes);
        encoder.copyBufferToBuffer(
          m.stats,
          0,
          staging,
          3 * bytes,
          STATS_FLOATS * 4,
        );
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(0x01);
        const all = new Float32Array(staging.getMappedRange());
        const part = (i: number) =>
          fromGpuLayout(
            m.layout,
            all.subarray(i * m.layout.floats, (i + 1) * m.layout.floats),
          );
        const state = {
          params: part(0),
          m: part(1),
          v: part(2),
          adamStep: all[3 * m.layout.floats + STAT_ADAM_STEP],
        };
        staging.unmap();
        this.#throwIfFailed();
        return state;
      } finally {
        staging.destroy();
      }
    });
  }

  writeState(state: ModelState): Promise<void> {
    return this.#enqueue(() => {
      const l = this.model.layout;
      if (state.params.length !== l.cpuFloats) {
        throw new RangeError(
          `state has ${state.params.length} parameters, the model ${l.cpuFloats}`,
        );
      }
      this.model.writeParams(
        toGpuLayout(l, state.params),
        toGpuLayout(l, state.m),
        toGpuLayout(l, state.v),
        state.adamStep,
      );
      return this.gpu.device.queue.onSubmittedWorkDone();
    });
  }

  profile(): Record<string, number> {
    return this.#timer.totals();
  }

  loadProfile(totals: Record<string, number>): void {
    this.#timer.load(totals);
  }

  destroy(): void {
    this.model.destroy();
    this.#timer.destroy();
    for (const s of this.#slots) s.buffer.destroy();
    this.#evalBuffer.destroy();
    this.#evalStats.destroy();
  }
}
