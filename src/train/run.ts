// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * What `deno task train` does around a {@linkcode Trainer}: output
 * directories, the metrics log, the live progress line, checkpoints (at
 * intervals, at the end and on Ctrl-C), resume, the generated sample, the
 * step-time overhead measurement, the report and the summary.
 *
 * @module
 */

import { CONNECTION_MODES, type ConnectionMode } from "./connection.ts";
import {
  checkConfig,
  type Command,
  resumeConfig,
  stepsChangeNote,
} from "./cli.ts";
import type { TrainConfig } from "./config.ts";
import {
  CHECKPOINT_FILE,
  encodeCheckpoint,
  readCheckpoint,
  restoreTrainer,
  writeAtomic,
} from "./checkpoint.ts";
import { type Dataset, syntheticDataset } from "./data.ts";
import { fileDataset } from "./data_file.ts";
import { UsageError } from "./errors.ts";
import { flopsPerToken } from "./flops.ts";
import { duration, ProgressLine } from "./progress.ts";
import { renderReport } from "./report.ts";
import { generate, printable } from "./sample.ts";
import { summaryParagraph } from "./summary.ts";
import { type EvalRecord, type StepRecord, Trainer } from "./trainer.ts";
import type { Overhead, RecomputeCost, RunResult } from "./result.ts";
import { type DeviceFactory, deviceFactory } from "./devices.ts";
import { GpuError, type MhcGpu } from "../../mod.ts";
import { GpuDevice } from "./gpu/device.ts";
import { Model } from "./model.ts";

/** Set by the SIGINT handler; the loop stops after the current step. */
export interface StopSignal {
  /** True once Ctrl-C was pressed. */
  requested: boolean;
}

/** Thrown after an interrupted run saved its checkpoint. */
export class Interrupted extends Error {
  /**
   * @param dir The run directory to resume.
   * @param step The last step done.
   */
  constructor(
    readonly dir: string,
    readonly step: number,
    readonly partial?: RunResult,
  ) {
    super(
      `interrupted after step ${step}, checkpoint, report and sample written; resume with: deno task train --resume ${dir}`,
    );
    this.name = "Interrupted";
  }
}

const METRICS_FILE = "metrics.jsonl";
const DIVERGED_STEPS = 20;

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

function stamp(): string {
  const d = new Date(), p = (v: number) => String(v).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${
    p(d.getHours())
  }${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function json(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => typeof v === "number" && !Number.isFinite(v) ? null : v,
  );
}

/**
 * Loads the dataset a configuration trains on.
 *
 * @param cfg The configuration.
 * @returns The dataset.
 */
export async function loadDataset(cfg: TrainConfig): Promise<Dataset> {
  return cfg.data === null
    ? syntheticDataset(cfg.seed)
    : await fileDataset(cfg.data, cfg.context);
}

/** A `--resume` that changed the step count, as logged in the metrics. */
export interface ResumeRecord {
  /** Steps done when the run resumed. */
  step: number;
  /** The new step count. */
  steps: number;
  /** The step count before. */
  was: number;
  /** Steps the learning-rate schedule is planned for. */
  scheduleSteps: number;
  /** What changed, in words (the line printed at resume). */
  note: string;
}

/**
 * Reads a run's metrics log.
 *
 * @param dir Run directory.
 * @param upTo Keep records of steps `<= upTo` only.
 * @returns Step and evaluation records, and the resumes that changed the
 * step count.
 */
export async function readMetrics(
  dir: string,
  upTo = Infinity,
): Promise<
  { steps: StepRecord[]; evals: EvalRecord[]; resumes: ResumeRecord[] }
> {
  const steps: StepRecord[] = [], evals: EvalRecord[] = [];
  const resumes: ResumeRecord[] = [];
  let text = "";
  try {
    text = await Deno.readTextFile(join(dir, METRICS_FILE));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const num = (v: unknown) => (typeof v === "number" ? v : NaN);
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a line cut short by a crash
    }
    if (!(r.step <= upTo)) continue;
    if (r.type === "step") {
      steps.push({
        step: r.step,
        loss: num(r.loss),
        lr: num(r.lr),
        gradNorm: num(r.gradNorm),
        ms: num(r.ms),
        tokensPerSec: num(r.tokensPerSec),
        ...(r.skipped === true ? { skipped: true } : {}),
      });
    } else if (r.type === "eval") {
      evals.push({
        step: r.step,
        valLoss: num(r.valLoss),
        stability: r.stability ?? undefined,
        streamSpread: r.streamSpread ?? undefined,
      });
    } else if (r.type === "resume") {
      resumes.push({
        step: r.step,
        steps: num(r.steps),
        was: num(r.was),
        scheduleSteps: num(r.scheduleSteps),
        note: String(r.note ?? ""),
      });
    }
  }
  return { steps, evals, resumes };
}

/** Options of {@linkcode trainToEnd}. */
export interface TrainOptions {
  /** Ctrl-C flag. */
  stop: StopSignal;
  /** Progress output. */
  ui: ProgressLine;
  /** Label in the progress line. */
  label?: string;
  /** Training time already spent (resume). */
  trainMs?: number;
  /** Bytes of text to generate at the end. */
  sampleBytes: number;
  /**
   * Test hook: after this step, behave as if Ctrl-C had been pressed.
   */
  stopAfter?: number;
  /** Called once the run's inputs are checked, before it starts. */
  announce?: () => void;
}

/**
 * Trains a run to its last step, logging metrics, writing checkpoints and
 * reacting to Ctrl-C; then samples text and collects the results. On
 * WebGPU the next step is submitted before the current one's numbers are
 * awaited (except before an evaluation, a checkpoint or the end), so the
 * queue never waits on the CPU.
 *
 * @param trainer A fresh or restored trainer.
 * @param dir Its run directory (exists).
 * @param opts Options.
 * @returns The run's results.
 * @throws {Interrupted} After Ctrl-C, once the checkpoint is written.
 */
export async function trainToEnd(
  trainer: Trainer,
  dir: string,
  opts: TrainOptions,
): Promise<RunResult> {
  const cfg = trainer.cfg, ui = opts.ui;
  const label = opts.label ?? cfg.mode;
  const metricsPath = join(dir, METRICS_FILE);
  const log = await Deno.open(metricsPath, { append: true, create: true });
  const enc = new TextEncoder();
  const write = (rec: unknown) => log.writeSync(enc.encode(json(rec) + "\n"));
  let trainMs = opts.trainMs ?? 0;
  const save = async () => {
    await writeAtomic(
      join(dir, CHECKPOINT_FILE),
      await encodeCheckpoint(trainer, {
        trainMs,
        profile: trainer.device.profile(),
      }),
    );
  };
  /** A step after which the loop must not run ahead. */
  const syncPoint = (step: number) =>
    step % cfg.evalEvery === 0 || step % cfg.checkpointEvery === 0 ||
    step === cfg.steps || opts.stopAfter === step;
  let diverged = false, interruptedAt = 0;
  try {
    if (trainer.step === 0) {
      const e = await trainer.evaluate();
      write({ type: "eval", ...e });
    }
    const t0 = performance.now(), start = trainer.step;
    let lastVal = NaN, badSteps = 0, skipped = 0, lastYield = performance.now();
    let pending: Promise<StepRecord> | null = trainer.step < cfg.steps
      ? trainer.trainStep()
      : null;
    while (pending) {
      // Run ahead by one step unless this one ends at a sync point.
      const next = trainer.step < cfg.steps && !syncPoint(trainer.step) &&
          !opts.stop.requested
        ? trainer.trainStep()
        : null;
      const r = await pending;
      pending = next;
      trainMs += r.ms;
      if (r.skipped) skipped++;
      write({ type: "step", ...r });
      badSteps = Number.isFinite(r.loss) ? 0 : badSteps + 1;
      const done = r.step === cfg.steps;
      if (r.step % cfg.evalEvery === 0 || done) {
        const e = await trainer.evaluate();
        write({ type: "eval", ...e });
        lastVal = e.valLoss;
        const s = e.stability;
        ui.log(
          `${label} step ${r.step}: val ${lastVal.toFixed(4)}, grad norm ${
            r.gradNorm.toFixed(3)
          }` +
            (s
              ? `, Amax gain fwd ${s.maxForwardGain.toPrecision(4)} bwd ${
                s.maxBackwardGain.toPrecision(4)
              }, spread ${e.streamSpread!.at(-1)!.toFixed(3)}`
              : "") +
            (skipped ? `, ${skipped} skipped steps` : ""),
        );
      }
      const elapsed = (performance.now() - t0) / 1000;
      const eta = (elapsed / (r.step - start)) * (cfg.steps - r.step);
      ui.update(
        `${label} step ${r.step}/${cfg.steps}  loss ${r.loss.toFixed(4)}  val ${
          Number.isFinite(lastVal) ? lastVal.toFixed(4) : "-"
        }  ${Math.round(r.tokensPerSec)} tok/s  ETA ${duration(eta)}` +
          (skipped ? `  ${skipped} skipped` : ""),
      );
      if (badSteps >= DIVERGED_STEPS) {
        diverged = true;
        ui.log(
          `${label}: loss not finite for ${DIVERGED_STEPS} steps; training diverged at step ${r.step}`,
        );
        if (pending) {
          write({ type: "step", ...(await pending) });
          pending = null;
        }
        await save();
        break;
      }
      if (
        !pending && (r.step % cfg.checkpointEvery === 0 || done)
      ) await save();
      // Let the SIGINT handler run (every 50 ms is often enough).
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      if (opts.stopAfter === r.step) opts.stop.requested = true;
      if (opts.stop.requested && !done) {
        if (pending) continue; // record the step in flight first
        await save();
        interruptedAt = r.step;
        break;
      }
      if (!pending && trainer.step < cfg.steps) pending = trainer.trainStep();
    }
  } finally {
    log.close();
  }
  ui.clear();
  const { steps, evals } = await readMetrics(dir);
  let sample = "";
  if (opts.sampleBytes > 0) {
    const val = trainer.data.val;
    const prompt = val.subarray(0, Math.min(32, val.length));
    const model = await cpuModelOf(trainer);
    const bytes = generate(model, prompt, opts.sampleBytes, cfg.seed);
    sample = printable(prompt) + printable(bytes);
    await Deno.writeTextFile(join(dir, "sample.txt"), sample);
  }
  const ms = steps.map((s) => s.ms).filter(Number.isFinite).sort((a, b) =>
    a - b
  );
  const stepMs = ms.length ? ms[Math.floor(ms.length / 2)] : NaN;
  const result: RunResult = {
    cfg,
    dir,
    dataName: trainer.data.name,
    entropy: trainer.data.entropy,
    steps,
    evals,
    trainMs,
    profile: trainer.device.profile(),
    flops: flopsPerToken(cfg),
    stepMs,
    tokensPerSec: (cfg.batch * cfg.context * 1000) / stepMs,
    diverged,
    sample,
    device: trainer.device.description,
    bufferBytes: trainer.device.bufferBytes,
  };
  // Ctrl-C: the sample is written; the caller writes the report.
  if (interruptedAt) throw new Interrupted(dir, interruptedAt, result);
  return result;
}

/**
 * A CPU model holding a trainer's current parameters (for sampling: one
 * short forward per generated byte runs faster on the CPU than a GPU
 * round trip).
 *
 * @param trainer The run.
 * @returns The model, batch 1.
 */
export async function cpuModelOf(
  trainer: Trainer,
): Promise<Model<Float32Array>> {
  const model = new Model(trainer.cfg, 1, Float32Array);
  model.params.set((await trainer.device.readState()).params);
  return model;
}

/** Median milliseconds per step of `rounds` bursts of `burst` steps. */
async function burstTimes(
  trainers: Trainer[],
  rounds: number,
  burst: number,
): Promise<number[]> {
  const times: number[][] = trainers.map(() => []);
  for (let i = 0; i < rounds + 1; i++) {
    for (const [k, t] of trainers.entries()) {
      const t0 = performance.now();
      const steps: Promise<StepRecord>[] = [];
      for (let j = 0; j < burst; j++) steps.push(t.trainStep());
      await Promise.all(steps);
      // The first round warms up the JIT and the pipelines.
      if (i > 0) times[k].push((performance.now() - t0) / burst);
    }
  }
  const med = (v: number[]) => v.sort((x, y) => x - y)[v.length >> 1];
  return times.map(med);
}

/**
 * Measures the step time of a mode against a residual network of the same
 * shape, alternating short bursts of steps so that machine noise hits both
 * alike, and takes the medians.
 *
 * @param cfg The run's configuration.
 * @param data Its data.
 * @param factory Builds devices of the run's kind.
 * @param rounds Alternations.
 * @returns The overhead.
 */
export async function measureOverhead(
  cfg: TrainConfig,
  data: Dataset,
  factory: DeviceFactory,
  rounds = 6,
): Promise<Overhead> {
  const mk = async (mode: ConnectionMode) => {
    const c = { ...cfg, mode, steps: 1_000_000 };
    return new Trainer(c, data, await factory.make(c));
  };
  const a = await mk("residual"), b = await mk(cfg.mode);
  const burst = factory.kind === "webgpu" ? 4 : 1;
  try {
    const [residualMs, modeMs] = await burstTimes([a, b], rounds, burst);
    const fr = flopsPerToken({ ...cfg, mode: "residual" }).total;
    return {
      modeMs,
      residualMs,
      measured: modeMs / residualMs - 1,
      expected: flopsPerToken(cfg).total / fr - 1,
      how: `median of ${rounds} alternating ${
        burst > 1 ? `bursts of ${burst} steps` : "steps"
      } after training, on ${factory.description}`,
    };
  } finally {
    a.device.destroy();
    b.device.destroy();
  }
}

/**
 * Measures what `--recompute` saves in device memory and costs in step
 * time, alternating steps of the two variants (WebGPU, HC and mHC).
 *
 * @param cfg The run's configuration.
 * @param data Its data.
 * @param gpu The WebGPU runtime.
 * @param used Whether the run used recompute.
 * @param rounds Alternations.
 * @returns Bytes and step times of both.
 */
export async function measureRecompute(
  cfg: TrainConfig,
  data: Dataset,
  gpu: MhcGpu,
  used: boolean,
  rounds = 6,
): Promise<RecomputeCost> {
  const c = { ...cfg, steps: 1_000_000 };
  const a = new Trainer(c, data, await GpuDevice.create(gpu, c));
  const b = new Trainer(
    c,
    data,
    await GpuDevice.create(gpu, c, { recompute: true }),
  );
  try {
    const [ms, recomputeMs] = await burstTimes([a, b], rounds, 4);
    return {
      used,
      bytes: a.device.bufferBytes,
      recomputeBytes: b.device.bufferBytes,
      ms,
      recomputeMs,
    };
  } finally {
    a.device.destroy();
    b.device.destroy();
  }
}

async function writeOutputs(
  dir: string,
  results: RunResult[],
  ui: ProgressLine,
  compare: boolean,
): Promise<void> {
  const svg = renderReport(results, { compare });
  const reportPath = join(dir, "report.svg");
  await Deno.writeTextFile(reportPath, svg);
  const summary = summaryParagraph(results, reportPath);
  await Deno.writeTextFile(join(dir, "summary.txt"), summary + "\n");
  await Deno.writeTextFile(
    join(dir, "summary.json"),
    json(results.map((r) => ({
      mode: r.cfg.mode,
      dir: r.dir,
      config: r.cfg,
      finalValLoss: r.evals.at(-1)?.valLoss,
      stepMs: r.stepMs,
      tokensPerSec: r.tokensPerSec,
      trainMs: r.trainMs,
      diverged: r.diverged,
      overhead: r.overhead,
      device: r.device,
      bufferBytes: r.bufferBytes,
      recompute: r.recompute,
      flops: r.flops,
      profileMsPerStep: Object.fromEntries(
        Object.entries(r.profile).map(([k, v]) => [k, v / r.steps.length]),
      ),
      stability: r.evals.at(-1)?.stability,
      entropy: r.entropy,
    }))) + "\n",
  );
  for (const r of results) {
    if (r.sample) {
      ui.log(`\n--- sample (${r.cfg.mode}) ---\n${r.sample}\n---`);
    }
  }
  ui.log(`\n${summary}`);
}

async function prepareDir(dir: string): Promise<void> {
  if (await exists(join(dir, CHECKPOINT_FILE))) {
    throw new UsageError(
      `${dir} already holds a run; continue it with --resume ${dir} or choose another --out`,
    );
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(
      `cannot create output directory ${dir} (${
        e instanceof Error ? e.message : e
      })`,
    );
  }
}

/**
 * Trains one mode, fresh or resumed, in its directory.
 *
 * @param cfg The configuration of a fresh run.
 * @param dir The run directory.
 * @param resume Continue the checkpoint in `dir`.
 * @param given Flags from the command line (applied to the checkpoint's
 * configuration on resume).
 * @param opts Options of {@linkcode trainToEnd}.
 * @param factory Builds the device.
 * @param fresh The dataset, when already loaded.
 * @param tellChange Print a changed step count (a `--compare` resume says it
 * once for all modes).
 * @returns The run's results.
 */
async function runOne(
  cfg: TrainConfig,
  dir: string,
  resume: boolean,
  given: Partial<TrainConfig>,
  opts: Omit<TrainOptions, "trainMs">,
  factory: DeviceFactory,
  fresh?: Dataset,
  tellChange = true,
): Promise<RunResult> {
  if (!resume) {
    const data = fresh ?? await loadDataset(cfg);
    await Deno.writeTextFile(join(dir, "config.json"), json(cfg) + "\n");
    await Deno.writeTextFile(join(dir, METRICS_FILE), "");
    opts.announce?.();
    const trainer = new Trainer(cfg, data, await factory.make(cfg));
    opts.ui.log(
      `${cfg.mode}: training ${cfg.layers} blocks × width ${cfg.width}` +
        (cfg.mode === "residual" ? "" : `, n = ${cfg.streams} streams`) +
        ` on ${data.name}, ${cfg.steps} steps of ${
          cfg.batch * cfg.context
        } tokens → ${dir}`,
    );
    try {
      return await trainToEnd(trainer, dir, opts);
    } finally {
      trainer.device.destroy();
    }
  }
  const path = join(dir, CHECKPOINT_FILE);
  const ckpt = await readCheckpoint(path);
  const saved = ckpt.cfg;
  ckpt.cfg = resumeConfig(given, saved);
  checkConfig(ckpt.cfg);
  if (ckpt.cfg.steps < ckpt.state.step) {
    throw new UsageError(
      `--steps ${ckpt.cfg.steps} is below the ${ckpt.state.step} steps already done in ${dir}`,
    );
  }
  const data = await loadDataset(ckpt.cfg);
  const trainer = await restoreTrainer(ckpt, data, path, factory.make);
  opts.announce?.();
  try {
    // Forget log lines written after the checkpoint (a crash, not Ctrl-C).
    // A change logged at this very step belongs to a resume that wrote no
    // checkpoint since: this one replaces it.
    const read = await readMetrics(dir, trainer.step);
    const { steps, evals } = read;
    const resumes = read.resumes.filter((r) => r.step < trainer.step);
    const note = stepsChangeNote(saved, ckpt.cfg);
    if (note !== null) {
      // The schedule change is part of the run: in its config and its log.
      resumes.push({
        step: trainer.step,
        steps: ckpt.cfg.steps,
        was: saved.steps,
        scheduleSteps: ckpt.cfg.scheduleSteps ?? ckpt.cfg.steps,
        note,
      });
      if (tellChange) opts.ui.log(`${ckpt.cfg.mode}: ${note}`);
    }
    await writeAtomic(
      join(dir, "config.json"),
      new TextEncoder().encode(json(ckpt.cfg) + "\n"),
    );
    const order = { step: 0, eval: 1, resume: 2 };
    const lines = [
      ...evals.map((e) => ({ type: "eval" as const, ...e })),
      ...steps.map((s) => ({ type: "step" as const, ...s })),
      ...resumes.map((r) => ({ type: "resume" as const, ...r })),
    ].sort((a, b) => a.step - b.step || order[a.type] - order[b.type]);
    await writeAtomic(
      join(dir, METRICS_FILE),
      new TextEncoder().encode(lines.map((l) => json(l) + "\n").join("")),
    );
    if (trainer.step < ckpt.cfg.steps) {
      const was = ckpt.state.device;
      opts.ui.log(
        `${ckpt.cfg.mode}: resuming ${dir} at step ${trainer.step} of ${ckpt.cfg.steps}` +
          (was && was !== trainer.device.kind
            ? ` (trained on ${was} so far, continuing on ${trainer.device.kind})`
            : ""),
      );
    }
    return await trainToEnd(trainer, dir, {
      ...opts,
      trainMs: ckpt.state.trainMs,
    });
  } finally {
    trainer.device.destroy();
  }
}

/** The device factory of a command; a missing adapter for `webgpu` is a usage error. */
async function factoryFor(cmd: Command): Promise<DeviceFactory> {
  try {
    return await deviceFactory(cmd.device, { recompute: cmd.recompute });
  } catch (e) {
    if (e instanceof GpuError) {
      throw new UsageError(`--device ${cmd.device}: ${e.message}`);
    }
    throw e;
  }
}

/** Overhead (and, on WebGPU, the recompute trade-off) of a finished run. */
async function measureAfter(
  r: RunResult,
  cmd: Command,
  data: Dataset,
  factory: DeviceFactory,
): Promise<void> {
  if (r.cfg.mode === "residual" || r.diverged) return;
  r.overhead = await measureOverhead(r.cfg, data, factory);
  if (factory.gpu) {
    r.recompute = await measureRecompute(
      r.cfg,
      data,
      factory.gpu,
      cmd.recompute,
    );
  }
}

/**
 * Runs a parsed command: one mode, or all three with `--compare`, fresh or
 * resumed.
 *
 * @param cmd The command.
 * @param stop Ctrl-C flag.
 * @param ui Progress output.
 * @param hooks Test hooks: `stopAfter` acts as Ctrl-C after that step.
 * @returns The results, one per mode trained.
 */
export async function execute(
  cmd: Command,
  stop: StopSignal,
  ui: ProgressLine = new ProgressLine(),
  hooks: { stopAfter?: number } = {},
): Promise<RunResult[]> {
  let dir: string, compare: boolean, data: Dataset | undefined;
  if (cmd.resume !== null) {
    dir = cmd.resume;
    if (!(await exists(dir))) {
      throw new UsageError(`--resume ${dir}: no such directory`);
    }
    compare = await exists(join(dir, "compare.json"));
    if (!compare && !(await exists(join(dir, CHECKPOINT_FILE)))) {
      throw new UsageError(`no checkpoint at ${join(dir, CHECKPOINT_FILE)}`);
    }
  } else {
    compare = cmd.compare;
    // Check the data before creating anything.
    data = await loadDataset(cmd.cfg);
    dir = cmd.out ??
      `runs/${compare ? "compare" : cmd.cfg.mode}-${stamp()}`;
    if (compare) {
      if (await exists(join(dir, "compare.json"))) {
        throw new UsageError(
          `${dir} already holds a run; continue it with --resume ${dir} or choose another --out`,
        );
      }
    }
  }
  const factory = await factoryFor(cmd);
  try {
    if (cmd.resume === null) await prepareDir(dir);
    let told = false;
    const base = {
      stop,
      ui,
      // Said once, when the first run starts (after its inputs are checked).
      announce: () => {
        if (told) return;
        told = true;
        if (factory.notice) ui.log(factory.notice);
        ui.log(`device: ${factory.description}`);
      },
      sampleBytes: cmd.sampleBytes,
      stopAfter: hooks.stopAfter,
    };
    if (!compare) {
      let r: RunResult;
      try {
        r = await runOne(
          cmd.cfg,
          dir,
          cmd.resume !== null,
          cmd.given,
          base,
          factory,
          data,
        );
      } catch (e) {
        // Ctrl-C: the report of what was trained so far.
        if (e instanceof Interrupted && e.partial) {
          await writeOutputs(dir, [e.partial], ui, false);
        }
        throw e;
      }
      ui.update("measuring the step-time overhead against residual…");
      await measureAfter(r, cmd, data ?? await loadDataset(r.cfg), factory);
      ui.clear();
      await writeOutputs(dir, [r], ui, false);
      return [r];
    }
    let cfg = cmd.cfg;
    if (cmd.resume === null) {
      await Deno.writeTextFile(
        join(dir, "compare.json"),
        json({ config: cfg, modes: CONNECTION_MODES }) + "\n",
      );
    } else {
      let saved: TrainConfig;
      try {
        saved = JSON.parse(await Deno.readTextFile(join(dir, "compare.json")))
          .config;
      } catch {
        throw new UsageError(`${join(dir, "compare.json")} is corrupt`);
      }
      cfg = resumeConfig(cmd.given, saved);
      const note = stepsChangeNote(saved, cfg);
      if (note !== null) {
        ui.log(`compare: ${note}`);
        await writeAtomic(
          join(dir, "compare.json"),
          new TextEncoder().encode(
            json({ config: cfg, modes: CONNECTION_MODES }) + "\n",
          ),
        );
      }
    }
    const results: RunResult[] = [];
    for (const mode of CONNECTION_MODES) {
      const sub = join(dir, mode);
      const started = await exists(join(sub, CHECKPOINT_FILE));
      if (!started) await prepareDir(sub);
      try {
        results.push(
          await runOne(
            { ...cfg, mode },
            sub,
            started,
            started ? cmd.given : {},
            { ...base, label: mode },
            factory,
            data,
            false,
          ),
        );
      } catch (e) {
        if (e instanceof Interrupted) {
          // The report of what was trained so far; resuming goes through
          // the comparison's directory.
          const done = e.partial ? [...results, e.partial] : results;
          if (done.length) await writeOutputs(dir, done, ui, true);
          throw new Interrupted(dir, e.step);
        }
        throw e;
      }
    }
    // Step-time overhead from alternating steps, not from the runs' medians:
    // the runs happen minutes apart and a shared machine's load drifts.
    ui.update("measuring the step-time overheads against residual…");
    const shared = data ?? await loadDataset(cfg);
    for (const r of results) await measureAfter(r, cmd, shared, factory);
    ui.clear();
    await writeOutputs(dir, results, ui, true);
    return results;
  } finally {
    factory.destroy();
  }
}
