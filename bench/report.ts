// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task bench:report [--section ID] [--out PATH] [--only FAMILIES]`:
 * measures every kernel of bench/_cases.ts, the copy bandwidths and the post
 * variants in ONE run, and writes the results into marked blocks of
 * bench/RESULTS.md (or PATH), keeping everything outside the blocks.
 *
 * - `--section ID` names the blocks (default `lavapipe` on a CPU adapter,
 *   `gpu` otherwise); blocks of other sections are kept.
 * - `--out PATH` writes there instead (the existing file at PATH, else
 *   bench/RESULTS.md, is the starting point).
 * - `--only pre,post` measures only some families (quick looks; the copy
 *   bandwidths are always measured, the variants with `post`); `train`
 *   names the training section (tokens/s of the CPU and WebGPU trainers).
 *
 * WGSL rows: several calls per submit, GPU timestamps where the adapter has
 * them, median of several submits after a warm-up; then each kernel's
 * output on its first tokens is compared with the float64 reference.
 * Reference rows: wall clock, median of 3 calls after a warm-up, on as many
 * tokens as take about 0.2 s per call (ratios are per token).
 *
 * @module
 */

import {
  type BenchEnv,
  benchEnv,
  benchSizes,
  ITERATIONS,
  N,
  SMOKE,
  WIDTHS,
} from "./_env.ts";
import {
  type BenchCase,
  benchCases,
  type Family,
  type Instance,
} from "./_cases.ts";
import { timeCpu, timeGpu, timeGpuMany, type TimingPlan } from "./_timing.ts";
import { type CopyWork, gpuCopy, shaderCopy, tsCopy } from "./_copy.ts";
import { shaderFma } from "./_fma.ts";
import { runPostVariants, type VariantRow } from "./variants.ts";
import {
  type BackwardVariantRow,
  runBackwardVariants,
} from "./backward_variants.ts";
import {
  type CoefficientVariantRow,
  runCoefficientVariants,
} from "./coefficient_variants.ts";
import {
  runSinkhornVariants,
  type SinkhornVariantRow,
} from "./sinkhorn_variants.ts";
import { type MatmulVariantRow, runMatmulVariants } from "./matmul_variants.ts";
import {
  type DenseVariantRow,
  runDenseVariants,
} from "./train_dense_variants.ts";
import {
  measureTraining,
  trainingConfig,
  type TrainingRow,
  trainingTable,
} from "./training.ts";
import { VOCAB } from "../src/train/model.ts";

const FAMILIES: Family[] = ["pre", "post", "coefficients", "sinkhorn"];
/** Target duration of one reference call, in ms. */
const REF_TARGET_MS = 200;

function flag(name: string): string | undefined {
  const i = Deno.args.findIndex((a) =>
    a === `--${name}` || a.startsWith(`--${name}=`)
  );
  if (i < 0) return undefined;
  const a = Deno.args[i];
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : Deno.args[i + 1];
}

/** One measured row. */
interface Row {
  c: BenchCase;
  T: number;
  ms: number;
  clock: string;
  /** Calls per submit (GPU) or per sample. */
  reps: number;
  check?: number;
}

/** The copy bandwidths of the run, GB/s (read + write). */
interface Yardsticks {
  /** `copyBufferToBuffer`. */
  gpu: number;
  /** The copy kernel (kernels/copy.wgsl). */
  shader: number;
  /** `Float32Array.set`. */
  ts: number;
  /** Clock of the GPU copies. */
  clock: string;
  /** Bytes copied. */
  bytes: number;
  /** The FMA microkernel (kernels/fma.wgsl), GFLOP/s: the best entry point. */
  fma: number;
  /** Each FMA entry point's GFLOP/s. */
  fmaEntries: Record<string, number>;
}

const log = (s: string) => console.error(s);

/** Tokens for a reference row: enough for about REF_TARGET_MS per call. */
async function referenceTokens(
  env: BenchEnv,
  c: BenchCase,
  max: number,
): Promise<number> {
  if (SMOKE) return max;
  let T = Math.min(max, 16);
  for (;;) {
    const inst = await c.setup(env, T);
    // The faster of two calls: a GC pause must not shrink T.
    const { samples } = timeCpu(inst.run!, { reps: 1, samples: 2, warmup: 1 });
    const ms = Math.min(...samples);
    inst.dispose();
    if (ms >= REF_TARGET_MS / 4 || T >= max) {
      const want = Math.round(T * REF_TARGET_MS / ms);
      return Math.min(max, Math.max(T, want));
    }
    T = Math.min(max, T * 4);
  }
}

async function measureReference(
  env: BenchEnv,
  c: BenchCase,
  T: number,
): Promise<Row> {
  const Tref = await referenceTokens(env, c, T);
  const inst = await c.setup(env, Tref);
  const t = timeCpu(inst.run!, { reps: 1, samples: 3, warmup: 1 });
  inst.dispose();
  return { c, T: Tref, ms: t.ms, clock: t.clock, reps: 1 };
}

/** Times GPU cases together, samples interleaved, then checks each. */
async function measureGpu(
  env: BenchEnv,
  cases: BenchCase[],
  T: number,
  plan: TimingPlan,
): Promise<Row[]> {
  const insts: Instance[] = [];
  try {
    for (const c of cases) insts.push(await c.setup(env, T));
    const timings = await timeGpuMany(
      env,
      cases.map((c, i) => ({
        label: `${c.op} ${c.backend}`,
        record: insts[i].record!,
      })),
      plan,
    );
    const rows: Row[] = [];
    for (const [i, c] of cases.entries()) {
      const t = timings[i];
      const check = await insts[i].check!();
      rows.push({ c, T, ms: t.ms, clock: t.clock, reps: t.reps, check });
    }
    return rows;
  } finally {
    for (const inst of insts) inst.dispose();
  }
}

async function yardsticks(
  env: BenchEnv,
  bytes: number,
  plan: TimingPlan,
): Promise<Yardsticks> {
  const time = async (label: string, work: CopyWork) => {
    try {
      return await timeGpu(env, label, work.record, plan);
    } finally {
      work.dispose();
    }
  };
  const gpu = await time("copyBufferToBuffer", gpuCopy(env, bytes));
  const shader = await time("copy kernel", await shaderCopy(env, bytes));
  const ts = timeCpu(tsCopy(bytes).run, plan);
  const GBs = (ms: number) => 2 * bytes / ms / 1e6;
  const fmaWorks = await shaderFma(env);
  const fmaEntries: Record<string, number> = {};
  try {
    const t = await timeGpuMany(
      env,
      fmaWorks.map((w) => ({
        label: `fma kernel ${w.entry}`,
        record: w.record,
      })),
      plan,
    );
    fmaWorks.forEach((w, i) => fmaEntries[w.entry] = w.flops / t[i].ms / 1e6);
  } finally {
    for (const w of fmaWorks) w.dispose();
  }
  return {
    gpu: GBs(gpu.ms),
    shader: GBs(shader.ms),
    ts: GBs(ts.ms),
    clock: gpu.clock,
    bytes,
    fma: Math.max(...Object.values(fmaEntries)),
    fmaEntries,
  };
}

// ------------------------------------------------------------ formatting

const fmt = (x: number, digits = 3) => {
  if (!Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  if (Math.abs(x) >= 10 ** digits) {
    return Math.round(x).toLocaleString("en-US");
  }
  return x.toPrecision(digits);
};
const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
const times = (x: number) => `${fmt(x)}×`;
const perToken = (r: { ms: number; T: number }) => r.ms / r.T;

/**
 * Largest `check` that passes: f32 kernels agree with the float64
 * reference to ~1e-7 relative (4e-7 seen), f16 streams to ~1e-3 (7e-4
 * seen, f16 rounding of the outputs). Anything far above is a broken
 * kernel, not rounding.
 */
const checkLimit = (f16: boolean) => f16 ? 1e-2 : 1e-4;
const failures: string[] = [];
/** The check cell; records a failure when `err` exceeds the limit. */
function checkCell(what: string, err: number | undefined, f16: boolean) {
  if (err === undefined) return "";
  if (err <= checkLimit(f16)) return err.toExponential(0);
  failures.push(`${what}: check ${err.toExponential(1)}`);
  return `**${err.toExponential(0)} FAILED**`;
}
const gbs = (r: Row) => r.c.bytes(r.T) / r.ms / 1e6;
const gflops = (r: Row) => r.c.flops(r.T) / r.ms / 1e6;
/** FLOP per byte moved. */
const intensity = (r: Row) => r.c.flops(r.T) / r.c.bytes(r.T);

/**
 * Where a WGSL row stands on the roofline of this run: its GFLOP/s over
 * min(copy-kernel bandwidth × intensity, FMA peak), and which of the two
 * roofs is the lower (memory below the ridge intensity, compute above).
 * The memory roof is the WGSL copy kernel's bandwidth, what a shader can
 * move through loads and stores on this adapter.
 */
function roofline(
  r: Row,
  y: Yardsticks,
): { fraction: number; bound: "memory" | "compute" } {
  const memory = y.shader * intensity(r);
  return {
    fraction: gflops(r) / Math.min(memory, y.fma),
    bound: memory < y.fma ? "memory" : "compute",
  };
}

function find(rows: Row[], op: string, backend: string, C: number) {
  return rows.find((r) =>
    r.c.op === op && r.c.backend === backend && r.c.C === C
  );
}

function unfusedOf(backend: string): string | undefined {
  if (backend === "wgsl") return "wgsl unfused";
  if (backend === "wgsl f16") return "wgsl unfused f16";
  return undefined;
}

function table(rows: Row[], y: Yardsticks): string[] {
  const out = [
    "| op | shape | backend | median ms | MB moved | GB/s | copy GB/s | % of copy | GFLOP/s | FLOP/B | % of roof | bound | tokens/s | × ref | × unfused | check |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const { c } = r;
    const ref = find(rows, c.op, "reference", c.C);
    const uName = unfusedOf(c.backend);
    const unfused = uName ? find(rows, c.op, uName, c.C) : undefined;
    const copy = c.backend === "reference" ? y.ts : y.gpu;
    const roof = c.backend === "reference" ? undefined : roofline(r, y);
    const cells = [
      c.op,
      `${c.n}×${c.C || c.n}, T=${r.T}`,
      c.backend,
      fmt(r.ms),
      fmt(c.bytes(r.T) / 1e6),
      fmt(gbs(r)),
      fmt(copy),
      pct(gbs(r) / copy),
      fmt(gflops(r)),
      fmt(intensity(r)),
      roof ? pct(roof.fraction) : "",
      roof ? roof.bound : "",
      fmt(r.T / r.ms * 1000),
      ref && r !== ref ? times(perToken(ref) / perToken(r)) : "",
      unfused ? times(perToken(unfused) / perToken(r)) : "",
      checkCell(
        `${c.op} ${c.backend} C=${c.C}`,
        r.check,
        c.backend.endsWith("f16"),
      ),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

/**
 * The PyTorch 1.13 figure of issue 11 (CPU, OpenBLAS, 2 threads, this
 * machine): coefficient pass forward + backward, n = 4, C = 1280, T = 2048.
 * Quoted, not measured in this run (PyTorch is not installed here).
 */
const PYTORCH_COEFFICIENT_TOKENS_PER_S = 15_008;

/** Everything the goal lines look at, all from one run. */
interface GoalInputs {
  rows: Row[];
  y: Yardsticks;
  coefficientVariants: CoefficientVariantRow[];
  training: TrainingRow[];
}

/**
 * The goals of issue 11, each "met" or "missed" from this run's figures
 * (not test thresholds).
 */
function goals(
  { rows, y, coefficientVariants, training }: GoalInputs,
): string[] {
  const out: string[] = [];
  const met = (ok: boolean) => ok ? "**met**" : "**missed**";
  // 1. The compute roofline.
  out.push(
    `- Compute roofline: the FMA microkernel (bench/kernels/fma.wgsl) reaches ${
      fmt(y.fma)
    } GFLOP/s (${
      Object.entries(y.fmaEntries).map(([e, g]) => `${e} ${fmt(g)}`).join(", ")
    }) next to the WGSL copy kernel's ${
      fmt(y.shader)
    } GB/s and copyBufferToBuffer's ${fmt(y.gpu)} GB/s; ridge at ${
      fmt(y.fma / y.shader)
    } FLOP/B. Every WGSL row gives its GFLOP/s, FLOP/B, fraction of min(copy-kernel bandwidth × intensity, FMA peak) and the bound that applies: ${
      met(Number.isFinite(y.fma) && y.fma > 0)
    }.`,
  );
  // 2. The coefficient pass against the kernels before issue 11.
  for (const C of WIDTHS) {
    for (const pass of ["forward", "backward"] as const) {
      const lib = coefficientVariants.find((v) =>
        v.C === C && v.pass === pass && v.baseline
      );
      const before = coefficientVariants.find((v) =>
        v.C === C && v.pass === pass && v.before
      );
      if (!lib || !before) continue;
      const r = perToken(before) / perToken(lib);
      out.push(
        `- C = ${C}: coefficient ${pass} ${
          fmt(1000 / perToken(lib))
        } tokens/s, ${
          times(r)
        } the kernels before issue 11 in this run (goal ≥ 10×): ${
          met(r >= 10)
        }.`,
      );
    }
  }
  const coef = ["coefficients", "coefficients backward"].map((op) =>
    find(rows, op, "wgsl", 1280)
  );
  if (coef[0] && coef[1]) {
    const tok = 1000 / (perToken(coef[0]) + perToken(coef[1]));
    out.push(
      `- C = 1280: coefficient forward + backward ${
        fmt(tok)
      } tokens/s against PyTorch's ${
        fmt(PYTORCH_COEFFICIENT_TOKENS_PER_S)
      } (issue 11's measurement on this machine, quoted): ${
        met(tok > PYTORCH_COEFFICIENT_TOKENS_PER_S)
      }.`,
    );
  }
  // 3. The fused post.
  for (const C of WIDTHS) {
    const fused = find(rows, "post", "wgsl", C);
    const unfused = find(rows, "post", "wgsl unfused", C);
    if (!fused) continue;
    if (unfused) {
      const r = perToken(unfused) / perToken(fused);
      out.push(
        `- C = ${C}: fused post ${times(r)} the unfused path (goal ≥ 2×): ${
          met(r >= 2)
        }.`,
      );
    }
    const f = gbs(fused) / y.shader;
    out.push(
      `- C = ${C}: fused post (f32) at ${
        pct(f)
      } of the WGSL copy kernel (goal ≥ 70 %): ${met(f >= 0.7)}.`,
    );
  }
  // 4. The pre and post backwards.
  for (const op of ["pre backward", "post backward"]) {
    for (const C of WIDTHS) {
      const r = find(rows, op, "wgsl", C);
      if (!r) continue;
      const f = gbs(r) / y.shader;
      out.push(
        `- C = ${C}: ${op} (f32) at ${
          pct(f)
        } of the WGSL copy kernel (goal ≥ 50 %): ${met(f >= 0.5)}.`,
      );
    }
  }
  // 5. The WebGPU trainer.
  const mhc = training.find((t) => t.device === "webgpu" && t.mode === "mhc");
  if (mhc && Object.keys(mhc.ops).length) {
    const cfg = trainingConfig();
    const C = cfg.width;
    // qkv, projection, MLP (12·C² per token per block) and the LM head,
    // forward and backward (3× the forward's 2 FLOP per multiply-add).
    const flops = mhc.tokens * 3 * 2 * (12 * C * C * cfg.layers + VOCAB * C);
    const ms = (mhc.ops["matmul"] ?? 0) + (mhc.ops["matmul backward"] ?? 0);
    const g = flops / ms / 1e6;
    out.push(
      `- Training (mHC, WebGPU, default shapes): the matmuls run at ${
        fmt(g)
      } GFLOP/s, ${pct(g / y.fma)} of the FMA peak (goal ≥ 50 %): ${
        met(g >= 0.5 * y.fma)
      }; the step's GPU time split by op: see the training section: ${
        met(true)
      }.`,
    );
  } else {
    out.push(
      "- Training: not measured in this run (`--only` without `train`).",
    );
  }
  // The Sinkhorn goal of the earlier issue.
  const sk = (backend: string) => {
    const f = find(rows, "sinkhorn", backend, 0);
    const b = find(rows, "sinkhorn backward", backend, 0);
    return f && b ? perToken(f) + perToken(b) : undefined;
  };
  const ref = sk("reference"), gpu = sk("wgsl");
  if (ref && gpu) {
    out.push(
      `- Sinkhorn forward + backward (n = ${N}, ${ITERATIONS} iterations): ${
        fmt(1000 / gpu)
      } tokens/s (WGSL) vs ${fmt(1000 / ref)} (reference), ${
        times(ref / gpu)
      } (goal ≥ 10×): ${met(ref / gpu >= 10)}.`,
    );
  }
  out.push(
    "- Not figures of this report: the reference's output arrays (issue 11 point 6: `deno run bench/reference_out.ts`, figures in the prose of bench/RESULTS.md, \"The reference's output arrays\") and a real GPU's figures (point 7, bench/device.sh).",
  );
  return out;
}

function variantTable(rows: VariantRow[], y: Yardsticks): string[] {
  const out = [
    "| variant | C | T | median ms | GB/s | % of copy kernel | × library kernel | × unfused | check |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const base = rows.find((o) => o.C === r.C && o.baseline);
    const same = (kind: VariantRow["yardstick"]) =>
      rows.find((o) => o.C === r.C && o.yardstick === kind);
    const copy = same("copy kernel"), unfused = same("unfused");
    const rate = r.bytes / r.ms / 1e6;
    const cells = [
      r.name,
      r.C,
      r.T,
      fmt(r.ms),
      fmt(rate),
      pct(rate / (copy ? copy.bytes / copy.ms / 1e6 : y.shader)),
      base && !r.yardstick ? times(base.ms / r.ms) : "",
      unfused && !r.yardstick && !r.f16 ? times(unfused.ms / r.ms) : "",
      checkCell(`post variant ${r.name} C=${r.C}`, r.check, r.f16),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

function backwardVariantTable(
  rows: BackwardVariantRow[],
  y: Yardsticks,
): string[] {
  const out = [
    "| op | variant | C | T | median ms | GB/s | % of copy kernel | × library layout | check |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const base = rows.find((o) => o.op === r.op && o.C === r.C && o.baseline);
    const rate = r.bytes / r.ms / 1e6;
    const cells = [
      r.op,
      r.name,
      r.C,
      r.T,
      fmt(r.ms),
      fmt(rate),
      pct(rate / y.shader),
      base ? times(base.ms / r.ms) : "",
      checkCell(`${r.op} variant ${r.name} C=${r.C}`, r.check, r.f16),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

function coefficientVariantTable(rows: CoefficientVariantRow[]): string[] {
  const out = [
    "| variant | pass | C | T | median ms | tokens/s | × library kernels | check |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const base = rows.find((o) =>
      o.pass === r.pass && o.C === r.C && o.baseline
    );
    const cells = [
      r.name,
      r.pass,
      r.C,
      r.T,
      fmt(r.ms),
      fmt(r.T / r.ms * 1000),
      base ? times(base.ms / r.ms) : "",
      checkCell(
        `coefficient variant ${r.name} ${r.pass} C=${r.C}`,
        r.check,
        r.f16,
      ),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

/**
 * The training matmul variants: one row per variant, shape and pass, then
 * each variant's step total (every shape as often as a step runs it).
 */
function matmulVariantTable(rows: MatmulVariantRow[], fma: number): string[] {
  const out = [
    "| variant | pass | C → OC | T | median ms | GFLOP/s | % of FMA peak | × library | check |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const library = rows[0]?.name;
  for (const r of rows) {
    const lib = rows.find((o) =>
      o.name === library && o.pass === r.pass && o.C === r.C && o.OC === r.OC
    );
    // The CPU twin sums in f32 in another order: 1e-4 of the output scale
    // (inputs in [-1, 1), sums over ≤ 512 terms) is far above rounding.
    const label = `matmul variant ${r.name} ${r.pass} ${r.C}→${r.OC}`;
    if (!(r.check <= 1e-3)) failures.push(`${label}: |error| ${r.check}`);
    out.push(
      `| ${
        [
          r.name,
          r.pass,
          `${r.C} → ${r.OC}`,
          r.N,
          fmt(r.ms),
          fmt(r.gflops),
          pct(r.ofPeak),
          lib ? times(lib.ms / r.ms) : "",
          r.check.toExponential(0),
        ].join(" | ")
      } |`,
    );
  }
  out.push(
    "",
    "The step's matmuls (every shape as often as a step runs it, forward and backward):",
    "",
  );
  const names = [...new Set(rows.map((r) => r.name))];
  const flopsOf = (r: MatmulVariantRow) =>
    r.perStep * 2 * r.N * r.C * r.OC * (r.pass === "forward" ? 1 : 2);
  const flops = rows.filter((r) => r.name === library).reduce(
    (s, r) => s + flopsOf(r),
    0,
  );
  for (const name of names) {
    const ms = rows.filter((r) => r.name === name).reduce(
      (s, r) => s + r.perStep * r.ms,
      0,
    );
    const g = flops / ms / 1e6;
    out.push(
      `- ${name}: ${fmt(ms)} ms, ${fmt(g)} GFLOP/s, ${
        pct(g / fma)
      } of the FMA peak measured beside them (${fmt(fma)} GFLOP/s).`,
    );
  }
  return out;
}

/** The trainer's other dense ops: one row per op and kernel. */
function denseVariantTable(rows: DenseVariantRow[]): string[] {
  const out = [
    "| op | variant | launches | median ms | × library | check |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const lib = rows.find((o) => o.op === r.op && o.baseline);
    out.push(
      `| ${
        [
          r.op,
          r.name,
          r.launches,
          fmt(r.ms),
          lib ? times(lib.ms / r.ms) : "",
          r.check.toExponential(0),
        ].join(" | ")
      } |`,
    );
  }
  return out;
}

function sinkhornVariantTable(
  rows: SinkhornVariantRow[],
  main: Row[],
): string[] {
  const out = [
    "| variant | pass | T | median ms | tokens/s | × library kernel | × reference | check |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const base = rows.find((o) => o.pass === r.pass && o.baseline);
    const op = r.pass === "forward" ? "sinkhorn" : "sinkhorn backward";
    const ref = find(main, op, "reference", 0);
    const cells = [
      r.name,
      r.pass,
      r.T,
      fmt(r.ms),
      fmt(r.T / r.ms * 1000),
      base ? times(base.ms / r.ms) : "",
      ref ? times(perToken(ref) / perToken(r)) : "",
      checkCell(`sinkhorn variant ${r.name} ${r.pass}`, r.check, false),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  // Forward + backward of each variant against the reference.
  const ref = ["sinkhorn", "sinkhorn backward"].map((op) =>
    find(main, op, "reference", 0)
  );
  if (ref[0] && ref[1]) {
    const refTok = perToken(ref[0]) + perToken(ref[1]);
    const names = [...new Set(rows.map((r) => r.name))];
    out.push("", "Forward + backward, tokens/s against the reference:", "");
    for (const name of names) {
      const both = rows.filter((r) => r.name === name);
      if (both.length !== 2) continue;
      const tok = both.reduce((a, r) => a + perToken(r), 0);
      out.push(
        `- ${name}: ${fmt(1000 / tok)} tokens/s, ${
          times(refTok / tok)
        } the reference (${fmt(1000 / refTok)} tokens/s).`,
      );
    }
  }
  return out;
}

function replaceBlock(
  text: string,
  name: string,
  body: string[],
  heading: string,
): string {
  const begin = `<!-- ${name} begin -->`, end = `<!-- ${name} end -->`;
  const block = [begin, ...body, end].join("\n");
  const i = text.indexOf(begin), j = text.indexOf(end);
  if (i >= 0 && j > i) {
    return text.slice(0, i) + block + text.slice(j + end.length);
  }
  return `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
}

// ------------------------------------------------------------ main

const env = await benchEnv();
const sizes = benchSizes(env.adapter);
const section = flag("section") ?? (env.adapter.cpu ? "lavapipe" : "gpu");
if (!/^[a-z0-9-]+$/.test(section)) {
  throw new RangeError(`--section must match [a-z0-9-]+, got "${section}"`);
}
const only = flag("only")?.split(",");
const families = FAMILIES.filter((f) => !only || only.includes(f));
const defaultOut = new URL("./RESULTS.md", import.meta.url);
const outPath = flag("out") ?? defaultOut.pathname;
const plan: TimingPlan = {
  reps: sizes.reps,
  samples: sizes.samples,
  batchMs: sizes.batchMs,
};
log(`bench:report on ${env.adapter.name}; section "${section}" -> ${outPath}`);

// Yardsticks: copies of one [T, n, C] f32 buffer at C = 1280.
const y = await yardsticks(env, sizes.tokens(1280) * N * 1280 * 4, plan);
log(
  `copy GB/s: copyBufferToBuffer ${fmt(y.gpu)} (${y.clock}), copy kernel ${
    fmt(y.shader)
  }, Float32Array.set ${fmt(y.ts)}`,
);

/**
 * Writes the blocks of this run into the results file. Called after each
 * family too, so that a run stopped by a time limit still leaves what it
 * measured (marked as partial).
 */
async function writeResults(
  rows: Row[],
  variants: VariantRow[],
  skVariants: SinkhornVariantRow[],
  done: boolean,
  training: TrainingRow[] = [],
  backwardVariants: BackwardVariantRow[] = [],
  coefficientVariants: CoefficientVariantRow[] = [],
  matmulVariants?: { rows: MatmulVariantRow[]; fma: number },
  denseVariants: DenseVariantRow[] = [],
): Promise<void> {
  failures.length = 0;
  const gpuRows = rows.filter((r) => r.c.backend !== "reference");
  const fewest = Math.min(plan.reps, ...gpuRows.map((r) => r.reps));
  const clocks = [...new Set(gpuRows.map((r) => r.clock))].join(" / ");
  const date = new Date().toISOString().slice(0, 10);
  const { deno, v8 } = Deno.version;
  const lines = [
    `_Generated by \`deno task bench:report\` on ${date}; do not edit inside this block._`,
    "",
    `- Adapter: **${env.adapter.name}**${
      env.adapter.cpu ? " (a CPU implementation)" : ""
    }; features used: ${env.adapter.features.join(", ") || "none"}.`,
    `- Deno ${deno} (V8 ${v8}), ${navigator.hardwareConcurrency} logical CPUs, ${Deno.build.os}/${Deno.build.arch}.`,
    `- Copy bandwidth, same run, ${
      fmt(y.bytes / 2 ** 20)
    } MiB copied (bytes read + written): \`copyBufferToBuffer\` **${
      fmt(y.gpu)
    } GB/s** (${y.clock}); a WGSL copy kernel (bench/kernels/copy.wgsl) ${
      fmt(y.shader)
    } GB/s (${
      pct(y.shader / y.gpu)
    } of it); TypeScript \`Float32Array.set\` **${
      fmt(y.ts)
    } GB/s** (wall clock). Compute, same run: a WGSL FMA microkernel (bench/kernels/fma.wgsl) **${
      fmt(y.fma)
    } GFLOP/s**.`,
    `- WGSL rows: the GPU backends of one op and width are timed together, their submits interleaved; up to ${plan.reps} calls per submit (down to ${fewest} where one submit would exceed ${plan.batchMs} ms), median of ${plan.samples} submits (3 for calls longer than that) after a warm-up; ${
      clocks || "no"
    } timing. Reference rows: median of 3 calls after a warm-up, wall clock, on as many tokens as take about ${REF_TARGET_MS} ms per call; × ref and × unfused compare time per token.`,
    "- MB moved: SPEC §9 traffic of one call (each input read once, each output written once; f16 rows store the streams in 2 bytes). " +
    "% of copy: GB/s over `copyBufferToBuffer` for WGSL rows, over `Float32Array.set` for reference rows.",
    `- GFLOP/s: each call's FLOP (bench/_cases.ts: a multiply-add is 2) per second; FLOP/B: FLOP per byte moved; % of roof: GFLOP/s over min(WGSL copy kernel GB/s × FLOP/B, FMA microkernel GFLOP/s) of this run (${
      fmt(y.shader)
    } GB/s, ${
      fmt(y.fma)
    } GFLOP/s); bound: which of the two is lower, memory below the ridge (${
      fmt(y.fma / y.shader)
    } FLOP/B), compute above.`,
    "- check: after timing, each WGSL row's outputs for its first 8 tokens against the float64 reference: largest |error| / largest |value| (the report fails above 1e-4, 1e-2 for f16 streams).",
    ...(done ? [] : [
      `- **Partial: the run stopped (or was still running) after ${
        [...new Set(rows.map((r) => r.c.family))].join(", ")
      }.**`,
    ]),
    ...(SMOKE
      ? [
        "- **Smoke run (MHC_BENCH_SMOKE=1): tiny sizes, the figures mean nothing.**",
      ]
      : []),
    "",
    ...table(rows, y),
    "",
    "Goals (not test thresholds):",
    "",
    ...goals({ rows, y, coefficientVariants, training }),
  ];

  let text: string;
  try {
    text = await Deno.readTextFile(outPath);
  } catch {
    try {
      text = await Deno.readTextFile(defaultOut);
    } catch {
      text = "# Benchmark results\n";
    }
  }
  // `--only train` measures no kernel: keep the kernel tables as they are.
  if (rows.length) {
    text = replaceBlock(
      text,
      `bench:report ${section}`,
      lines,
      `## Measured: ${section}`,
    );
  }
  if (variants.length) {
    text = replaceBlock(text, `bench:variants ${section}`, [
      `_Post-kernel variants (bench/variants.ts), generated in the same run as the table above (${date}); % of copy kernel: GB/s over the copy kernel row of the same width (timed interleaved with the variants); × unfused: time of the unfused row over the variant's (f32 rows)._`,
      "",
      ...variantTable(variants, y),
    ], `### Post variants: ${section}`);
  }
  if (backwardVariants.length) {
    text = replaceBlock(text, `bench:backward-variants ${section}`, [
      `_Pre and post backward layouts (bench/backward_variants.ts), generated in the same run as the table above (${date}); % of copy kernel: GB/s over the WGSL copy kernel's._`,
      "",
      ...backwardVariantTable(backwardVariants, y),
    ], `### Backward variants: ${section}`);
  }
  if (coefficientVariants.length) {
    text = replaceBlock(text, `bench:coefficient-variants ${section}`, [
      `_mHC coefficient pass variants (bench/coefficient_variants.ts, n = ${N}, ${ITERATIONS} iterations), generated in the same run as the table above (${date})._`,
      "",
      ...coefficientVariantTable(coefficientVariants),
    ], `### Coefficient variants: ${section}`);
  }
  if (matmulVariants?.rows.length) {
    text = replaceBlock(text, `bench:matmul-variants ${section}`, [
      `_The trainer's dense-layer kernels (bench/matmul_variants.ts) at the default training shapes (512 tokens, width 64), timed interleaved with the FMA microkernel, generated in the same run (${date}); check: largest |GPU − CPU twin| over every output._`,
      ...(SMOKE
        ? [
          "",
          "**Smoke run (MHC_BENCH_SMOKE=1): a tiny FMA kernel, the figures mean nothing.**",
        ]
        : []),
      "",
      ...matmulVariantTable(matmulVariants.rows, matmulVariants.fma),
    ], `### Training matmul variants: ${section}`);
  }
  if (denseVariants.length) {
    text = replaceBlock(text, `bench:dense-variants ${section}`, [
      `_The trainer's RMSNorm, cross-entropy and embedding backward kernels (bench/train_dense_variants.ts) at the default training shapes (512 rows, width 64, vocabulary 256), old and new interleaved, generated in the same run (${date}); check: largest |a − b| / (|b| + 1e-6) against the library kernel's outputs (the library kernels are held to the CPU twins by tests/train_gpu_*_test.ts)._`,
      "",
      ...denseVariantTable(denseVariants),
    ], `### Training dense-op variants: ${section}`);
  }
  if (skVariants.length) {
    text = replaceBlock(text, `bench:sinkhorn-variants ${section}`, [
      `_Sinkhorn variants (bench/sinkhorn_variants.ts, n = ${N}, ${ITERATIONS} iterations), generated in the same run (${date})._`,
      "",
      ...sinkhornVariantTable(skVariants, rows),
    ], `### Sinkhorn variants: ${section}`);
  }
  if (training.length) {
    text = replaceBlock(text, `bench:training ${section}`, [
      `_The trainer, generated in the same run as the tables above (${date}), on ${env.adapter.name} and the CPU._`,
      "",
      ...trainingTable(training),
    ], `### Training: ${section}`);
  }
  const outDir = outPath.slice(0, outPath.lastIndexOf("/") + 1);
  if (outDir) await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(outPath, text);
  log(`wrote ${outPath}`);
  if (done && failures.length) {
    log(
      `CHECK FAILED (output differs from the reference):\n${
        failures.join("\n")
      }`,
    );
    Deno.exitCode = 1;
  }
}

const rows: Row[] = [];
for (const family of families) {
  const cases = benchCases(env, family, WIDTHS);
  // One group per op and width: its GPU backends are timed together.
  const groups = Map.groupBy(cases, (c) => `${c.op}|${c.C}`);
  for (const group of groups.values()) {
    const { C } = group[0];
    const T = C ? sizes.tokens(C) : sizes.sinkhornTokens;
    const measured: Row[] = [];
    for (const c of group.filter((c) => c.backend === "reference")) {
      measured.push(await measureReference(env, c, T));
    }
    const gpuCases = group.filter((c) => c.backend !== "reference");
    measured.push(...await measureGpu(env, gpuCases, T, plan));
    for (const r of measured) {
      log(
        `${r.c.op} C=${r.c.C} ${r.c.backend}: T=${r.T} ${fmt(r.ms)} ms${
          r.check === undefined ? "" : `, check ${r.check.toExponential(1)}`
        }`,
      );
    }
    rows.push(...measured);
  }
  await writeResults(rows, [], [], false);
}
const variants = families.includes("post")
  ? await runPostVariants(env, sizes, log)
  : [];
const backwardVariants = families.includes("pre") ||
    families.includes("post")
  ? await runBackwardVariants(env, sizes, log)
  : [];
const coefficientVariants = families.includes("coefficients")
  ? await runCoefficientVariants(env, sizes, log)
  : [];
const skVariants = families.includes("sinkhorn")
  ? await runSinkhornVariants(env, sizes, log)
  : [];

const training = only && !only.includes("train")
  ? []
  : await measureTraining(env, log);
// The smoke run keeps the library and the kernel before issue 11 (compiling
// every staged variant takes minutes on lavapipe).
const matmulVariants = only && !only.includes("train")
  ? undefined
  : await runMatmulVariants(
    env,
    log,
    SMOKE ? /^before/ : undefined,
    SMOKE ? 1 : 7,
  );
const denseVariants = only && !only.includes("train")
  ? []
  : await runDenseVariants(env, 64, undefined, log);

await writeResults(
  rows,
  variants,
  skVariants,
  true,
  training,
  backwardVariants,
  coefficientVariants,
  matmulVariants,
  denseVariants,
);
