// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Honest timing of GPU work and of TypeScript functions.
 *
 * GPU: `reps` calls are recorded into one command buffer and submitted
 * once, so the ~10 ms that Deno needs to learn that work is done is paid once
 * per batch, not per call. With `timestamp-query`, two empty compute passes
 * around the batch write GPU timestamps (Vulkan writes them once all earlier
 * work is done), and the time per call is their difference over `reps`;
 * otherwise the wall-clock time from submit to completion is used. Every
 * batch runs inside validation and out-of-memory error scopes: a dispatch
 * that failed validation "runs" in zero time, so an error aborts the bench
 * instead of producing a number. Warm-up batches run first and are not
 * counted; the median of the samples is reported.
 *
 * @module
 */

import type { BenchEnv } from "./_env.ts";

/** Records one call of the work under test into `encoder`. */
export type Recorder = (encoder: GPUCommandEncoder) => void | Promise<void>;

/** Where a time came from. */
export type Clock = "gpu timestamps" | "wall clock";

/** Result of timing a piece of work. */
export interface Timing {
  /** Median time of one call, in milliseconds. */
  ms: number;
  /** Time of one call in each sample, in milliseconds. */
  samples: number[];
  /** The clock the samples come from. */
  clock: Clock;
  /** Calls per sample. */
  reps: number;
}

/** How many calls and samples to time. */
export interface TimingPlan {
  /** Calls per sample (one submit on the GPU); for `timeGpu`, the most. */
  reps: number;
  /** Timed samples. */
  samples: number;
  /** Untimed samples first. Default 1. */
  warmup?: number;
  /**
   * `timeGpu` only: wall-clock milliseconds one submit should take at most.
   * Slow kernels (on a CPU adapter) then get fewer calls per submit, down to
   * one, and at most 3 samples when one call exceeds it. Default: no limit.
   */
  batchMs?: number;
}

/** Median of `xs` (not empty). */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Stamps {
  set: GPUQuerySet;
  resolve: GPUBuffer;
  read: GPUBuffer;
}

const stampCache = new WeakMap<GPUDevice, Stamps>();

function stampsFor(device: GPUDevice): Stamps {
  let s = stampCache.get(device);
  if (!s) {
    s = {
      set: device.createQuerySet({ type: "timestamp", count: 2 }),
      resolve: device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      }),
      read: device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    };
    stampCache.set(device, s);
  }
  return s;
}

/** Wall and (when available) GPU time of one submitted batch, in ms. */
export interface BatchTime {
  /** From submit to `onSubmittedWorkDone`. */
  wallMs: number;
  /** Between the GPU timestamps around the batch, when requested. */
  gpuMs?: number;
}

/**
 * Records `reps` calls of `record` into one command buffer, submits it and
 * waits for completion, all inside validation and out-of-memory error
 * scopes.
 *
 * @param env The bench environment.
 * @param label Names the work in error messages.
 * @param record Records one call.
 * @param reps Calls in the batch.
 * @param stamps Write GPU timestamps around the batch (needs
 *   `timestamp-query`).
 * @returns The batch's times.
 * @throws {Error} On a WebGPU validation or out-of-memory error.
 */
export async function runBatch(
  env: BenchEnv,
  label: string,
  record: Recorder,
  reps: number,
  stamps = false,
): Promise<BatchTime> {
  const { device } = env;
  const st = stamps ? stampsFor(device) : undefined;
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  let wallMs = 0, thrown: unknown, failed = false;
  try {
    const encoder = device.createCommandEncoder({ label });
    if (st) {
      encoder.beginComputePass({
        label: "timestamp begin",
        timestampWrites: { querySet: st.set, beginningOfPassWriteIndex: 0 },
      }).end();
    }
    for (let r = 0; r < reps; r++) await record(encoder);
    if (st) {
      encoder.beginComputePass({
        label: "timestamp end",
        timestampWrites: { querySet: st.set, endOfPassWriteIndex: 1 },
      }).end();
      encoder.resolveQuerySet(st.set, 0, 2, st.resolve, 0);
      encoder.copyBufferToBuffer(st.resolve, 0, st.read, 0, 16);
    }
    const commands = encoder.finish();
    const t0 = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    wallMs = performance.now() - t0;
  } catch (e) {
    thrown = e;
    failed = true;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (validation) {
    throw new Error(
      `WebGPU validation error in ${label}: ${validation.message}`,
    );
  }
  if (oom) throw new Error(`WebGPU out of memory in ${label}: ${oom.message}`);
  if (failed) throw thrown;
  if (!st) return { wallMs };
  await st.read.mapAsync(GPUMapMode.READ);
  const [t0, t1] = new BigUint64Array(st.read.getMappedRange().slice(0));
  st.read.unmap();
  return { wallMs, gpuMs: Number(t1 - t0) / 1e6 };
}

/** One piece of GPU work for {@linkcode timeGpuMany}. */
export interface GpuWork {
  /** Names the work in error messages. */
  label: string;
  /** Records one call. */
  record: Recorder;
}

/**
 * Times several pieces of GPU work, their samples interleaved (sample 1 of
 * each, then sample 2 of each, …) so that a change in the machine's load
 * during the run affects all of them alike and their ratios stay fair. Each
 * gets warm-up batches, then `plan.samples` batches of up to `plan.reps`
 * calls (fewer when `plan.batchMs` says so). Uses GPU timestamps when the
 * device has them and they are consistent (positive, not longer than the
 * wall-clock time of the batch); otherwise wall-clock time.
 *
 * @param env The bench environment.
 * @param works The work to time.
 * @param plan Calls per batch and batches.
 * @returns For each work, the median time per call and the samples.
 */
export async function timeGpuMany(
  env: BenchEnv,
  works: readonly GpuWork[],
  plan: TimingPlan,
): Promise<Timing[]> {
  const sized = [];
  for (const w of works) {
    let { reps, samples } = plan;
    if (plan.batchMs !== undefined) {
      // One call first: it warms up, and sizes the batches.
      const one = (await runBatch(env, w.label, w.record, 1)).wallMs;
      reps = Math.max(1, Math.min(reps, Math.floor(plan.batchMs / one)));
      if (one > plan.batchMs) samples = Math.min(samples, 3);
    }
    for (let i = 0; i < (plan.warmup ?? 1); i++) {
      await runBatch(env, w.label, w.record, reps);
    }
    sized.push({
      ...w,
      reps,
      samples,
      wall: [] as number[],
      gpu: [] as number[],
    });
  }
  const rounds = Math.max(...sized.map((w) => w.samples));
  for (let i = 0; i < rounds; i++) {
    for (const w of sized) {
      if (i >= w.samples) continue;
      const t = await runBatch(env, w.label, w.record, w.reps, env.timestamps);
      w.wall.push(t.wallMs / w.reps);
      if (t.gpuMs !== undefined) w.gpu.push(t.gpuMs / w.reps);
    }
  }
  return sized.map((w) => {
    // Timestamps in a unit other than ns, or written out of order, would
    // show up as a GPU time outside (0, wall]; use the wall clock then.
    const consistent = w.gpu.length === w.samples &&
      w.gpu.every((g, k) => g > 0 && g <= w.wall[k] * 1.05 + 0.05);
    const chosen = consistent ? w.gpu : w.wall;
    return {
      ms: median(chosen),
      samples: chosen,
      clock: consistent ? "gpu timestamps" : "wall clock",
      reps: w.reps,
    };
  });
}

/**
 * Times one piece of GPU work (see {@linkcode timeGpuMany}).
 *
 * @param env The bench environment.
 * @param label Names the work in error messages.
 * @param record Records one call.
 * @param plan Calls per batch and batches.
 * @returns Median time per call and the samples.
 */
export async function timeGpu(
  env: BenchEnv,
  label: string,
  record: Recorder,
  plan: TimingPlan,
): Promise<Timing> {
  const [t] = await timeGpuMany(env, [{ label, record }], plan);
  return t;
}

/**
 * Times a synchronous TypeScript function: warm-up calls, then
 * `plan.samples` samples of `plan.reps` calls, wall clock.
 *
 * @param fn The work.
 * @param plan Calls per sample and samples.
 * @returns Median time per call and the samples.
 */
export function timeCpu(fn: () => unknown, plan: TimingPlan): Timing {
  for (let i = 0; i < (plan.warmup ?? 1); i++) fn();
  const samples: number[] = [];
  for (let s = 0; s < plan.samples; s++) {
    const t0 = performance.now();
    for (let r = 0; r < plan.reps; r++) fn();
    samples.push((performance.now() - t0) / plan.reps);
  }
  return {
    ms: median(samples),
    samples,
    clock: "wall clock",
    reps: plan.reps,
  };
}
