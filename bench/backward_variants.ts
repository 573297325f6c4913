// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Layouts of the pre and post backward kernels tried for issue 11, timed on
 * the same buffers in one run: the library's choice, the library kernels
 * with other lanes per token (src/gpu/_streams.ts `reduceLayout`: 1 lane
 * owns a token and needs no workgroup reduction; L lanes share a token and
 * reduce their partial sums in lane order), and the kernels as they were
 * before issue 11 (one token per workgroup of 64, a tree reduction;
 * bench/kernels/*_tree.wgsl). Widths: the training width C = 64 and the
 * report's widths. Each output is checked against the reference before it
 * counts.
 *
 * `deno run -A bench/backward_variants.ts [REGEX]` prints the table alone
 * (only the variants whose name matches REGEX, and the library kernels).
 *
 * @module
 */

import {
  type MhcGpu,
  mhcPostBackward,
  mhcPreBackward,
  type TokenDispatch,
} from "../mod.ts";
import {
  reduceLayout,
  type StreamLayout,
  streamPipeline,
} from "../src/gpu/_streams.ts";
import { specializeStreams } from "../src/gpu/specialize.ts";
import { postBackwardWgsl } from "../src/kernels/post_backward.ts";
import { preBackwardWgsl } from "../src/kernels/pre_backward.ts";
import {
  type BenchEnv,
  benchEnv,
  type BenchSizes,
  benchSizes,
  N,
  SMOKE,
  WIDTHS,
} from "./_env.ts";
import { BufferSet, readF64, readValues, relError } from "./_data.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";

const read = (name: string) =>
  Deno.readTextFile(new URL(`./kernels/${name}`, import.meta.url));
const treeReduce = await read("token_reduce_tree.wgsl");
const treePost = await read("post_backward_tree.wgsl");
const treePre = await read("pre_backward_tree.wgsl");

/** The ops measured. */
export type BackwardOp = "pre backward" | "post backward";

/** One layout. */
interface Variant {
  /** Row label. */
  name: string;
  /** `"library"`: the library's layout; `"lanes"`: the library kernel with `lanes`; `"tree"`: before issue 11. */
  kind: "library" | "lanes" | "tree";
  /** Lanes per token (`kind: "lanes"`). */
  lanes?: number;
}

const VARIANTS: readonly Variant[] = [
  {
    name: "library (1 lane per token up to 64 vectors, else 8)",
    kind: "library",
  },
  { name: "1 lane per token, WG 64", kind: "lanes", lanes: 1 },
  { name: "4 lanes per token, WG 64", kind: "lanes", lanes: 4 },
  { name: "8 lanes per token, WG 64", kind: "lanes", lanes: 8 },
  { name: "16 lanes per token, WG 64", kind: "lanes", lanes: 16 },
  {
    name: "64 lanes per token (1 token per workgroup)",
    kind: "lanes",
    lanes: 64,
  },
  { name: "before issue 11: 1 token per workgroup of 64, tree", kind: "tree" },
];

/** A measured variant. */
export interface BackwardVariantRow {
  /** Variant label. */
  name: string;
  /** The op. */
  op: BackwardOp;
  /** Width. */
  C: number;
  /** Tokens. */
  T: number;
  /** Median time per call. */
  ms: number;
  /** Bytes moved per call (as in _cases.ts). */
  bytes: number;
  /** True for the library's layout, the baseline of its op and width. */
  baseline: boolean;
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

/** A stream layout of f32 vec4 rows (`C % 4 == 0`). */
function layout(C: number, T: number): StreamLayout {
  return {
    n: N,
    C,
    T,
    precision: "f32",
    width: 4,
    cv: C / 4,
    es: 4,
    as: " as f32",
  };
}

async function recorder(
  gpu: MhcGpu,
  v: Variant,
  op: BackwardOp,
  s: StreamLayout,
  buffers: GPUBuffer[],
  perToken: number[],
): Promise<Recorder> {
  const post = op === "post backward";
  const values = post ? s.n + s.n * s.n : s.n;
  let pipeline: GPUComputePipeline, workgroups: (t: number) => number;
  if (v.kind === "tree") {
    const code = specializeStreams(post ? treePost : treePre, s, [treeReduce])
      .replace(
        /^const ACCUMULATE: u32 = \d+u;/m,
        "const ACCUMULATE: u32 = 0u;",
      );
    pipeline = await gpu.pipeline({
      label: `backward variant ${v.name}`,
      code,
      key: `bench|tree|${op}|n=${s.n}`,
    });
    workgroups = (t) => t;
  } else {
    const l = reduceLayout(s, values, v.lanes);
    pipeline = await streamPipeline(
      gpu,
      post ? "post_backward" : "pre_backward",
      post ? postBackwardWgsl : preBackwardWgsl,
      s,
      l,
      post ? {} : { ACCUMULATE: 0 },
    );
    workgroups = l.workgroups;
  }
  const d: TokenDispatch = {
    label: `backward variant ${v.name}`,
    pipeline,
    T: s.T,
    buffers: buffers.map((ref, i) => ({
      name: `binding ${i + 1}`,
      ref,
      bytesPerToken: perToken[i],
    })),
    workgroups,
    params: (t) => new Uint32Array([t, s.cv]),
  };
  return (enc) => gpu.encodeTokens(enc, d);
}

/**
 * Times every layout of both backwards at the training width and the
 * report's widths.
 *
 * @param env The bench environment.
 * @param sizes Sizes of the run.
 * @param log Progress lines.
 * @param match Only variants whose name matches (the library's always runs).
 * @returns One row per variant, op and width.
 */
export async function runBackwardVariants(
  env: BenchEnv,
  sizes: BenchSizes,
  log: (line: string) => void = () => {},
  match?: RegExp,
): Promise<BackwardVariantRow[]> {
  const rows: BackwardVariantRow[] = [];
  const plan = {
    reps: sizes.reps,
    samples: sizes.samples,
    batchMs: sizes.batchMs,
  };
  const mine = VARIANTS.filter((v, i) =>
    i === 0 || !match || match.test(v.name)
  );
  for (const C of [64, ...WIDTHS]) {
    for (const op of ["pre backward", "post backward"] as const) {
      const n = N, T = tokensOf(sizes, C), k = Math.min(T, 8);
      const s = layout(C, T);
      const set = new BufferSet(env);
      try {
        const post = op === "post backward";
        const x = await set.random("x", T * n * C, [-1, 1], 1);
        let buffers: GPUBuffer[], perToken: number[], outputs: GPUBuffer[];
        let ref: () => Promise<ArrayLike<number>[]>;
        if (post) {
          const y = await set.random("y", T * C, [-1, 1], 2);
          const hPost = await set.random("hPost", T * n, [0, 2], 3);
          const hRes = await set.random("hRes", T * n * n, [0, 0.5], 4);
          const g = await set.random("gradOut", T * n * C, [-1, 1], 5);
          outputs = [
            set.empty("gradX", T * n * C * 4),
            set.empty("gradY", T * C * 4),
            set.empty("gradHPost", T * n * 4),
            set.empty("gradHRes", T * n * n * 4),
          ];
          buffers = [x, y, hPost, hRes, g, ...outputs];
          perToken = [n * C, C, n, n * n, n * C, n * C, C, n, n * n]
            .map((e) => e * 4);
          ref = async () => {
            const r = mhcPostBackward(
              await readF64(env, x, k * n * C),
              await readF64(env, y, k * C),
              await readF64(env, hPost, k * n),
              await readF64(env, hRes, k * n * n),
              await readF64(env, g, k * n * C),
              { n, C, T: k },
            );
            return [r.x, r.y, r.hPost, r.hRes];
          };
        } else {
          const hPre = await set.random("hPre", T * n, [0, 1], 2);
          const gu = await set.random("gradU", T * C, [-1, 1], 3);
          outputs = [
            set.empty("gradX", T * n * C * 4),
            set.empty("gradHPre", T * n * 4),
          ];
          buffers = [x, hPre, gu, ...outputs];
          perToken = [n * C, n, C, n * C, n].map((e) => e * 4);
          ref = async () => {
            const r = mhcPreBackward(
              await readF64(env, x, k * n * C),
              await readF64(env, hPre, k * n),
              await readF64(env, gu, k * C),
              { n, C, T: k },
            );
            return [r.x, r.hPre];
          };
        }
        const want = await ref();
        const works = [];
        for (const v of mine) {
          works.push({
            label: `${op} variant ${v.name}`,
            record: await recorder(env.gpu, v, op, s, buffers, perToken),
          });
        }
        const timings = await timeGpuMany(env, works, plan);
        for (const [i, v] of mine.entries()) {
          // Run once more on cleared outputs: only this variant's own
          // outputs can pass the check.
          for (const o of outputs) {
            env.device.queue.writeBuffer(o, 0, new Uint8Array(o.size));
          }
          await runBatch(env, works[i].label, works[i].record, 1);
          const got = await Promise.all(
            outputs.map((o, j) => readValues(env, o, want[j].length)),
          );
          const check = relError(got.map((g, j) => [g, want[j]]));
          const ms = timings[i].ms;
          rows.push({
            name: v.name,
            op,
            C,
            T,
            ms,
            bytes: perToken.reduce((a, b) => a + b, 0) * T,
            baseline: i === 0,
            check,
            f16: false,
          });
          log(
            `${op} variant ${v.name} C=${C}: ${ms.toPrecision(3)} ms, check ${
              check.toExponential(1)
            }`,
          );
        }
      } finally {
        set.destroy();
      }
    }
  }
  return rows;
}

if (import.meta.main) {
  // deno run -A bench/backward_variants.ts [REGEX]
  const env = await benchEnv();
  const rows = await runBackwardVariants(
    env,
    benchSizes(env.adapter),
    console.error,
    Deno.args[0] ? new RegExp(Deno.args[0]) : undefined,
  );
  console.table(rows.map((r) => ({
    op: r.op,
    variant: r.name,
    C: r.C,
    T: r.T,
    ms: +r.ms.toPrecision(3),
    "GB/s": +(r.bytes / r.ms / 1e6).toPrecision(3),
    check: r.check.toExponential(1),
  })));
  env.gpu.destroy();
}
