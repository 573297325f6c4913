// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Command-line options of `deno task train`, parsed with `@std/cli` and
 * checked strictly: every mistake becomes one {@linkcode UsageError} line.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { CONNECTION_MODES, type ConnectionMode } from "./connection.ts";
import { DEFAULTS, type TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import { DEVICE_CHOICES, type DeviceChoice } from "./device.ts";
import { learningRate } from "./adamw.ts";

/** Default number of bytes generated after training. */
export const DEFAULT_SAMPLE_BYTES = 300;

/** What the command line asks for. */
export interface Command {
  /** Show the help and exit. */
  help: boolean;
  /** Train residual, HC and mHC and write one combined report. */
  compare: boolean;
  /** The run's configuration (defaults filled in). */
  cfg: TrainConfig;
  /** Options given explicitly on the command line. */
  given: Partial<TrainConfig>;
  /** Output directory (`--out`), or `null` for the default. */
  out: string | null;
  /** Run directory to continue (`--resume`), or `null`. */
  resume: string | null;
  /** Bytes to generate after training. */
  sampleBytes: number;
  /** Where to train: `auto` (WebGPU when an adapter is found), `webgpu`, `cpu`. */
  device: DeviceChoice;
  /** Recompute the HC/mHC site intermediates in the backward (WebGPU). */
  recompute: boolean;
}

interface OptionSpec {
  flag: string;
  key: keyof TrainConfig | "out" | "resume" | "sampleBytes" | "device";
  kind: "int" | "count" | "number" | "mode" | "path" | "device";
  arg: string;
  help: string;
  /** Allowed with --resume (changes nothing that the checkpoint fixes). */
  resumable?: boolean;
}

const OPTIONS: OptionSpec[] = [
  {
    flag: "mode",
    key: "mode",
    kind: "mode",
    arg: "residual|hc|mhc",
    help: "residual connection: plain residual, hyper-connections, or mHC",
  },
  {
    flag: "layers",
    key: "layers",
    kind: "count",
    arg: "N",
    help: "transformer blocks (two residual sites each)",
  },
  { flag: "width", key: "width", kind: "count", arg: "C", help: "model width" },
  {
    flag: "heads",
    key: "heads",
    kind: "count",
    arg: "H",
    help: "attention heads (must divide --width)",
  },
  {
    flag: "context",
    key: "context",
    kind: "count",
    arg: "T",
    help: "context length in bytes",
  },
  {
    flag: "batch",
    key: "batch",
    kind: "count",
    arg: "B",
    help: "windows per step (tokens per step = B × T)",
  },
  {
    flag: "steps",
    key: "steps",
    kind: "count",
    arg: "N",
    help:
      "optimiser steps (with --resume: may be raised; the learning-rate schedule stays the original run's)",
    resumable: true,
  },
  {
    flag: "lr",
    key: "lr",
    kind: "number",
    arg: "X",
    help: "peak learning rate (AdamW; warm-up, then cosine decay to lr/10)",
  },
  {
    flag: "seed",
    key: "seed",
    kind: "int",
    arg: "N",
    help: "seed of the weights, the synthetic corpus and the data order",
  },
  {
    flag: "streams",
    key: "streams",
    kind: "count",
    arg: "n",
    help: "residual streams of HC and mHC (expansion rate)",
  },
  {
    flag: "sinkhorn-iters",
    key: "sinkhornIters",
    kind: "count",
    arg: "N",
    help: "Sinkhorn-Knopp iterations of mHC",
  },
  {
    flag: "warmup",
    key: "warmup",
    kind: "int",
    arg: "N",
    help: "learning-rate warm-up steps",
  },
  {
    flag: "grad-clip",
    key: "gradClip",
    kind: "number",
    arg: "X",
    help: "clip the global gradient norm to X (0: no clipping)",
  },
  {
    flag: "eval-every",
    key: "evalEvery",
    kind: "count",
    arg: "N",
    help: "steps between validation and stability measurements",
    resumable: true,
  },
  {
    flag: "checkpoint-every",
    key: "checkpointEvery",
    kind: "count",
    arg: "N",
    help: "steps between checkpoints (also written at the end and on Ctrl-C)",
    resumable: true,
  },
  {
    flag: "data",
    key: "data",
    kind: "path",
    arg: "FILE",
    help: "train on this UTF-8 text file (last 10% is validation)",
  },
  {
    flag: "out",
    key: "out",
    kind: "path",
    arg: "DIR",
    help: "output directory",
  },
  {
    flag: "resume",
    key: "resume",
    kind: "path",
    arg: "DIR",
    help: "continue the run in DIR from its checkpoint",
  },
  {
    flag: "device",
    key: "device",
    kind: "device",
    arg: "auto|webgpu|cpu",
    help: "where to train: WebGPU when an adapter is found, else the CPU",
    resumable: true,
  },
  {
    flag: "sample-bytes",
    key: "sampleBytes",
    kind: "int",
    arg: "N",
    help: "bytes of text to generate at the end",
    resumable: true,
  },
];

function defaultText(spec: OptionSpec): string {
  switch (spec.key) {
    case "data":
      return "a synthetic corpus with a known entropy rate";
    case "out":
      return "runs/<mode>-<date>-<time>";
    case "resume":
      return "none";
    case "sampleBytes":
      return String(DEFAULT_SAMPLE_BYTES);
    case "device":
      return "auto";
    default:
      return String(DEFAULTS[spec.key]);
  }
}

/** The `--help` text. */
export function helpText(): string {
  const rows = OPTIONS.map((
    o,
  ) => [`--${o.flag} ${o.arg}`, o.help, defaultText(o)]);
  rows.push([
    "--compare",
    "train residual, HC and mHC (same seed and data), one combined report",
    "off",
  ]);
  rows.push([
    "--recompute",
    "WebGPU: recompute each HC/mHC site's intermediates in the backward (less memory)",
    "off",
  ]);
  rows.push(["-h, --help", "show this help", ""]);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  const lines = rows.map(([f, h, d]) =>
    `  ${f.padEnd(w)}${h}${d ? ` (default: ${d})` : ""}`
  );
  return [
    "deno task train: train a small byte-level transformer with residual, HC or mHC",
    "connections, with live progress, a report, checkpoints and resume.",
    "",
    "Usage: deno task train [options]",
    "",
    "Options:",
    ...lines,
    "",
    "Outputs (in the output directory): metrics.jsonl, checkpoint.safetensors,",
    "report.svg, sample.txt, summary.txt. Ctrl-C saves a checkpoint; continue",
    "with --resume DIR (on either device).",
    "",
    "Examples:",
    "  deno task train                         # mHC, n = 4, synthetic corpus",
    "  deno task train --compare               # residual vs HC vs mHC",
    "  deno task train --data book.txt --steps 2000",
    "  deno task train --resume runs/mhc-20260101-120000",
    "  deno task train --device cpu            # the TypeScript trainer",
  ].join("\n");
}

function parseValue(spec: OptionSpec, raw: string): unknown {
  const name = `--${spec.flag}`;
  if (raw === "") throw new UsageError(`${name} needs a value (${spec.arg})`);
  switch (spec.kind) {
    case "count":
    case "int": {
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        throw new UsageError(
          `${name} must be a ${
            spec.kind === "count" ? "positive" : "non-negative"
          } integer, got "${raw}"`,
        );
      }
      const v = Number(raw);
      if (spec.kind === "count" && v < 1) {
        throw new UsageError(
          `${name} must be a positive integer, got "${raw}"`,
        );
      }
      return v;
    }
    case "number": {
      const v = Number(raw);
      if (!/\d/.test(raw) || !Number.isFinite(v)) {
        throw new UsageError(`${name} must be a number, got "${raw}"`);
      }
      return v;
    }
    case "mode":
      if (!(CONNECTION_MODES as readonly string[]).includes(raw)) {
        throw new UsageError(
          `${name} must be one of ${CONNECTION_MODES.join(", ")}, got "${raw}"`,
        );
      }
      return raw as ConnectionMode;
    case "path":
      return raw;
    case "device":
      if (!(DEVICE_CHOICES as readonly string[]).includes(raw)) {
        throw new UsageError(
          `${name} must be one of ${DEVICE_CHOICES.join(", ")}, got "${raw}"`,
        );
      }
      return raw as DeviceChoice;
  }
}

/**
 * Parses and checks the command line.
 *
 * @param args The arguments (`Deno.args`).
 * @returns The command.
 * @throws {UsageError} On any unknown option, missing or bad value, or
 * inconsistent combination.
 */
export function parseCommand(args: string[]): Command {
  const unknown: string[] = [];
  const flags = parseArgs(args, {
    string: OPTIONS.map((o) => o.flag),
    boolean: ["compare", "help", "recompute"],
    alias: { h: "help" },
    unknown: (arg: string) => {
      unknown.push(arg);
      return false;
    },
  });
  if (unknown.length > 0) {
    const first = unknown[0];
    throw new UsageError(
      first.startsWith("-")
        ? `unknown option ${first.split("=")[0]} (see --help)`
        : `unexpected argument "${first}" (see --help)`,
    );
  }
  const record = flags as Record<string, unknown>;
  const given: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const raw = record[spec.flag];
    if (raw === undefined) continue;
    const text = Array.isArray(raw) ? raw.at(-1) : raw;
    given[spec.key] = parseValue(spec, String(text));
  }
  const help = record.help === true;
  const compare = record.compare === true;
  const cfg: TrainConfig = { ...DEFAULTS };
  for (const [k, v] of Object.entries(given)) {
    if (k in cfg) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  const cmd: Command = {
    help,
    compare,
    cfg,
    given: Object.fromEntries(
      Object.entries(given).filter(([k]) => k in DEFAULTS),
    ) as Partial<TrainConfig>,
    out: (given.out as string | undefined) ?? null,
    resume: (given.resume as string | undefined) ?? null,
    sampleBytes: (given.sampleBytes as number | undefined) ??
      DEFAULT_SAMPLE_BYTES,
    device: (given.device as DeviceChoice | undefined) ?? "auto",
    recompute: record.recompute === true,
  };
  if (help) return cmd;
  if (compare && given.mode !== undefined) {
    throw new UsageError("--compare trains every mode; leave out --mode");
  }
  if (cmd.resume !== null) {
    if (cmd.out !== null) {
      throw new UsageError(
        "--resume continues in its own directory; leave out --out",
      );
    }
    if (compare) {
      throw new UsageError(
        "--resume finds out by itself whether DIR is a --compare run; leave out --compare",
      );
    }
  }
  checkConfig(cfg);
  return cmd;
}

/**
 * Checks a configuration's consistency.
 *
 * @param cfg The configuration.
 * @throws {UsageError} When a value is out of range.
 */
export function checkConfig(cfg: TrainConfig): void {
  if (cfg.width % cfg.heads !== 0) {
    throw new UsageError(
      `--heads ${cfg.heads} must divide --width ${cfg.width}`,
    );
  }
  if (!(cfg.lr > 0)) throw new UsageError(`--lr must be > 0, got ${cfg.lr}`);
  if (!(cfg.gradClip >= 0)) {
    throw new UsageError(`--grad-clip must be >= 0, got ${cfg.gradClip}`);
  }
  if (cfg.seed >= 2 ** 32) {
    throw new UsageError(`--seed must be below 2^32, got ${cfg.seed}`);
  }
}

/**
 * For `--resume`: the flags the user may change, and an error for any other
 * flag that contradicts the checkpoint. A changed `--steps` keeps the
 * learning-rate schedule of the original run: `scheduleSteps` records the
 * steps it was planned for (see {@linkcode stepsChangeNote}).
 *
 * @param given Flags from the command line.
 * @param saved The checkpoint's configuration.
 * @returns The configuration to continue with.
 * @throws {UsageError} When a flag contradicts the checkpoint.
 */
export function resumeConfig(
  given: Partial<TrainConfig>,
  saved: TrainConfig,
): TrainConfig {
  const cfg = { ...saved };
  for (const [key, value] of Object.entries(given)) {
    const spec = OPTIONS.find((o) => o.key === key)!;
    const old = (saved as unknown as Record<string, unknown>)[key];
    if (spec.resumable) {
      (cfg as unknown as Record<string, unknown>)[key] = value;
    } else if (value !== old) {
      throw new UsageError(
        `--${spec.flag} cannot change when resuming (the run has ${
          old === null ? "none" : String(old)
        })`,
      );
    }
  }
  if (cfg.steps !== saved.steps) {
    const planned = saved.scheduleSteps ?? saved.steps;
    if (cfg.steps === planned) delete cfg.scheduleSteps;
    else cfg.scheduleSteps = planned;
  }
  return cfg;
}

/**
 * What a changed `--steps` on `--resume` does to the run, in one line.
 *
 * @param saved The configuration the run had.
 * @param cfg The configuration it continues with ({@linkcode resumeConfig}).
 * @returns The line, or `null` when the step count did not change.
 */
export function stepsChangeNote(
  saved: TrainConfig,
  cfg: TrainConfig,
): string | null {
  if (cfg.steps === saved.steps) return null;
  const planned = cfg.scheduleSteps ?? cfg.steps;
  const rate = (step: number) =>
    Number(
      learningRate({
        lr: cfg.lr,
        warmup: cfg.warmup,
        steps: planned,
        minRatio: cfg.minLrRatio,
      }, step).toPrecision(3),
    );
  const head = `--steps ${cfg.steps} (was ${saved.steps}): `;
  if (cfg.steps === planned) {
    return head +
      `the learning-rate schedule is again the one planned for ${planned} steps`;
  }
  const min = Number((cfg.lr * cfg.minLrRatio).toPrecision(3));
  return head +
    (cfg.steps > planned
      ? `the learning rate keeps the schedule planned for ${planned} steps (down to ${min} at step ${planned}) and holds at ${min} for steps ${
        planned + 1
      }-${cfg.steps}`
      : `the learning rate keeps the schedule planned for ${planned} steps, so training stops at lr ${
        rate(cfg.steps - 1)
      } instead of ${min}`);
}
