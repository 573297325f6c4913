// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Variants of the fused post kernel tried against the bandwidth numbers
 * (bench-only copies in kernels/post_variants.wgsl): the flat layout of
 * one thread per vector (the library's before issue 11) with several
 * workgroup sizes and vectors per thread, one workgroup per token
 * (coefficients in registers, staged in workgroup memory, or loaded at a
 * workgroup-uniform address), L lanes per token walking the token's vectors
 * (the library's layout now; with fma() and with 2 vectors per iteration),
 * scalar instead of vec4 access, and f16 storage. Each runs on the same
 * buffers as the library kernel, interleaved in the same run with two
 * yardsticks: the WGSL copy kernel moving as many bytes and the unfused
 * post (three passes). Widths: the training width C = 64 and the report's.
 * Every output but the copy's is checked against the reference before it
 * counts.
 *
 * `deno run -A bench/variants.ts [REGEX]` prints the table alone (only the
 * variants whose name matches REGEX, and the library kernel);
 * `deno task bench:report` includes it in bench/RESULTS.md.
 *
 * @module
 */

import {
  encodeMhcPost,
  type MhcGpu,
  mhcPost,
  type StreamPrecision,
} from "../mod.ts";
import { specializeStreams } from "../src/gpu/specialize.ts";
import {
  type BenchEnv,
  benchEnv,
  type BenchSizes,
  benchSizes,
  N,
  SMOKE,
  WIDTHS,
} from "./_env.ts";
import {
  BufferSet,
  elementBytes,
  readF64,
  readValues,
  relError,
} from "./_data.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";
import { shaderCopy } from "./_copy.ts";
import { encodeUnfusedPost } from "./unfused_post.ts";

const variantsWgsl = await Deno.readTextFile(
  new URL("./kernels/post_variants.wgsl", import.meta.url),
);

/** One variant of the post kernel. */
interface Variant {
  /** Row label. */
  name: string;
  /** `"library"` runs `encodeMhcPost`; otherwise an entry point of post_variants.wgsl. */
  entry:
    | "library"
    | "flat"
    | "per_token"
    | "per_token_wg"
    | "per_token_uniform"
    | "lanes"
    | "lanes_fma"
    | "lanes_vpt"
    | "lanes_inline";
  /** Override constants (WG, VPT, TPW, L). */
  constants?: { WG?: number; VPT?: number; TPW?: number; L?: number };
  /** Channels per thread access: 4 (vec4) or 1. Default 4. */
  width?: 1 | 4;
  /** Stream storage. Default f32. */
  precision?: StreamPrecision;
}

/** The variants, the library kernel first (the baseline of its width). */
export const VARIANTS: readonly Variant[] = [
  {
    name:
      "library post.wgsl (1 lane per token up to 64 vectors, else 8; WG 64)",
    entry: "library",
  },
  { name: "flat WG 64", entry: "flat", constants: { WG: 64 } },
  { name: "flat WG 128", entry: "flat", constants: { WG: 128 } },
  {
    name: "flat WG 256 (the library layout before issue 11)",
    entry: "flat",
  },
  { name: "flat WG 512", entry: "flat", constants: { WG: 512 } },
  {
    name: "flat WG 256, 2 vectors/thread",
    entry: "flat",
    constants: { VPT: 2 },
  },
  {
    name: "flat WG 256, 4 vectors/thread",
    entry: "flat",
    constants: { VPT: 4 },
  },
  { name: "flat WG 256, scalar (no vec4)", entry: "flat", width: 1 },
  { name: "per token, WG 64", entry: "per_token", constants: { WG: 64 } },
  { name: "per token, WG 128", entry: "per_token", constants: { WG: 128 } },
  { name: "per token, WG 256", entry: "per_token", constants: { WG: 256 } },
  {
    name: "per token, WG 64, 4 tokens/workgroup",
    entry: "per_token",
    constants: { WG: 64, TPW: 4 },
  },
  {
    name: "per token, WG 64, coefficients in workgroup memory",
    entry: "per_token_wg",
    constants: { WG: 64 },
  },
  {
    name: "per token, WG 64, coefficients at a uniform address",
    entry: "per_token_uniform",
    constants: { WG: 64 },
  },
  {
    name: "per token, WG 256, coefficients at a uniform address",
    entry: "per_token_uniform",
    constants: { WG: 256 },
  },
  { name: "1 lane per token, WG 64", entry: "lanes", constants: { WG: 64 } },
  {
    name: "2 lanes per token, WG 64",
    entry: "lanes",
    constants: { WG: 64, L: 2 },
  },
  {
    name: "4 lanes per token, WG 64",
    entry: "lanes",
    constants: { WG: 64, L: 4 },
  },
  {
    name: "8 lanes per token, WG 64",
    entry: "lanes",
    constants: { WG: 64, L: 8 },
  },
  {
    name: "16 lanes per token, WG 64",
    entry: "lanes",
    constants: { WG: 64, L: 16 },
  },
  {
    name: "8 lanes per token, WG 256",
    entry: "lanes",
    constants: { WG: 256, L: 8 },
  },
  {
    name: "1 lane per token, WG 64, coefficients in private arrays",
    entry: "lanes_inline",
    constants: { WG: 64 },
  },
  {
    name: "8 lanes per token, WG 64, coefficients in private arrays",
    entry: "lanes_inline",
    constants: { WG: 64, L: 8 },
  },
  {
    name: "1 lane per token, WG 64, fma()",
    entry: "lanes_fma",
    constants: { WG: 64 },
  },
  {
    name: "8 lanes per token, WG 64, fma()",
    entry: "lanes_fma",
    constants: { WG: 64, L: 8 },
  },
  {
    name: "1 lane per token, WG 64, 2 vectors/iteration",
    entry: "lanes_vpt",
    constants: { WG: 64, VPT: 2 },
  },
  {
    name: "8 lanes per token, WG 64, 2 vectors/iteration",
    entry: "lanes_vpt",
    constants: { WG: 64, L: 8, VPT: 2 },
  },
  { name: "library, f16 streams", entry: "library", precision: "f16" },
  {
    name: "flat WG 256, f16 streams (the library layout before issue 11)",
    entry: "flat",
    precision: "f16",
  },
  {
    name: "8 lanes per token, WG 64, f16 streams",
    entry: "lanes",
    constants: { WG: 64, L: 8 },
    precision: "f16",
  },
  {
    name: "per token, WG 64, f16 streams",
    entry: "per_token",
    constants: { WG: 64 },
    precision: "f16",
  },
];

/** Inputs and output of the post kernel. */
interface PostBuffers {
  x: GPUBuffer;
  y: GPUBuffer;
  hPost: GPUBuffer;
  hRes: GPUBuffer;
  out: GPUBuffer;
}

/** A measured variant. */
export interface VariantRow {
  /** Variant label. */
  name: string;
  /** Width. */
  C: number;
  /** Tokens. */
  T: number;
  /** Median time per call. */
  ms: number;
  /** SPEC §9 bytes per call. */
  bytes: number;
  /** True for f16 streams. */
  f16: boolean;
  /** True for the library kernel (f32), the baseline of its width. */
  baseline: boolean;
  /** Relative error against the reference on the first tokens (none for the copy kernel). */
  check?: number;
  /**
   * Set on the yardstick rows timed in the same run, f32 streams: the WGSL
   * copy kernel (bench/kernels/copy.wgsl, moving as many bytes as the post)
   * and the unfused post (bench/unfused_post.ts).
   */
  yardstick?: "copy kernel" | "unfused";
}

/** Label of the copy-kernel row. */
export const COPY_ROW =
  "WGSL copy kernel (bench/kernels/copy.wgsl), same bytes";
/** Label of the unfused row. */
export const UNFUSED_ROW = "unfused post, 3 passes (bench/unfused_post.ts)";

async function variantRecorder(
  gpu: MhcGpu,
  v: Variant,
  b: PostBuffers,
  shape: { n: number; C: number; T: number },
): Promise<Recorder> {
  const precision = v.precision ?? "f32";
  if (v.entry === "library") {
    return (enc) => encodeMhcPost(gpu, enc, b, { ...shape, precision });
  }
  const { n, C, T } = shape;
  const width = v.width ?? 4;
  const cv = C / width, es = elementBytes(precision);
  const k = { WG: 256, VPT: 1, TPW: 1, L: 1, ...v.constants };
  const pipeline = await gpu.pipeline({
    label: `post variant ${v.name}`,
    code: specializeStreams(variantsWgsl, { n, width, precision }),
    entryPoint: v.entry,
    constants: { WG: k.WG, VPT: k.VPT, TPW: k.TPW, L: k.L },
  });
  const workgroups = v.entry === "flat"
    ? (t: number) => Math.ceil(t * cv / (k.WG * k.VPT))
    : v.entry.startsWith("lanes")
    ? (t: number) => Math.ceil(t / (k.WG / k.L))
    : (t: number) => Math.ceil(t / k.TPW);
  return (enc) =>
    gpu.encodeTokens(enc, {
      label: `post variant ${v.name}`,
      pipeline,
      T,
      buffers: [
        { name: "x", ref: b.x, bytesPerToken: n * C * es },
        { name: "y", ref: b.y, bytesPerToken: C * es },
        { name: "hPost", ref: b.hPost, bytesPerToken: n * 4 },
        { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4 },
        { name: "out", ref: b.out, bytesPerToken: n * C * es },
      ],
      workgroups,
      params: (t) => new Uint32Array([t, cv]),
    });
}

/**
 * Times every variant at each width on this adapter.
 *
 * @param env The bench environment.
 * @param sizes Sizes of the run.
 * @param log Progress lines.
 * @param match Only variants whose name matches (the library kernel always runs).
 * @returns One row per variant and width.
 */
export async function runPostVariants(
  env: BenchEnv,
  sizes: BenchSizes,
  log: (line: string) => void = () => {},
  match?: RegExp,
): Promise<VariantRow[]> {
  const rows: VariantRow[] = [];
  const plan = {
    reps: sizes.reps,
    samples: sizes.samples,
    batchMs: sizes.batchMs,
  };
  for (const C of [64, ...WIDTHS]) {
    // The training width (C = 64, a fixed 2048 tokens) and the report's.
    const n = N,
      T = C <= 256 && !SMOKE ? 2048 : sizes.tokens(C),
      shape = { n, C, T },
      k = Math.min(T, 8);
    const s = new BufferSet(env);
    try {
      // Inputs in each precision, shared by that precision's variants.
      const sets = new Map<StreamPrecision, {
        b: PostBuffers;
        ref: Float64Array;
      }>();
      for (const p of ["f32", "f16"] as const) {
        if (p === "f16" && !env.gpu.f16) continue;
        const b: PostBuffers = {
          x: await s.random("x", T * n * C, [-1, 1], 1, p),
          y: await s.random("y", T * C, [-1, 1], 2, p),
          hPost: await s.random("hPost", T * n, [0, 2], 3),
          hRes: await s.random("hRes", T * n * n, [0, 0.5], 4),
          out: s.empty("out", T * n * C * elementBytes(p)),
        };
        const ref = mhcPost(
          await readF64(env, b.x, k * n * C, p),
          await readF64(env, b.y, k * C, p),
          await readF64(env, b.hPost, k * n),
          await readF64(env, b.hRes, k * n * n),
          { n, C, T: k },
        );
        sets.set(p, { b, ref });
      }
      const mine = VARIANTS.filter((v) =>
        sets.has(v.precision ?? "f32") &&
        (!match || v === VARIANTS[0] || match.test(v.name))
      );
      const works = [];
      for (const v of mine) {
        const { b } = sets.get(v.precision ?? "f32")!;
        works.push({
          label: `post variant ${v.name}`,
          record: await variantRecorder(env.gpu, v, b, shape),
        });
      }
      // The yardsticks, interleaved with the variants: the copy kernel
      // moving the f32 post's bytes (half read, half written) and the
      // unfused post on the f32 inputs.
      const bytes32 = T * (((n + 1) * C + n * C) * 4 + (n * n + n) * 4);
      const copy = await shaderCopy(env, bytes32 / 2);
      const f32 = sets.get("f32")!;
      const unfused = {
        ...f32.b,
        z: s.empty("z", T * n * C * 4),
        w: s.empty("w", T * n * C * 4),
      };
      works.push({ label: COPY_ROW, record: copy.record });
      works.push({
        label: UNFUSED_ROW,
        record: (enc: GPUCommandEncoder) =>
          encodeUnfusedPost(env.gpu, enc, unfused, shape),
      });
      let timings;
      try {
        timings = await timeGpuMany(env, works, plan);
      } finally {
        copy.dispose();
      }
      const u = mine.length;
      rows.push({
        name: COPY_ROW,
        C,
        T,
        ms: timings[u].ms,
        bytes: 2 * Math.ceil(bytes32 / 2 / 16) * 16,
        f16: false,
        baseline: false,
        yardstick: "copy kernel",
      });
      env.device.queue.writeBuffer(f32.b.out, 0, new Uint8Array(k * n * C * 4));
      await runBatch(env, UNFUSED_ROW, works[u + 1].record, 1);
      rows.push({
        name: UNFUSED_ROW,
        C,
        T,
        ms: timings[u + 1].ms,
        bytes: bytes32,
        f16: false,
        baseline: false,
        check: relError([[
          await readValues(env, f32.b.out, k * n * C),
          f32.ref,
        ]]),
        yardstick: "unfused",
      });
      for (const [i, v] of mine.entries()) {
        const p = v.precision ?? "f32", es = elementBytes(p);
        const { b, ref } = sets.get(p)!;
        // Run once more on a cleared output, so that only this variant's
        // own output can pass the check.
        env.device.queue.writeBuffer(b.out, 0, new Uint8Array(k * n * C * es));
        await runBatch(env, works[i].label, works[i].record, 1);
        const check = relError([[
          await readValues(env, b.out, k * n * C, p),
          ref,
        ]]);
        const ms = timings[i].ms;
        rows.push({
          name: v.name,
          C,
          T,
          ms,
          bytes: T * (((n + 1) * C + n * C) * es + (n * n + n) * 4),
          f16: p === "f16",
          baseline: v === VARIANTS[0],
          check,
        });
        log(
          `variant ${v.name} C=${C}: ${ms.toPrecision(3)} ms, check ${
            check.toExponential(1)
          }`,
        );
      }
    } finally {
      s.destroy();
    }
  }
  return rows;
}

if (import.meta.main) {
  // deno run -A bench/variants.ts [REGEX]: only the variants matching REGEX.
  const env = await benchEnv();
  const rows = await runPostVariants(
    env,
    benchSizes(env.adapter),
    console.error,
    Deno.args[0] ? new RegExp(Deno.args[0]) : undefined,
  );
  const same = (r: VariantRow, kind: VariantRow["yardstick"]) =>
    rows.find((o) => o.C === r.C && o.yardstick === kind);
  console.table(rows.map((r) => {
    const copy = same(r, "copy kernel"), unfused = same(r, "unfused");
    const rate = r.bytes / r.ms / 1e6;
    return {
      variant: r.name,
      C: r.C,
      T: r.T,
      ms: +r.ms.toPrecision(3),
      "GB/s": +rate.toPrecision(3),
      "% of copy kernel": copy
        ? +(100 * rate / (copy.bytes / copy.ms / 1e6)).toPrecision(3)
        : "",
      "× unfused": unfused && !r.yardstick && !r.f16
        ? +(unfused.ms / r.ms).toPrecision(3)
        : "",
      check: r.check?.toExponential(1) ?? "",
    };
  }));
  env.gpu.destroy();
}
