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
import { checkConfig, type Command, resumeConfig } from "./cli.ts";
import type { TrainConfig } from "./config.ts";
import {
  CHECKPOINT_FILE,
  encodeCheckpoint,
  readCheckpoint,
  restoreTrainer,
  writeAtomic,
} from "./checkpoint.ts";
import { type Dataset, fileDataset, syntheticDataset } from "./data.ts";
import { UsageError } from "./errors.ts";
import { type FlopCount, flopsPerToken } from "./flops.ts";
import { duration, ProgressLine } from "./progress.ts";
import { renderReport } from "./report.ts";
import { generate, printable } from "./sample.ts";
import { summaryParagraph } from "./summary.ts";
import { type EvalRecord, type StepRecord, Trainer } from "./trainer.ts";
import type { SourceEntropy } from "./corpus.ts";

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
  constructor(readonly dir: string, readonly step: number) {
    super(
      `interrupted after step ${step}, checkpoint written; resume with: deno task train --resume ${dir}`,
    );
    this.name = "Interrupted";
  }
}

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

/**
 * Reads a run's metrics log.
 *
 * @param dir Run directory.
 * @param upTo Keep records of steps `<= upTo` only.
 * @returns Step and evaluation records.
 */
export async function readMetrics(
  dir: string,
  upTo = Infinity,
): Promise<{ steps: StepRecord[]; evals: EvalRecord[] }> {
  const steps: StepRecord[] = [], evals: EvalRecord[] = [];
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
      });
    } else if (r.type === "eval") {
      evals.push({
        step: r.step,
        valLoss: num(r.valLoss),
        stability: r.stability ?? undefined,
        streamSpread: r.streamSpread ?? undefined,
      });
    }
  }
  return { steps, evals };
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
}

/**
 * Trains a run to its last step, logging metrics, writing checkpoints and
 * reacting to Ctrl-C; then samples text and collects the results.
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
      encodeCheckpoint(trainer, {
        trainMs,
        profile: trainer.profiler.totals(),
      }),
    );
  };
  let diverged = false;
  try {
    if (trainer.step === 0) {
      const e = trainer.evaluate();
      write({ type: "eval", ...e });
    }
    const t0 = performance.now(), start = trainer.step;
    let lastVal = NaN, badSteps = 0, lastYield = performance.now();
    while (trainer.step < cfg.steps) {
      const r = trainer.trainStep();
      trainMs += r.ms;
      write({ type: "step", ...r });
      badSteps = Number.isFinite(r.loss) ? 0 : badSteps + 1;
      const done = r.step === cfg.steps;
      if (r.step % cfg.evalEvery === 0 || done) {
        const e = trainer.evaluate();
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
              : ""),
        );
      }
      const elapsed = (performance.now() - t0) / 1000;
      const eta = (elapsed / (r.step - start)) * (cfg.steps - r.step);
      ui.update(
        `${label} step ${r.step}/${cfg.steps}  loss ${r.loss.toFixed(4)}  val ${
          Number.isFinite(lastVal) ? lastVal.toFixed(4) : "-"
        }  ${Math.round(r.tokensPerSec)} tok/s  ETA ${duration(eta)}`,
      );
      if (badSteps >= DIVERGED_STEPS) {
        diverged = true;
        ui.log(
          `${label}: loss not finite for ${DIVERGED_STEPS} steps; training diverged at step ${r.step}`,
        );
        await save();
        break;
      }
      if (r.step % cfg.checkpointEvery === 0 || done) await save();
      // Let the SIGINT handler run (every 50 ms is often enough).
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      if (opts.stopAfter === r.step) opts.stop.requested = true;
      if (opts.stop.requested && !done) {
        await save();
        ui.clear();
        throw new Interrupted(dir, r.step);
      }
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
    const bytes = generate(trainer.model, prompt, opts.sampleBytes, cfg.seed);
    sample = printable(prompt) + printable(bytes);
    await Deno.writeTextFile(join(dir, "sample.txt"), sample);
  }
  const ms = steps.map((s) => s.ms).filter(Number.isFinite).sort((a, b) =>
    a - b
  );
  const stepMs = ms.length ? ms[Math.floor(ms.length / 2)] : NaN;
  return {
    cfg,
    dir,
    dataName: trainer.data.name,
    entropy: trainer.data.entropy,
    steps,
    evals,
    trainMs,
    profile: trainer.profiler.totals(),
    flops: flopsPerToken(cfg),
    stepMs,
    tokensPerSec: (cfg.batch * cfg.context * 1000) / stepMs,
    diverged,
    sample,
  };
}

/**
 * Measures the step time of a mode against a residual network of the same
 * shape, alternating short bursts of steps so that machine noise hits both
 * alike, and takes the medians.
 *
 * @param cfg The run's configuration.
 * @param data Its data.
 * @param rounds Alternations (each one step of each).
 * @returns The overhead.
 */
export function measureOverhead(
  cfg: TrainConfig,
  data: Dataset,
  rounds = 6,
): Overhead {
  const mk = (mode: ConnectionMode) =>
    new Trainer({ ...cfg, mode, steps: 1_000_000 }, data);
  const a = mk("residual"), b = mk(cfg.mode);
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < rounds + 1; i++) {
    const ra = a.trainStep().ms, rb = b.trainStep().ms;
    if (i > 0) { // the first step warms up the JIT
      ta.push(ra);
      tb.push(rb);
    }
  }
  const med = (v: number[]) => v.sort((x, y) => x - y)[v.length >> 1];
  const residualMs = med(ta), modeMs = med(tb);
  const fr = flopsPerToken({ ...cfg, mode: "residual" }).total;
  return {
    modeMs,
    residualMs,
    measured: modeMs / residualMs - 1,
    expected: flopsPerToken(cfg).total / fr - 1,
    how: `median of ${rounds} alternating steps after training`,
  };
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

async function runOne(
  cfg: TrainConfig,
  dir: string,
  resume: boolean,
  given: Partial<TrainConfig>,
  opts: Omit<TrainOptions, "trainMs">,
  fresh?: Dataset,
): Promise<RunResult> {
  if (!resume) {
    const data = fresh ?? await loadDataset(cfg);
    await Deno.writeTextFile(join(dir, "config.json"), json(cfg) + "\n");
    await Deno.writeTextFile(join(dir, METRICS_FILE), "");
    const trainer = new Trainer(cfg, data);
    opts.ui.log(
      `${cfg.mode}: training ${cfg.layers} blocks × width ${cfg.width}` +
        (cfg.mode === "residual" ? "" : `, n = ${cfg.streams} streams`) +
        ` on ${data.name}, ${cfg.steps} steps of ${
          cfg.batch * cfg.context
        } tokens → ${dir}`,
    );
    return await trainToEnd(trainer, dir, opts);
  }
  const path = join(dir, CHECKPOINT_FILE);
  const ckpt = await readCheckpoint(path);
  ckpt.cfg = resumeConfig(given, ckpt.cfg);
  checkConfig(ckpt.cfg);
  if (ckpt.cfg.steps < ckpt.state.step) {
    throw new UsageError(
      `--steps ${ckpt.cfg.steps} is below the ${ckpt.state.step} steps already done in ${dir}`,
    );
  }
  const data = await loadDataset(ckpt.cfg);
  const trainer = restoreTrainer(ckpt, data, path);
  trainer.profiler.load(ckpt.state.profile ?? {});
  // Forget log lines written after the checkpoint (a crash, not Ctrl-C).
  const { steps, evals } = await readMetrics(dir, trainer.step);
  const lines = [
    ...evals.map((e) => ({ type: "eval", ...e })),
    ...steps.map((s) => ({ type: "step", ...s })),
  ].sort((a, b) => a.step - b.step || (a.type === "eval" ? 1 : -1));
  await writeAtomic(
    join(dir, METRICS_FILE),
    new TextEncoder().encode(lines.map((l) => json(l) + "\n").join("")),
  );
  if (trainer.step < ckpt.cfg.steps) {
    opts.ui.log(
      `${ckpt.cfg.mode}: resuming ${dir} at step ${trainer.step} of ${ckpt.cfg.steps}`,
    );
  }
  return await trainToEnd(trainer, dir, {
    ...opts,
    trainMs: ckpt.state.trainMs,
  });
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
    await prepareDir(dir);
  }
  const base = {
    stop,
    ui,
    sampleBytes: cmd.sampleBytes,
    stopAfter: hooks.stopAfter,
  };
  if (!compare) {
    const r = await runOne(
      cmd.cfg,
      dir,
      cmd.resume !== null,
      cmd.given,
      base,
      data,
    );
    if (r.cfg.mode !== "residual" && !r.diverged) {
      ui.update("measuring the step-time overhead against residual…");
      r.overhead = measureOverhead(r.cfg, data ?? await loadDataset(r.cfg));
      ui.clear();
    }
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
          data,
        ),
      );
    } catch (e) {
      // Resuming goes through the comparison's directory.
      if (e instanceof Interrupted) throw new Interrupted(dir, e.step);
      throw e;
    }
  }
  // Step-time overhead from alternating steps, not from the runs' medians:
  // the runs happen minutes apart and a shared machine's load drifts.
  ui.update("measuring the step-time overheads against residual…");
  const shared = data ?? await loadDataset(cfg);
  for (const r of results) {
    if (r.cfg.mode !== "residual" && !r.diverged) {
      r.overhead = measureOverhead(r.cfg, shared);
    }
  }
  ui.clear();
  await writeOutputs(dir, results, ui, true);
  return results;
}
