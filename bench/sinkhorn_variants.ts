// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Variants of the Sinkhorn-Knopp kernels tried against the reference
 * (bench-only copy in kernels/sinkhorn_thread.wgsl): one invocation per
 * matrix, no workgroup exchange, at several workgroup sizes, next to the
 * library's one-invocation-per-entry kernels. Each variant's output is
 * checked against the float64 reference before it counts.
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
import { BufferSet, f64, readValues, relError } from "./_data.ts";
import { type Recorder, timeGpu } from "./_timing.ts";

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
    name: "library (one invocation per entry, 4 matrices/workgroup)",
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
  const { gpu } = env;
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
    const k = Math.min(T, 8), ks = { ...opts, T: k };
    const l64 = f64(await readValues(env, logits, k * nn));
    const g64 = f64(await readValues(env, gradOutput, k * nn));
    const refs = {
      forward: sinkhornKnopp(l64, ks),
      backward: sinkhornKnoppBackward(l64, g64, ks),
    };
    for (const v of SINKHORN_VARIANTS) {
      for (const pass of ["forward", "backward"] as const) {
        let record: Recorder;
        if (v.kind === "library") {
          record = pass === "forward"
            ? (enc) =>
              encodeSinkhornKnopp(gpu, enc, { logits, output: out }, opts)
            : (enc) =>
              encodeSinkhornKnoppBackward(gpu, enc, {
                logits,
                gradOutput,
                gradLogits: out,
              }, opts);
        } else {
          const wg = v.wg!;
          const pipeline = await gpu.pipeline({
            label: `sinkhorn variant ${pass} WG ${wg}`,
            code: threadWgsl.replace(
              "const N: u32 = 4u;",
              `const N: u32 = ${n}u;`,
            ),
            entryPoint: pass,
            constants: { WG: wg },
          });
          const buffers = [
            { name: "logits", ref: logits, bytesPerToken: nn * 4 },
            { name: "out", ref: out, bytesPerToken: nn * 4 },
          ];
          if (pass === "backward") {
            buffers.push({
              name: "gradOutput",
              ref: gradOutput,
              bytesPerToken: nn * 4,
            });
          }
          record = (enc) =>
            gpu.encodeTokens(enc, {
              label: `sinkhorn variant ${pass}`,
              pipeline,
              T,
              buffers,
              workgroups: (t) => Math.ceil(t / wg),
              params: (t) => new Uint32Array([t, ITERATIONS]),
            });
        }
        // Stale output of the previous variant must not pass the check.
        env.device.queue.writeBuffer(out, 0, new Uint8Array(k * nn * 4));
        const t = await timeGpu(
          env,
          `sinkhorn variant ${v.name}`,
          record,
          plan,
        );
        const check = relError([[
          await readValues(env, out, k * nn),
          refs[pass],
        ]]);
        rows.push({
          name: v.name,
          pass,
          T,
          ms: t.ms,
          baseline: v === SINKHORN_VARIANTS[0],
          check,
        });
        log(
          `sinkhorn variant ${v.name} ${pass}: ${
            t.ms.toPrecision(3)
          } ms, check ${check.toExponential(1)}`,
        );
      }
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
