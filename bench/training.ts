// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The training section of `deno task bench:report`: tokens/s of the
 * trainer for residual, HC and mHC on the CPU and on WebGPU at the default
 * configuration of `deno task train`, all from one run with the (mode,
 * device) pairs interleaved in bursts so that machine noise hits them alike;
 * each mode's step-time overhead against residual next to the FLOP
 * estimate; and the per-op GPU time of a step (timestamp queries).
 *
 * @module
 */

import type { BenchEnv } from "./_env.ts";
import { SMOKE } from "./_env.ts";
import { DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { CONNECTION_MODES } from "../src/train/connection.ts";
import { syntheticDataset } from "../src/train/data.ts";
import type { DeviceKind } from "../src/train/device.ts";
import { CpuDevice } from "../src/train/cpu/device.ts";
import { GpuDevice } from "../src/train/gpu/device.ts";
import { flopsPerToken } from "../src/train/flops.ts";
import { type StepRecord, Trainer } from "../src/train/trainer.ts";

/** One measured (mode, device) pair. */
export interface TrainingRow {
  mode: TrainConfig["mode"];
  device: DeviceKind;
  /** Median milliseconds per step. */
  ms: number;
  /** Tokens per step. */
  tokens: number;
  /** Per-op GPU milliseconds per step (WebGPU with timestamps). */
  ops: Record<string, number>;
}

/** The configuration measured: `deno task train`'s defaults. */
export function trainingConfig(): TrainConfig {
  return SMOKE
    ? { ...DEFAULTS, layers: 1, width: 16, heads: 2, context: 16, batch: 2 }
    : { ...DEFAULTS };
}

/**
 * Measures every (mode, device) pair in interleaved bursts.
 *
 * @param env The bench environment (its runtime runs the WebGPU trainer).
 * @param log Progress lines.
 * @returns One row per pair.
 */
export async function measureTraining(
  env: BenchEnv,
  log: (s: string) => void,
): Promise<TrainingRow[]> {
  const base = { ...trainingConfig(), steps: 1_000_000 };
  const data = syntheticDataset(base.seed);
  const rounds = SMOKE ? 1 : 5;
  const burst = { cpu: SMOKE ? 1 : 2, webgpu: SMOKE ? 2 : 8 };
  const pairs: {
    row: TrainingRow;
    t: Trainer;
    times: number[];
    warm: Record<string, number>;
  }[] = [];
  for (const mode of CONNECTION_MODES) {
    const cfg = { ...base, mode };
    for (const device of ["cpu", "webgpu"] as const) {
      const dev = device === "cpu"
        ? new CpuDevice(cfg)
        : await GpuDevice.create(env.gpu, cfg);
      pairs.push({
        row: {
          mode,
          device,
          ms: NaN,
          tokens: cfg.batch * cfg.context,
          ops: {},
        },
        t: new Trainer(cfg, data, dev),
        times: [],
        warm: {},
      });
    }
  }
  try {
    // A warm-up burst each (JIT, pipelines), then the timed rounds.
    for (let round = 0; round <= rounds; round++) {
      for (const p of pairs) {
        const k = burst[p.row.device], t0 = performance.now();
        const steps: Promise<StepRecord>[] = [];
        for (let i = 0; i < k; i++) steps.push(p.t.trainStep());
        await Promise.all(steps);
        if (round > 0) p.times.push((performance.now() - t0) / k);
      }
      // Keep the warm-up out of the per-op times.
      if (round === 0) { for (const p of pairs) p.warm = p.t.device.profile(); }
    }
    for (const p of pairs) {
      p.row.ms = p.times.sort((a, b) => a - b)[p.times.length >> 1];
      if (p.row.device === "webgpu") {
        const steps = rounds * burst.webgpu;
        for (const [name, ms] of Object.entries(p.t.device.profile())) {
          p.row.ops[name] = (ms - (p.warm[name] ?? 0)) / steps;
        }
      }
      log(
        `train ${p.row.mode} ${p.row.device}: ${p.row.ms.toFixed(1)} ms/step, ${
          Math.round(p.row.tokens * 1000 / p.row.ms)
        } tokens/s`,
      );
    }
    return pairs.map((p) => p.row);
  } finally {
    for (const p of pairs) p.t.device.destroy();
  }
}

const fmt = (x: number, d = 3) => Number.isFinite(x) ? x.toPrecision(d) : "–";

/**
 * The report lines of the training section.
 *
 * @param rows What {@linkcode measureTraining} returned.
 * @returns Markdown lines.
 */
export function trainingTable(rows: TrainingRow[]): string[] {
  const cfg = trainingConfig();
  const find = (mode: string, device: string) =>
    rows.find((r) => r.mode === mode && r.device === device);
  const flopRes = flopsPerToken({ ...cfg, mode: "residual" }).total;
  const out = [
    `Configuration: \`deno task train\` defaults (${cfg.layers} blocks, width ${cfg.width}, ${cfg.heads} heads, n = ${cfg.streams}, batch ${cfg.batch} × ${cfg.context} tokens). Median time per step over interleaved bursts, forward + backward + AdamW.`,
    "",
    "| mode | device | ms/step | tokens/s | × cpu | overhead vs residual | FLOP estimate |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const res = find("residual", r.device), cpu = find(r.mode, "cpu");
    const flop = flopsPerToken({ ...cfg, mode: r.mode }).total / flopRes - 1;
    out.push(
      `| ${r.mode} | ${r.device} | ${fmt(r.ms)} | ${
        Math.round(r.tokens * 1000 / r.ms)
      } | ${r.device === "cpu" || !cpu ? "–" : `${fmt(cpu.ms / r.ms)}×`} | ${
        r.mode === "residual" || !res
          ? "–"
          : `${(100 * (r.ms / res.ms - 1)).toFixed(0)} %`
      } | ${r.mode === "residual" ? "–" : `${(100 * flop).toFixed(0)} %`} |`,
    );
  }
  const gpuRows = rows.filter((r) => Object.keys(r.ops).length);
  if (gpuRows.length) {
    const names = [...new Set(gpuRows.flatMap((r) => Object.keys(r.ops)))]
      .sort((a, b) =>
        Math.max(...gpuRows.map((r) => r.ops[b] ?? 0)) -
        Math.max(...gpuRows.map((r) => r.ops[a] ?? 0))
      );
    out.push(
      "",
      "Per-op GPU time of one WebGPU step (ms, timestamp queries around each op):",
      "",
      `| op | ${gpuRows.map((r) => r.mode).join(" | ")} |`,
      `| --- | ${gpuRows.map(() => "---:").join(" | ")} |`,
      ...names.map((n) =>
        `| ${n} | ${gpuRows.map((r) => fmt(r.ops[n] ?? NaN)).join(" | ")} |`
      ),
      `| **sum** | ${
        gpuRows.map((r) => fmt(Object.values(r.ops).reduce((a, b) => a + b, 0)))
          .join(" | ")
      } |`,
    );
  }
  return out;
}
