// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Variants of the trainer's dense-layer kernels (src/train/gpu/matmul.ts)
 * tried for issue 11, timed interleaved in one run with the FMA microkernel
 * (bench/kernels/fma.wgsl, the compute roof of the same run), at the default
 * training shapes: 512 tokens (batch 8 × 64), width 64, the four matrices
 * of a block (qkv 64→192, projection 64→64, MLP up 64→256 which is also the
 * LM head, MLP down 256→64), forward and backward. Each variant's outputs
 * are checked against the CPU twin (src/train/ops/matmul.ts) before its row
 * counts.
 *
 * Variants are settings of `matmulTuning`: the tiled kernel that the
 * trainer had first (wgsl/train/matmul.wgsl, 16 × 16 outputs per
 * invocation, every operand a per-invocation load), and the staged kernel
 * (wgsl/train/matmul_staged.wgsl, B staged in workgroup memory and read at
 * constant indices) at several block shapes.
 *
 * `deno run -A tools/with_std.ts run -A bench/matmul_variants.ts [REGEX]`
 * prints the table (only the variants whose name matches REGEX, and the
 * library's), the step's matmul total per variant, and each pipeline's
 * compile time.
 *
 * @module
 */

import {
  encodeMatmulBackward,
  encodeMatmulForward,
  matmulTuning,
} from "../src/train/gpu/matmul.ts";
import { matmulBackward, matmulForward } from "../src/train/ops/matmul.ts";
import { type BenchEnv, benchEnv } from "./_env.ts";
import { shaderFma } from "./_fma.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";

/** One variant: a setting of `matmulTuning`. */
interface Variant {
  name: string;
  tuning: Partial<typeof matmulTuning>;
}

const LIBRARY = { ...matmulTuning };

const VARIANTS: readonly Variant[] = [
  {
    name:
      "library: staged forward and dinp (256 rows × ≤ 64 columns per workgroup), tiled dW",
    tuning: {},
  },
  {
    name: "before: tiled, 16 × 16 outputs per invocation",
    tuning: { staged: false },
  },
  { name: "staged, 64 rows per workgroup", tuning: { wg: 64 } },
  { name: "staged, 2 rows per invocation, 32 columns", tuning: { rpl: 2 } },
  {
    name:
      "staged, 128 invocations × 2 rows × 64 columns (8192 multiply-adds per invocation)",
    tuning: { wg: 128, rpl: 2, budget: 8192 },
  },
  {
    name: "staged dW too, in parts of 32 tokens",
    tuning: { stagedDw: true },
  },
  {
    name: "staged dW too, in parts of 64 tokens",
    tuning: { stagedDw: true, partTokens: 64 },
  },
  {
    name:
      "staged dW too, in parts of 64 tokens, 32 columns (8192 multiply-adds per invocation)",
    tuning: { stagedDw: true, partTokens: 64, dwBudget: 8192 },
  },
  {
    name: "staged, dinp in parts of 64 outputs added by a second pass",
    tuning: { partK: 64 },
  },
];

/** [tokens, C, OC] and how many times a step runs the shape. */
const SHAPES: [number, number, number, number][] = [
  [512, 64, 192, 4], // qkv
  [512, 64, 64, 4], // attention projection
  [512, 64, 256, 5], // MLP up (4) and LM head (1)
  [512, 256, 64, 4], // MLP down
];

/** A measured variant at one shape and pass. */
export interface MatmulVariantRow {
  name: string;
  pass: "forward" | "backward";
  N: number;
  C: number;
  OC: number;
  /** Calls of the shape per training step. */
  perStep: number;
  ms: number;
  gflops: number;
  /** GFLOP/s over the same run's FMA microkernel. */
  ofPeak: number;
  /** Largest |gpu − cpu| over all outputs. */
  check: number;
}

function random(n: number, seed: number): Float32Array {
  let s = seed * 2654435761 >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

function upload(env: BenchEnv, data: Float32Array): GPUBuffer {
  const b = env.device.createBuffer({
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
      GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Float32Array(b.getMappedRange()).set(data);
  b.unmap();
  return b;
}

async function read(env: BenchEnv, b: GPUBuffer, n: number) {
  const r = env.device.createBuffer({
    size: n * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const e = env.device.createCommandEncoder();
  e.copyBufferToBuffer(b, 0, r, 0, n * 4);
  env.device.queue.submit([e.finish()]);
  await r.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(r.getMappedRange().slice(0));
  r.destroy();
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs `record` with `matmulTuning` set to the variant's. */
function withTuning(v: Variant, record: Recorder): Recorder {
  return async (enc) => {
    Object.assign(matmulTuning, LIBRARY, v.tuning);
    try {
      await record(enc);
    } finally {
      Object.assign(matmulTuning, LIBRARY);
    }
  };
}

/**
 * Times every variant at every shape, forward and backward, interleaved
 * with the FMA microkernel.
 *
 * @param env The bench environment.
 * @param log Progress lines.
 * @param match Only variants whose name matches (the library's always runs).
 * @param samples Timed batches per variant.
 * @returns One row per variant, shape and pass, and the FMA GFLOP/s.
 */
export async function runMatmulVariants(
  env: BenchEnv,
  log: (line: string) => void = () => {},
  match?: RegExp,
  samples = 7,
): Promise<{ rows: MatmulVariantRow[]; fma: number }> {
  const { gpu } = env;
  const mine = VARIANTS.filter((v, i) =>
    i === 0 || !match || match.test(v.name)
  );
  const rows: MatmulVariantRow[] = [];
  const fmaWorks = await shaderFma(env);
  let fma = 0;
  try {
    for (const [N, C, OC, perStep] of SHAPES) {
      const x = random(N * C, 1), w = random(OC * C, 2);
      const g = random(N * OC, 3);
      const ref = new Float32Array(N * OC);
      matmulForward(ref, x, w, N, C, OC);
      const dinpRef = new Float32Array(N * C), dwRef = new Float32Array(OC * C);
      matmulBackward(dinpRef, dwRef, g, x, w, N, C, OC);
      const inp = upload(env, x), wb = upload(env, w), dout = upload(env, g);
      const out = upload(env, new Float32Array(N * OC));
      const dinp = upload(env, new Float32Array(N * C));
      const dw = upload(env, new Float32Array(OC * C));
      try {
        for (const pass of ["forward", "backward"] as const) {
          const works = mine.map((v) => ({
            v,
            label: `matmul ${pass} ${v.name}`,
            record: withTuning(
              v,
              pass === "forward"
                ? (e) =>
                  encodeMatmulForward(gpu, e, { out, inp, w: wb }, {
                    N,
                    C,
                    OC,
                  })
                : (e) =>
                  encodeMatmulBackward(gpu, e, { dinp, dw, dout, inp, w: wb }, {
                    N,
                    C,
                    OC,
                  }),
            ),
          }));
          // Compile times: the first call of each variant compiles.
          for (const w of works) {
            const t0 = performance.now();
            await runBatch(env, w.label, w.record, 1);
            log(
              `${w.label} ${C}→${OC}: first call (compiles) ${
                (performance.now() - t0).toFixed(0)
              } ms`,
            );
          }
          const fmaW = fmaWorks.map((f) => ({
            label: `fma ${f.entry}`,
            record: f.record,
          }));
          const t = await timeGpuMany(env, [...fmaW, ...works], {
            reps: 10,
            samples,
            batchMs: 150,
          });
          const peak = Math.max(
            ...fmaWorks.map((f, i) => f.flops / t[i].ms / 1e6),
          );
          fma = Math.max(fma, peak);
          for (const [i, w] of works.entries()) {
            // Check: run once, read, compare every element.
            await runBatch(env, w.label, w.record, 1);
            const check = pass === "forward"
              ? maxDiff(await read(env, out, N * OC), ref)
              : Math.max(
                maxDiff(await read(env, dinp, N * C), dinpRef),
                maxDiff(await read(env, dw, OC * C), dwRef),
              );
            const ms = t[fmaW.length + i].ms;
            const flops = 2 * N * C * OC * (pass === "forward" ? 1 : 2);
            const gflops = flops / ms / 1e6;
            rows.push({
              name: w.v.name,
              pass,
              N,
              C,
              OC,
              perStep,
              ms,
              gflops,
              ofPeak: gflops / peak,
              check,
            });
            log(
              `${w.label} ${C}→${OC}: ${ms.toPrecision(3)} ms, ${
                gflops.toFixed(1)
              } GFLOP/s, ${(100 * gflops / peak).toFixed(0)} % of FMA ${
                peak.toFixed(1)
              }, check ${check.toExponential(1)}`,
            );
          }
        }
      } finally {
        for (const b of [inp, wb, dout, out, dinp, dw]) b.destroy();
      }
    }
  } finally {
    for (const f of fmaWorks) f.dispose();
  }
  return { rows, fma };
}

if (import.meta.main) {
  const env = await benchEnv();
  const { rows, fma } = await runMatmulVariants(
    env,
    console.error,
    Deno.args[0] ? new RegExp(Deno.args[0]) : undefined,
  );
  console.table(rows.map((r) => ({
    variant: r.name,
    pass: r.pass,
    "C→OC": `${r.C}→${r.OC}`,
    ms: +r.ms.toPrecision(3),
    "GFLOP/s": +r.gflops.toFixed(1),
    "% FMA": Math.round(100 * r.ofPeak),
    check: r.check.toExponential(1),
  })));
  // The step's matmuls: every shape as often as a step runs it.
  const names = [...new Set(rows.map((r) => r.name))];
  const flops = rows.filter((r) => r.name === names[0]).reduce(
    (s, r) =>
      s + r.perStep * 2 * r.N * r.C * r.OC * (r.pass === "forward" ? 1 : 2),
    0,
  );
  for (const name of names) {
    const ms = rows.filter((r) => r.name === name).reduce(
      (s, r) => s + r.perStep * r.ms,
      0,
    );
    const g = flops / ms / 1e6;
    console.log(
      `step matmuls, ${name}: ${ms.toFixed(1)} ms, ${g.toFixed(1)} GFLOP/s, ${
        (100 * g / fma).toFixed(0)
      } % of FMA ${fma.toFixed(1)}`,
    );
  }
  env.gpu.destroy();
}
