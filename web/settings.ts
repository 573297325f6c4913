// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The playground's run settings: the safe limits on each device, and the
 * check that turns the form's text fields into a {@linkcode TrainConfig} or
 * into messages that say what is wrong. Nothing the form holds can reach the
 * trainer without passing {@linkcode checkSettings}. No DOM, no Deno API.
 *
 * @module
 */

import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";

/** The residual connections the page offers, in menu order. */
export const MODES = ["residual", "hc", "mhc"] as const;

/** A residual connection kind. */
export type Mode = typeof MODES[number];

/** How the page names each mode. */
export const MODE_NAMES: Readonly<Record<Mode, string>> = {
  residual: "residual",
  hc: "HC",
  mhc: "mHC",
};

/** The settings the form edits, as the form holds them (text). */
export type SettingsForm = Record<SettingKey, string>;

/** The numeric settings of the form. */
export type NumericKey =
  | "streams"
  | "layers"
  | "width"
  | "heads"
  | "context"
  | "batch"
  | "steps"
  | "lr"
  | "seed";

/** Every setting of the form. */
export type SettingKey = "mode" | NumericKey;

/** Inclusive bounds of one numeric setting. */
export interface Range {
  /** Smallest allowed value. */
  min: number;
  /** Largest allowed value. */
  max: number;
}

/** The limits of one device: a range per numeric setting. */
export interface Limits {
  /** Which device the limits are for, as the messages name it. */
  device: "WebGPU" | "CPU";
  /** The range of each numeric setting. */
  ranges: Readonly<Record<NumericKey, Range>>;
}

/**
 * Limits on WebGPU: within the kernels' bounds (`n ≤ 8` for the Sinkhorn
 * and coefficient kernels), and small enough for a browser tab: the largest
 * model (n = 8, 6 layers, width 128, 16 windows of 128 bytes) holds about
 * 360 MB of GPU buffers (721 MB were measured at batch 32).
 */
export const GPU_LIMITS: Limits = {
  device: "WebGPU",
  ranges: {
    streams: { min: 2, max: 8 },
    layers: { min: 1, max: 6 },
    width: { min: 8, max: 128 },
    heads: { min: 1, max: 8 },
    context: { min: 8, max: 128 },
    batch: { min: 1, max: 16 },
    steps: { min: 1, max: 3000 },
    lr: { min: 1e-5, max: 0.05 },
    seed: { min: 0, max: 2 ** 32 - 1 },
  },
};

/**
 * Limits of the CPU trainer in a Web Worker (one thread, TypeScript): the
 * reduced size, where the largest model still takes about a second a step.
 */
export const CPU_LIMITS: Limits = {
  device: "CPU",
  ranges: {
    streams: { min: 2, max: 4 },
    layers: { min: 1, max: 3 },
    width: { min: 8, max: 64 },
    heads: { min: 1, max: 4 },
    context: { min: 8, max: 64 },
    batch: { min: 1, max: 8 },
    steps: { min: 1, max: 400 },
    lr: { min: 1e-5, max: 0.05 },
    seed: { min: 0, max: 2 ** 32 - 1 },
  },
};

/** How the messages name each setting. */
export const SETTING_NAMES: Readonly<Record<SettingKey, string>> = {
  mode: "Connection",
  streams: "Streams n",
  layers: "Layers",
  width: "Width",
  heads: "Heads",
  context: "Context",
  batch: "Batch",
  steps: "Steps",
  lr: "Learning rate",
  seed: "Seed",
};

/** The form's starting values on each device: a model that learns in seconds. */
export function defaultSettings(limits: Limits): SettingsForm {
  const gpu = limits.device === "WebGPU";
  return {
    mode: "mhc",
    streams: "4",
    layers: gpu ? "4" : "2",
    width: gpu ? "64" : "32",
    heads: gpu ? "4" : "2",
    context: gpu ? "64" : "32",
    batch: gpu ? "8" : "4",
    steps: gpu ? "300" : "120",
    lr: "0.01",
    seed: "1",
  };
}

/** One problem {@linkcode checkSettings} found. */
export interface SettingError {
  /** The setting at fault. */
  key: SettingKey;
  /** What is wrong, as one sentence for the page. */
  message: string;
}

/** What {@linkcode checkSettings} returns. */
export type Checked =
  | { ok: true; cfg: TrainConfig }
  | { ok: false; errors: SettingError[] };

const INTEGER = /^\s*\d+\s*$/;
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Checks the form's settings against a device's limits.
 *
 * @param form The form's text fields.
 * @param limits The device's limits.
 * @returns The run's configuration, or one message per problem.
 */
export function checkSettings(form: SettingsForm, limits: Limits): Checked {
  const errors: SettingError[] = [];
  const mode = form.mode as Mode;
  if (!MODES.includes(mode)) {
    errors.push({
      key: "mode",
      message: `${SETTING_NAMES.mode} must be one of ${
        MODES.map((m) => MODE_NAMES[m]).join(", ")
      }, got "${form.mode}"`,
    });
  }
  const value = {} as Record<NumericKey, number>;
  for (const key of Object.keys(limits.ranges) as NumericKey[]) {
    if (key === "streams" && mode === "residual") {
      value.streams = 1;
      continue;
    }
    const { min, max } = limits.ranges[key];
    const text = form[key] ?? "";
    const isInt = key !== "lr";
    const v = Number(text);
    const shown = `${SETTING_NAMES[key]} must be ${
      isInt ? "an integer" : "a number"
    } from ${min} to ${max}${limitNote(key, limits)}`;
    if (!(isInt ? INTEGER : NUMBER).test(text) || !Number.isFinite(v)) {
      errors.push({ key, message: `${shown}, got "${text.trim()}"` });
    } else if (v < min || v > max) {
      errors.push({ key, message: `${shown}, got ${v}` });
    } else {
      value[key] = v;
    }
  }
  if (
    value.width !== undefined && value.heads !== undefined &&
    value.width % value.heads !== 0
  ) {
    errors.push({
      key: "heads",
      message:
        `${SETTING_NAMES.heads} (${value.heads}) must divide ${SETTING_NAMES.width} (${value.width})`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  const steps = value.steps;
  return {
    ok: true,
    cfg: {
      ...DEFAULTS,
      mode,
      streams: value.streams,
      layers: value.layers,
      width: value.width,
      heads: value.heads,
      context: value.context,
      batch: value.batch,
      steps,
      lr: value.lr,
      seed: value.seed,
      // A short warm-up: runs here are tens to hundreds of steps.
      warmup: Math.min(DEFAULTS.warmup, Math.max(1, Math.floor(steps / 10))),
      evalEvery: evalEvery(steps),
      evalBatches: 1,
      checkpointEvery: steps,
    },
  };
}

function limitNote(key: NumericKey, limits: Limits): string {
  const other = limits.device === "CPU" ? GPU_LIMITS : CPU_LIMITS;
  const mine = limits.ranges[key], theirs = other.ranges[key];
  return mine.min === theirs.min && mine.max === theirs.max
    ? ""
    : ` on the ${limits.device}`;
}

/**
 * Steps between evaluations (validation loss, gains, `H_res`): about 12 per
 * run, at least every 5 steps.
 *
 * @param steps The run's steps.
 * @returns The interval.
 */
export function evalEvery(steps: number): number {
  return Math.max(5, Math.round(steps / 12));
}

/**
 * A short label of a run's configuration, for the legend.
 *
 * @param cfg The configuration.
 * @returns E.g. `mHC n=4 · L2 C32`.
 */
export function runLabel(cfg: TrainConfig): string {
  const mode = MODE_NAMES[cfg.mode as Mode] ?? cfg.mode;
  const n = cfg.mode === "residual" ? "" : ` n=${cfg.streams}`;
  return `${mode}${n} · L${cfg.layers} C${cfg.width}`;
}
