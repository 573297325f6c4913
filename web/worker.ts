// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The playground's trainer, in a Web Worker so that the page stays live
 * while it trains: one run at a time on the WebGPU trainer (loaded from
 * `gpu_trainer.js` when the page asks for it and an adapter is found) or on
 * the CPU trainer. It reports every step, an evaluation (validation loss,
 * Amax gains, mean `H_res` per site) at the start, every `evalEvery` steps
 * and at the end, and generates text from a finished run on request.
 *
 * @module
 */

import type { TrainConfig } from "../src/train/config.ts";
import { CPU_DESCRIPTION, CpuDevice } from "../src/train/cpu/device.ts";
import { type Dataset, syntheticDataset } from "../src/train/data.ts";
import type { StepDevice } from "../src/train/device.ts";
import { Model, parameterLayout } from "../src/train/model.ts";
import { generate, printable } from "../src/train/sample.ts";
import { type StepRecord, Trainer } from "../src/train/trainer.ts";
import type {
  FromWorker,
  GpuFactory,
  GpuTrainerModule,
  ToWorker,
  WantedDevice,
} from "./protocol.ts";

/** Bytes of the synthetic corpus: enough for short runs, ready in ~50 ms. */
const CORPUS_BYTES = 1 << 18;
/** Finished runs whose weights are kept for sampling. */
const KEPT_RUNS = 8;
/** Rough CPU budget of one sample, in multiply-adds. */
const SAMPLE_BUDGET = 2e9;

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

let device: WantedDevice = "cpu";
let gpu: GpuFactory | null = null;
let stopRequested = false;
let running: Promise<void> = Promise.resolve();
const datasets = new Map<number, Dataset>();
const finished = new Map<number, { cfg: TrainConfig; params: Float32Array }>();

function post(message: FromWorker): void {
  scope.postMessage(message);
}

function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause === undefined ? "" : ` (${messageOf(e.cause)})`;
  return `${e.message}${cause}`;
}

/** Lets the worker's message queue run (a stop request) between CPU steps. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function init(wanted: WantedDevice): Promise<void> {
  if (wanted === "webgpu") {
    try {
      const url = new URL("./gpu_trainer.js", import.meta.url).href;
      const mod = await import(url) as GpuTrainerModule;
      gpu = await mod.createGpuFactory();
      device = "webgpu";
      post({ type: "ready", device, description: gpu.description });
      return;
    } catch (e) {
      device = "cpu";
      post({
        type: "ready",
        device,
        description: CPU_DESCRIPTION,
        notice: `The WebGPU trainer did not start (${
          messageOf(e)
        }); training runs on the CPU in a Web Worker, at a reduced size.`,
      });
      return;
    }
  }
  device = "cpu";
  post({ type: "ready", device, description: CPU_DESCRIPTION });
}

function dataset(seed: number): Dataset {
  let d = datasets.get(seed);
  if (!d) {
    d = syntheticDataset(seed, CORPUS_BYTES);
    datasets.set(seed, d);
  }
  return d;
}

async function train(id: number, cfg: TrainConfig): Promise<void> {
  stopRequested = false;
  const dev: StepDevice = device === "webgpu" && gpu
    ? await gpu.make(cfg)
    : new CpuDevice(cfg);
  try {
    const data = dataset(cfg.seed);
    const trainer = new Trainer(cfg, data, dev);
    post({
      type: "started",
      id,
      entropy: data.entropy?.perByte ?? null,
      params: parameterCount(cfg),
    });
    post({ type: "eval", id, record: await trainer.evaluate() });
    // On WebGPU one step is submitted ahead while the last one's numbers
    // come back; the CPU trainer computes each step when it is called.
    const ahead = dev.kind === "webgpu" ? 1 : 0;
    const queue: Promise<StepRecord>[] = [];
    let lastEval = 0;
    const settle = async () => {
      const record = await queue.shift()!;
      post({ type: "step", id, record });
      return record;
    };
    while (trainer.step < cfg.steps && !stopRequested) {
      queue.push(trainer.trainStep());
      // No step is submitted past an evaluation's step before it runs.
      const evalDue = trainer.step % cfg.evalEvery === 0 &&
        trainer.step < cfg.steps;
      if (queue.length > ahead || evalDue) await settle();
      if (evalDue) {
        while (queue.length > 0) await settle();
        post({ type: "eval", id, record: await trainer.evaluate() });
        lastEval = trainer.step;
      }
      await yieldToEvents();
    }
    while (queue.length > 0) await settle();
    if (lastEval !== trainer.step) {
      post({ type: "eval", id, record: await trainer.evaluate() });
    }
    const { params } = await dev.readState();
    finished.set(id, { cfg, params });
    for (const old of [...finished.keys()].slice(0, -KEPT_RUNS)) {
      finished.delete(old);
    }
    post({
      type: "done",
      id,
      reason: trainer.step >= cfg.steps && !stopRequested
        ? "finished"
        : "stopped",
    });
  } finally {
    dev.destroy();
  }
}

function parameterCount(cfg: TrainConfig): number {
  return parameterLayout(cfg).reduce((total, t) => total + t.size, 0);
}

/** Bytes a sample may have so that it costs about {@linkcode SAMPLE_BUDGET}. */
function sampleLength(cfg: TrainConfig, wanted: number): number {
  const C = cfg.width, L = cfg.layers, T = cfg.context;
  const n = cfg.mode === "residual" ? 1 : cfg.streams;
  // Per token: the blocks' matrices, the head, attention over the window,
  // and the stream mixing.
  const perToken = 12 * C * C * L + 256 * C + 2 * T * C * L +
    8 * n * n * C * L;
  return Math.max(
    16,
    Math.min(wanted, Math.floor(SAMPLE_BUDGET / (perToken * T))),
  );
}

function sample(id: number, wanted: number): void {
  const run = finished.get(id);
  if (!run) {
    post({
      type: "error",
      id,
      message:
        "This run's weights are no longer kept; train it again to sample",
    });
    return;
  }
  const t0 = performance.now();
  const model = new Model(run.cfg, 1, Float32Array);
  model.params.set(run.params);
  const val = dataset(run.cfg.seed).val;
  const prompt = val.subarray(0, Math.min(32, val.length));
  const bytes = sampleLength(run.cfg, wanted);
  const out = generate(model, prompt, bytes, run.cfg.seed);
  post({
    type: "sample",
    id,
    prompt: printable(prompt),
    text: printable(out),
    bytes,
    ms: performance.now() - t0,
  });
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "stop") {
    stopRequested = true;
    return;
  }
  const id = msg.type === "init" ? null : msg.id;
  // One job at a time, in order; a failure is reported, never thrown away.
  running = running.then(async () => {
    switch (msg.type) {
      case "init":
        return await init(msg.device);
      case "start":
        return await train(msg.id, msg.cfg);
      case "sample":
        return sample(msg.id, msg.bytes);
    }
  }).catch((err) => {
    post({ type: "error", id, message: messageOf(err) });
  });
};
