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
  /** Model width of the row. */
  width: number;
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
 * The wide configuration of the overhead target (WebGPU only): the
 * defaults at width 256 (8 heads).
 */
export function wideConfig(): TrainConfig {
  return SMOKE
    ? { ...trainingConfig(), width: 32, heads: 2 }
    : { ...DEFAULTS, width: 256, heads: 8 };
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
  const wide = { ...wideConfig(), steps: 1_000_000 };
  const runs: [TrainConfig, DeviceKind][] = [
    ...CONNECTION_MODES.flatMap((mode) =>
      (["cpu", "webgpu"] as const).map((d) =>
        [{ ...base, mode }, d] as [TrainConfig, DeviceKind]
      )
    ),
    [{ ...wide, mode: "residual" }, "webgpu"],
    [{ ...wide, mode: "mhc" }, "webgpu"],
  ];
  for (const [cfg, device] of runs) {
    const dev = device === "cpu"
      ? new CpuDevice(cfg)
      : await GpuDevice.create(env.gpu, cfg);
    pairs.push({
      row: {
        mode: cfg.mode,
        device,
        width: cfg.width,
        ms: NaN,
        tokens: cfg.batch * cfg.context,
        ops: {},
      },
      t: new Trainer(cfg, data, dev),
      times: [],
      warm: {},
    });
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
        `train ${p.row.mode} ${p.row.device} C=${p.row.width}: ${
          p.row.ms.toFixed(1)
        } ms/step, ${Math.round(p.row.tokens * 1000 / p.row.ms)} tokens/s`,
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
  const cfg = trainingConfig(), wide = wideConfig();
  const find = (mode: string, device: string, width: number) =>
    rows.find((r) =>
      r.mode === mode && r.device === device && r.width === width
    );
  const flopOverhead = (c: TrainConfig, mode: TrainConfig["mode"]) =>
    flopsPerToken({ ...c, mode }).total /
      flopsPerToken({ ...c, mode: "residual" }).total - 1;
  const out = [
    ...(SMOKE
      ? [
        "**Smoke run (MHC_BENCH_SMOKE=1): tiny sizes, the figures mean nothing.**",
        "",
      ]
      : []),
    `Configuration: \`deno task train\` defaults (${cfg.layers} blocks, width ${cfg.width}, ${cfg.heads} heads, n = ${cfg.streams}, batch ${cfg.batch} × ${cfg.context} tokens), and the same at width ${wide.width} (${wide.heads} heads) on WebGPU only. Median time per step over interleaved bursts, forward + backward + AdamW.`,
    "",
    "| mode | device | width | ms/step | tokens/s | × cpu | overhead vs residual | FLOP estimate |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const c = r.width === cfg.width ? cfg : wide;
    const res = find("residual", r.device, r.width);
    const cpu = find(r.mode, "cpu", r.width);
    out.push(
      `| ${r.mode} | ${r.device} | ${r.width} | ${fmt(r.ms)} | ${
        Math.round(r.tokens * 1000 / r.ms)
      } | ${r.device === "cpu" || !cpu ? "–" : `${fmt(cpu.ms / r.ms)}×`} | ${
        r.mode === "residual" || !res
          ? "–"
          : `${(100 * (r.ms / res.ms - 1)).toFixed(0)} %`
      } | ${
        r.mode === "residual"
          ? "–"
          : `${(100 * flopOverhead(c, r.mode)).toFixed(0)} %`
      } |`,
    );
  }
  const goals: string[] = [];
  const gm = find("mhc", "webgpu", cfg.width),
    cm = find("mhc", "cpu", cfg.width);
  if (gm && cm) {
    const x = cm.ms / gm.ms;
    goals.push(
      `- WebGPU mHC step at ≥ 3× the CPU trainer's tokens/s (default configuration): ${
        fmt(x)
      }× — **${x >= 3 ? "met" : "missed"}**.`,
    );
  }
  const wr = find("residual", "webgpu", wide.width);
  const wm = find("mhc", "webgpu", wide.width);
  if (wr && wm) {
    const measured = 100 * (wm.ms / wr.ms - 1);
    const est = 100 * flopOverhead(wide, "mhc");
    goals.push(
      `- At width ${wide.width} on WebGPU, mHC's overhead against residual at most the FLOP estimate + 10 points: ${
        measured.toFixed(0)
      } % against ${est.toFixed(0)} % + 10 — **${
        measured <= est + 10 ? "met" : "missed"
      }**.`,
    );
  }
  if (goals.length) out.push("", "Goals (not test thresholds):", "", ...goals);
  const gpuRows = rows.filter((r) =>
    Object.keys(r.ops).length && r.width === cfg.width
  );
  if (gpuRows.length) {
    const names = [...new Set(gpuRows.flatMap((r) => Object.keys(r.ops)))]
      .sort((a, b) =>
        Math.max(...gpuRows.map((r) => r.ops[b] ?? 0)) -
        Math.max(...gpuRows.map((r) => r.ops[a] ?? 0))
      );
    out.push(
      "",
      `Per-op GPU time of one WebGPU step at width ${cfg.width} (ms, timestamp queries around each op):`,
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
