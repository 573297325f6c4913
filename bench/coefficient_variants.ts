// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Variants of the mHC coefficient pass tried for issue 11, forward and
 * backward, timed on the same buffers in one run: the library's blocked
 * kernels at several block sizes and with their vec4 paths on or off
 * (src/gpu/coefficients.ts `coefficientTuning`), the first blocked kernels
 * with scalar loads (bench/kernels/blocked_scalar_*.wgsl, through the same
 * host code), a per-token loop that reads φ per invocation (the first
 * attempt, forward only; bench/kernels/coefficients_per_token.wgsl), and the
 * kernels as they were before issue 11 (tiles of tokens staged with φ
 * through workgroup memory; bench/kernels/tiled_*.wgsl). Widths: the
 * training width C = 64 and the report's widths. Outputs of the first
 * tokens are checked against the reference before a row counts.
 *
 * `deno run -A bench/coefficient_variants.ts [REGEX [WIDTHS]]` prints the
 * table alone (only the variants whose name matches REGEX, and the
 * library's; WIDTHS such as `1280,2560` limits the widths).
 *
 * @module
 */

import {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  mhcCoefficients,
  mhcCoefficientsBackward,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  type MhcGpu,
  type MhcParams,
} from "../mod.ts";
import {
  type CoefficientTuning,
  coefficientTuning,
} from "../src/gpu/coefficients.ts";
import { DEFAULT_NORM_EPS } from "../src/reference/coefficients.ts";
import { f32Bits, withConstants } from "../src/gpu/specialize.ts";
import { alphasWgsl } from "../src/kernels/alphas.ts";
import { columnSumsWgsl } from "../src/kernels/column_sums.ts";
import { sinkhornCoreWgsl } from "../src/kernels/sinkhorn_core.ts";
import {
  type BenchEnv,
  benchEnv,
  type BenchSizes,
  benchSizes,
  ITERATIONS,
  N,
  SMOKE,
  WIDTHS,
} from "./_env.ts";
import { BufferSet, readF64, readValues, relError } from "./_data.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";

const read = (name: string) =>
  Deno.readTextFile(new URL(`./kernels/${name}`, import.meta.url));
const perTokenWgsl = await read("coefficients_per_token.wgsl");
/** The first blocked kernels: scalar loads of x, the running sums and g_φ. */
const SCALAR_SOURCES = {
  tag: "blocked scalar",
  project: await read("blocked_scalar_project.wgsl"),
  gradX: await read("blocked_scalar_grad_x.wgsl"),
  gradPhi: await read("blocked_scalar_grad_phi.wgsl"),
};
/** The projection as it was before its φ block went to workgroup memory. */
const DIRECT_PROJECT = {
  tag: "direct project",
  project: await read("project_direct.wgsl"),
};
/**
 * The g_x and g_φ blocks with their uniform operand (φ, g_p) copied to
 * workgroup memory first, as the projection does (n = 4 only: they assume
 * blocks of as many rows or tokens as invocations).
 */
const STAGED_BACKWARD = {
  tag: "staged backward",
  gradX: await read("grad_x_staged.wgsl"),
  gradPhi: await read("grad_phi_staged.wgsl"),
};
const tiled = {
  dot: await read("tiled_coefficients_dot.wgsl"),
  forward: await read("tiled_coefficients.wgsl"),
  backward: await read("tiled_coefficients_backward.wgsl"),
  gradPhi: await read("tiled_coefficients_grad_phi.wgsl"),
};

const K = N * N + 2 * N;
const ALPHAS = { alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01 };
const X: [number, number] = [-1, 1];
const PHI: [number, number] = [-0.05, 0.05];
const GRAD: [number, number] = [-1, 1];

/** One variant. */
interface Variant {
  /** Row label. */
  name: string;
  kind: "library" | "per token" | "tiled";
  /** `coefficientTuning` of a library variant (the rest as the library's). */
  tuning?: Partial<CoefficientTuning>;
}

const SCALAR = {
  vectorX: false,
  vectorPhi: false,
  vectorGradP: false,
  vectorGradPhi: false,
  sources: SCALAR_SOURCES,
} as const;

const VARIANTS: readonly Variant[] = [
  {
    name:
      "library: blocks of ≈1536 multiply-adds, projection's φ block in workgroup memory, vec4 x / sums / g_φ / g_p",
    kind: "library",
    tuning: { unrolledFmas: 1536 },
  },
  {
    name:
      "projection reading φ from storage at constant indices (the library before the copy)",
    kind: "library",
    tuning: { unrolledFmas: 1536, sources: DIRECT_PROJECT },
  },
  {
    name: "g_x and g_φ blocks with φ and g_p copied to workgroup memory",
    kind: "library",
    tuning: { unrolledFmas: 1536, sources: STAGED_BACKWARD },
  },
  {
    name: "vec4 blocks of ≈3072 multiply-adds",
    kind: "library",
    tuning: { unrolledFmas: 3072 },
  },
  {
    name: "vec4, projection in 2 passes of 12 outputs",
    kind: "library",
    tuning: { unrolledFmas: 1536, projectOutputs: 12 },
  },
  {
    name: "vec4, projection in 3 passes of 8 outputs",
    kind: "library",
    tuning: { unrolledFmas: 1536, projectOutputs: 8 },
  },
  {
    name: "vec4, projection in 2 passes of 12 outputs, blocks of ≈3072",
    kind: "library",
    tuning: { unrolledFmas: 3072, projectOutputs: 12 },
  },
  {
    name: "vec4 x / sums / g_φ, vec4 uniform loads of φ and g_p",
    kind: "library",
    tuning: {
      unrolledFmas: 1536,
      vectorPhi: true,
      vectorGradP: true,
      sources: DIRECT_PROJECT,
    },
  },
  {
    name: "vec4 x / sums / g_φ, scalar uniform loads of g_p (g_φ blocks)",
    kind: "library",
    tuning: { unrolledFmas: 1536, vectorGradP: false },
  },
  {
    name: "vec4 sums and g_φ, scalar x (the path for C % 4 ≠ 0)",
    kind: "library",
    tuning: { unrolledFmas: 1536, vectorX: false },
  },
  {
    name: "vec4 x and sums, scalar g_φ rows",
    kind: "library",
    tuning: { unrolledFmas: 1536, vectorGradPhi: false },
  },
  {
    name: "scalar loads (first blocked kernels), blocks of ≈1536 multiply-adds",
    kind: "library",
    tuning: { unrolledFmas: 1536, ...SCALAR },
  },
  {
    name: "scalar loads, blocks of ≈768 multiply-adds",
    kind: "library",
    tuning: { unrolledFmas: 768, ...SCALAR },
  },
  {
    name: "scalar loads, blocks of ≈3072 multiply-adds",
    kind: "library",
    tuning: { unrolledFmas: 3072, ...SCALAR },
  },
  {
    name: "per-token loop, φ read by every invocation (forward only)",
    kind: "per token",
  },
  {
    name: "before issue 11: tiles through workgroup memory",
    kind: "tiled",
  },
];

/** A measured variant. */
export interface CoefficientVariantRow {
  /** Variant label. */
  name: string;
  /** Forward or backward. */
  pass: "forward" | "backward";
  /** Width. */
  C: number;
  /** Tokens. */
  T: number;
  /** Median time per call. */
  ms: number;
  /** Fastest sample's time per call (the least disturbed by other load). */
  minMs: number;
  /** True for the library's kernels, the baseline of their pass and width. */
  baseline: boolean;
  /** True for the kernels before issue 11. */
  before: boolean;
  /** Relative error against the reference on the first tokens. */
  check: number;
  /** Always false (f32 streams); for the report's check limits. */
  f16: boolean;
}

/** Tokens of a width: the report's, and a fixed count at the training width. */
function tokensOf(sizes: BenchSizes, C: number): number {
  if (SMOKE) return sizes.tokens(C);
  return C <= 256 ? 2048 : sizes.tokens(C);
}

interface Buffers {
  x: GPUBuffer;
  phi: GPUBuffer;
  bias: GPUBuffer;
  hPre: GPUBuffer;
  hPost: GPUBuffer;
  hRes: GPUBuffer;
  saved: GPUBuffer;
  gradHPre: GPUBuffer;
  gradHPost: GPUBuffer;
  gradHRes: GPUBuffer;
  gradX: GPUBuffer;
  gradPhi: GPUBuffer;
  gradBias: GPUBuffer;
  gradAlpha: GPUBuffer;
  scratch: GPUBuffer;
  /** `saved` in the layout of the kernels before issue 11. */
  tiledSaved: GPUBuffer;
}

const alphaWords = () => [
  f32Bits(ALPHAS.alphaPre),
  f32Bits(ALPHAS.alphaPost),
  f32Bits(ALPHAS.alphaRes),
];

/** The recorders of the kernels before issue 11 (f32, numeric α). */
async function tiledRecorders(
  gpu: MhcGpu,
  b: Buffers,
  C: number,
  T: number,
): Promise<{ forward: Recorder; backward: Recorder }> {
  const n = N, nc = n * C;
  const lanes = n <= 4 ? 8 : 16, tokens = 4 * 64 / lanes;
  const constants = { N: n, CO_KL: lanes, CO_CH: n <= 6 ? 32 : 16 };
  const fwd = await gpu.pipeline({
    label: "tiled forward",
    code: withConstants(
      sinkhornCoreWgsl + tiled.dot + tiled.forward + alphasWgsl,
      constants,
    ),
    entryPoint: "coefficients_forward",
    key: `bench|tiled forward|n=${n}`,
  });
  const bwd = await gpu.pipeline({
    label: "tiled backward",
    code: withConstants(
      sinkhornCoreWgsl + tiled.dot + tiled.backward + alphasWgsl,
      { ...constants, CB_ACCUMULATE: 0 },
    ),
    entryPoint: "coefficients_backward",
    key: `bench|tiled backward|n=${n}`,
  });
  const gradPhi = await gpu.pipeline({
    label: "tiled grad phi",
    code: withConstants(tiled.gradPhi, { N: n }),
    entryPoint: "coefficients_grad_phi",
    key: `bench|tiled grad phi|n=${n}`,
  });
  const sums = await gpu.pipeline({
    label: "column_sums",
    code: columnSumsWgsl,
    entryPoint: "column_sums",
    key: "column_sums",
  });
  const savedW = Math.ceil((K + 1) / 8) * 8;
  const width = Math.ceil((2 * K + 3) / 8) * 8;
  const tok = (ref: GPUBuffer, floats: number) => ({
    name: ref.label,
    ref,
    bytesPerToken: floats * 4,
  });
  const whole = (ref: GPUBuffer, bytes: number) => ({
    name: ref.label,
    ref,
    bytesPerToken: 0,
    size: bytes,
  });
  const settings = [ITERATIONS, 0, 0];
  return {
    forward: (enc) =>
      gpu.encodeTokens(enc, {
        label: "tiled forward",
        pipeline: fwd,
        T,
        buffers: [
          tok(b.x, nc),
          whole(b.phi, nc * K * 4),
          whole(b.bias, K * 4),
          tok(b.hPre, n),
          tok(b.hPost, n),
          tok(b.hRes, n * n),
          tok(b.tiledSaved, savedW),
        ],
        workgroups: (t) => Math.ceil(t / tokens),
        params: (t) =>
          new Uint32Array([
            t,
            nc,
            ...settings,
            f32Bits(DEFAULT_NORM_EPS),
            ...alphaWords(),
          ]),
      }),
    backward(enc) {
      gpu.encodeTokens(enc, {
        label: "tiled backward",
        pipeline: bwd,
        T,
        buffers: [
          tok(b.x, nc),
          whole(b.phi, nc * K * 4),
          tok(b.tiledSaved, savedW),
          tok(b.gradHPre, n),
          tok(b.gradHPost, n),
          tok(b.gradHRes, n * n),
          tok(b.gradX, nc),
          tok(b.scratch, width),
        ],
        workgroups: (t) => Math.ceil(t / tokens),
        params: (t) => new Uint32Array([t, nc, ...settings, ...alphaWords()]),
      });
      gpu.encodeTokens(enc, {
        label: "tiled grad phi",
        pipeline: gradPhi,
        T,
        buffers: [
          tok(b.x, nc),
          tok(b.scratch, width),
          whole(b.gradPhi, nc * K * 4),
        ],
        workgroups: () => Math.ceil(nc / 32),
        params: (t, first) =>
          new Uint32Array([t, nc, first > 0 ? 1 : 0, width]),
      });
      gpu.encodeTokens(enc, {
        label: "tiled sums",
        pipeline: sums,
        T,
        buffers: [
          tok(b.scratch, width),
          whole(b.gradBias, K * 4),
          whole(b.gradAlpha, 12),
        ],
        workgroups: () => K + 3,
        params: (t, first) =>
          new Uint32Array([t, width, K + 3, K, first > 0 ? 1 : 0]),
      });
    },
  };
}

/** The recorder of the per-token loop forward. */
async function perTokenRecorder(
  gpu: MhcGpu,
  b: Buffers,
  C: number,
  T: number,
): Promise<Recorder> {
  const n = N, nc = n * C;
  const pipeline = await gpu.pipeline({
    label: "per-token forward",
    code: withConstants(sinkhornCoreWgsl + perTokenWgsl + alphasWgsl, { N: n }),
    key: `bench|per-token forward|n=${n}`,
  });
  const savedW = Math.ceil((2 * K + 1) / 8) * 8;
  return (enc) =>
    gpu.encodeTokens(enc, {
      label: "per-token forward",
      pipeline,
      T,
      buffers: [
        { name: "x", ref: b.x, bytesPerToken: nc * 4 },
        { name: "phi", ref: b.phi, bytesPerToken: 0, size: nc * K * 4 },
        { name: "bias", ref: b.bias, bytesPerToken: 0, size: K * 4 },
        { name: "hPre", ref: b.hPre, bytesPerToken: n * 4 },
        { name: "hPost", ref: b.hPost, bytesPerToken: n * 4 },
        { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4 },
        { name: "saved", ref: b.saved, bytesPerToken: savedW * 4 },
      ],
      workgroups: (t) => Math.ceil(t / 64),
      params: (t) =>
        new Uint32Array([
          t,
          nc,
          ITERATIONS,
          0,
          0,
          f32Bits(DEFAULT_NORM_EPS),
          ...alphaWords(),
        ]),
    });
}

/** Runs `record` with the library's tuning changed by `tuning`. */
function withTuning(
  tuning: Partial<CoefficientTuning>,
  record: Recorder,
): Recorder {
  return async (enc) => {
    const keep = { ...coefficientTuning };
    Object.assign(coefficientTuning, tuning);
    try {
      await record(enc);
    } finally {
      delete coefficientTuning.sources;
      Object.assign(coefficientTuning, keep);
    }
  };
}

/**
 * Times every variant, forward and backward, at the training width and the
 * report's widths.
 *
 * @param env The bench environment.
 * @param sizes Sizes of the run.
 * @param log Progress lines.
 * @param match Only variants whose name matches (the library's always runs).
 * @param widths The widths to run (default: the training width and the
 *   report's).
 * @returns One row per variant, pass and width.
 */
export async function runCoefficientVariants(
  env: BenchEnv,
  sizes: BenchSizes,
  log: (line: string) => void = () => {},
  match?: RegExp,
  widths: readonly number[] = [64, ...WIDTHS],
): Promise<CoefficientVariantRow[]> {
  const rows: CoefficientVariantRow[] = [];
  const plan = {
    reps: sizes.reps,
    samples: sizes.samples,
    batchMs: sizes.batchMs,
  };
  const { gpu } = env;
  const mine = VARIANTS.filter((v, i) =>
    i === 0 || !match || match.test(v.name)
  );
  for (const C of widths) {
    const n = N, T = tokensOf(sizes, C), k = Math.min(T, 8), nc = n * C;
    const opts = { n, C, T, iterations: ITERATIONS };
    const s = new BufferSet(env);
    try {
      const b: Buffers = {
        x: await s.random("x", T * nc, X, 1),
        phi: await s.random("phi", nc * K, PHI, 2),
        bias: await s.random("bias", K, X, 3),
        hPre: s.empty("hPre", T * n * 4),
        hPost: s.empty("hPost", T * n * 4),
        hRes: s.empty("hRes", T * n * n * 4),
        saved: s.empty("saved", mhcCoefficientsSavedBytes({ n, T })),
        gradHPre: await s.random("gradHPre", T * n, GRAD, 4),
        gradHPost: await s.random("gradHPost", T * n, GRAD, 5),
        gradHRes: await s.random("gradHRes", T * n * n, GRAD, 6),
        gradX: s.empty("gradX", T * nc * 4),
        gradPhi: s.empty("gradPhi", nc * K * 4),
        gradBias: s.empty("gradBias", K * 4),
        gradAlpha: s.empty("gradAlpha", 12),
        scratch: s.empty("scratch", mhcCoefficientsScratchBytes({ n, T })),
        tiledSaved: s.empty("tiledSaved", T * Math.ceil((K + 1) / 8) * 32),
      };
      const params: MhcParams<Float64Array> = {
        phi: await readF64(env, b.phi, nc * K),
        bias: await readF64(env, b.bias, K),
        ...ALPHAS,
      };
      const xs = await readF64(env, b.x, k * nc);
      const ks = { ...opts, T: k };
      const fwdRef = mhcCoefficients(xs, params, ks);
      const bwdRef = mhcCoefficientsBackward(xs, params, fwdRef, {
        hPre: await readF64(env, b.gradHPre, k * n),
        hPost: await readF64(env, b.gradHPost, k * n),
        hRes: await readF64(env, b.gradHRes, k * n * n),
      }, ks);
      const library: Recorder = (enc) =>
        encodeMhcCoefficients(gpu, enc, b, ALPHAS, opts);
      const libraryBackward: Recorder = (enc) =>
        encodeMhcCoefficientsBackward(gpu, enc, b, ALPHAS, opts);
      const t = await tiledRecorders(gpu, b, C, T);
      for (const pass of ["forward", "backward"] as const) {
        const works: { v: Variant; label: string; record: Recorder }[] = [];
        for (const v of mine) {
          let record: Recorder | undefined;
          if (v.kind === "library") {
            record = withTuning(
              v.tuning ?? {},
              pass === "forward" ? library : libraryBackward,
            );
          } else if (v.kind === "tiled") {
            record = pass === "forward" ? t.forward : t.backward;
          } else if (pass === "forward") {
            record = await perTokenRecorder(gpu, b, C, T);
          }
          if (record) {
            works.push({ v, label: `coefficients ${pass} ${v.name}`, record });
          }
        }
        // The backwards read what their forward saved.
        if (pass === "backward") {
          await runBatch(env, "forward", library, 1);
          await runBatch(env, "tiled forward", t.forward, 1);
        }
        const timings = await timeGpuMany(env, works, plan);
        for (const [i, w] of works.entries()) {
          const outs = pass === "forward"
            ? [b.hPre, b.hPost, b.hRes]
            : [b.gradX];
          for (const o of outs) {
            env.device.queue.writeBuffer(o, 0, new Uint8Array(o.size));
          }
          await runBatch(env, w.label, w.record, 1);
          const check = pass === "forward"
            ? relError([
              [await readValues(env, b.hPre, k * n), fwdRef.hPre],
              [await readValues(env, b.hPost, k * n), fwdRef.hPost],
              [await readValues(env, b.hRes, k * n * n), fwdRef.hRes],
            ])
            : relError([[await readValues(env, b.gradX, k * nc), bwdRef.x]]);
          rows.push({
            name: w.v.name,
            pass,
            C,
            T,
            ms: timings[i].ms,
            minMs: Math.min(...timings[i].samples),
            baseline: w.v === VARIANTS[0],
            before: w.v.kind === "tiled",
            check,
            f16: false,
          });
          log(
            `coefficients ${pass} variant ${w.v.name} C=${C}: ${
              timings[i].ms.toPrecision(3)
            } ms, check ${check.toExponential(1)}`,
          );
        }
      }
    } finally {
      s.destroy();
    }
  }
  return rows;
}

if (import.meta.main) {
  // deno run -A bench/coefficient_variants.ts [REGEX]
  const env = await benchEnv();
  const rows = await runCoefficientVariants(
    env,
    benchSizes(env.adapter),
    console.error,
    Deno.args[0] ? new RegExp(Deno.args[0]) : undefined,
    Deno.args[1] ? Deno.args[1].split(",").map(Number) : undefined,
  );
  console.table(rows.map((r) => ({
    variant: r.name,
    pass: r.pass,
    C: r.C,
    T: r.T,
    ms: +r.ms.toPrecision(3),
    "tokens/s": Math.round(r.T / r.ms * 1000),
    check: r.check.toExponential(1),
  })));
  env.gpu.destroy();
}
