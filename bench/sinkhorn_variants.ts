// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Variants of the Sinkhorn-Knopp kernels tried against the reference
 * (bench-only copy in kernels/sinkhorn_thread.wgsl, eps = 0 only, at most 32
 * iterations): one invocation per matrix, no workgroup exchange, at several
 * workgroup sizes, next to the library kernels, which have since adopted the
 * same layout (with eps > 0, segmented recomputation and n as a constant).
 * Each variant's output is checked against the float64 reference before it
 * counts.
 *
 * `deno run -A bench/sinkhorn_variants.ts` prints the table alone;
 * `deno task bench:report` includes it in bench/RESULTS.md.
 *
 * @module
 */

import {
  encodeSinkhornKnopp,
  encodeSinkhornKnoppBackward,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "../mod.ts";
import {
  type BenchEnv,
  benchEnv,
  type BenchSizes,
  benchSizes,
  ITERATIONS,
  N,
} from "./_env.ts";
import { BufferSet, readF64, readValues, relError } from "./_data.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";

const threadWgsl = await Deno.readTextFile(
  new URL("./kernels/sinkhorn_thread.wgsl", import.meta.url),
);

/** One variant of the Sinkhorn kernels. */
interface Variant {
  /** Row label. */
  name: string;
  /** `"library"`: encodeSinkhornKnopp(Backward); else the thread-per-matrix kernel. */
  kind: "library" | "thread";
  /** Matrices per workgroup of the thread-per-matrix kernel. */
  wg?: number;
}

/** The variants, the library kernels first (the baseline). */
export const SINKHORN_VARIANTS: readonly Variant[] = [
  {
    name: "library (one invocation per matrix, WG 64)",
    kind: "library",
  },
  { name: "one invocation per matrix, WG 32", kind: "thread", wg: 32 },
  { name: "one invocation per matrix, WG 64", kind: "thread", wg: 64 },
  { name: "one invocation per matrix, WG 128", kind: "thread", wg: 128 },
  { name: "one invocation per matrix, WG 256", kind: "thread", wg: 256 },
];

/** A measured variant. */
export interface SinkhornVariantRow {
  /** Variant label. */
  name: string;
  /** `"forward"` or `"backward"`. */
  pass: "forward" | "backward";
  /** Tokens. */
  T: number;
  /** Median time per call. */
  ms: number;
  /** True for the library kernel, the baseline. */
  baseline: boolean;
  /** Relative error against the reference on the first tokens. */
  check: number;
}

async function recorder(
  env: BenchEnv,
  v: Variant,
  pass: "forward" | "backward",
  b: { logits: GPUBuffer; gradOutput: GPUBuffer; out: GPUBuffer },
  opts: { n: number; T: number; iterations: number },
): Promise<Recorder> {
  const { gpu } = env;
  const { n, T } = opts, nn = n * n;
  if (v.kind === "library") {
    return pass === "forward"
      ? (enc) =>
        encodeSinkhornKnopp(gpu, enc, { logits: b.logits, output: b.out }, opts)
      : (enc) =>
        encodeSinkhornKnoppBackward(gpu, enc, {
          logits: b.logits,
          gradOutput: b.gradOutput,
          gradLogits: b.out,
        }, opts);
  }
  const wg = v.wg!;
  const pipeline = await gpu.pipeline({
    label: `sinkhorn variant ${pass} WG ${wg}`,
    code: threadWgsl.replace("const N: u32 = 4u;", `const N: u32 = ${n}u;`),
    entryPoint: pass,
    constants: { WG: wg },
  });
  const buffers = [
    { name: "logits", ref: b.logits, bytesPerToken: nn * 4 },
    { name: "out", ref: b.out, bytesPerToken: nn * 4 },
  ];
  if (pass === "backward") {
    buffers.push({
      name: "gradOutput",
      ref: b.gradOutput,
      bytesPerToken: nn * 4,
    });
  }
  return (enc) =>
    gpu.encodeTokens(enc, {
      label: `sinkhorn variant ${pass}`,
      pipeline,
      T,
      buffers,
      workgroups: (t) => Math.ceil(t / wg),
      params: (t) => new Uint32Array([t, opts.iterations]),
    });
}

/**
 * Times every Sinkhorn variant, forward and backward (n = 4, 20 iterations).
 *
 * @param env The bench environment.
 * @param sizes Sizes of the run.
 * @param log Progress lines.
 * @returns One row per variant and pass.
 */
export async function runSinkhornVariants(
  env: BenchEnv,
  sizes: BenchSizes,
  log: (line: string) => void = () => {},
): Promise<SinkhornVariantRow[]> {
  const n = N, nn = n * n, T = sizes.sinkhornTokens;
  const opts = { n, T, iterations: ITERATIONS };
  const plan = {
    reps: sizes.reps,
    samples: sizes.samples,
    batchMs: sizes.batchMs,
  };
  const s = new BufferSet(env);
  const rows: SinkhornVariantRow[] = [];
  try {
    const logits = await s.random("logits", T * nn, [-4, 4], 1);
    const gradOutput = await s.random("gradOutput", T * nn, [-1, 1], 2);
    const out = s.empty("out", T * nn * 4);
    const bufs = { logits, gradOutput, out };
    const k = Math.min(T, 8), ks = { ...opts, T: k };
    const l64 = await readF64(env, logits, k * nn);
    const g64 = await readF64(env, gradOutput, k * nn);
    const refs = {
      forward: sinkhornKnopp(l64, ks),
      backward: sinkhornKnoppBackward(l64, g64, ks),
    };
    const items: {
      v: Variant;
      pass: "forward" | "backward";
      record: Recorder;
    }[] = [];
    for (const v of SINKHORN_VARIANTS) {
      for (const pass of ["forward", "backward"] as const) {
        items.push({
          v,
          pass,
          record: await recorder(env, v, pass, bufs, opts),
        });
      }
    }
    const timings = await timeGpuMany(
      env,
      items.map((it) => ({
        label: `sinkhorn variant ${it.v.name} ${it.pass}`,
        record: it.record,
      })),
      plan,
    );
    for (const [i, { v, pass, record }] of items.entries()) {
      // Run once more on a cleared output, so that only this variant's own
      // output can pass the check.
      env.device.queue.writeBuffer(out, 0, new Uint8Array(k * nn * 4));
      await runBatch(env, `sinkhorn variant ${v.name}`, record, 1);
      const check = relError([[
        await readValues(env, out, k * nn),
        refs[pass],
      ]]);
      const ms = timings[i].ms;
      rows.push({
        name: v.name,
        pass,
        T,
        ms,
        baseline: v === SINKHORN_VARIANTS[0],
        check,
      });
      log(
        `sinkhorn variant ${v.name} ${pass}: ${ms.toPrecision(3)} ms, check ${
          check.toExponential(1)
        }`,
      );
    }
  } finally {
    s.destroy();
  }
  return rows;
}

if (import.meta.main) {
  const env = await benchEnv();
  const rows = await runSinkhornVariants(
    env,
    benchSizes(env.adapter),
    console.error,
  );
  console.table(rows.map((r) => ({
    variant: r.name,
    pass: r.pass,
    T: r.T,
    ms: +r.ms.toPrecision(3),
    "tokens/s": Math.round(r.T / r.ms * 1000),
    check: r.check.toExponential(1),
  })));
  env.gpu.destroy();
}
