// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The trainer's dense non-matmul kernels (RMSNorm forward and backward,
 * cross-entropy, embedding backward) at the default training shapes (512
 * rows of width 64, vocabulary 256, batch 8 × 64 tokens), each timed against
 * its kernel from before issue 11 (bench/kernels/train_*_before.wgsl: one
 * workgroup per row with barrier trees; the embedding backward a workgroup
 * prefix sum per tile of 64 ids; the RMSNorm gain gradient a second launch)
 * on the same buffers, samples interleaved in one run. Each variant's
 * outputs are compared with the library kernel's before its time counts.
 *
 * `deno run -A bench/train_dense_variants.ts [REGEX] [WIDTH]` prints the table
 * (only ops whose name matches REGEX; WIDTH other than 64 to try another
 * width).
 *
 * @module
 */

import {
  encodeCrossEntropy,
  encodeSum,
} from "../src/train/gpu/cross_entropy.ts";
import { dispatch, f32Word } from "../src/train/gpu/dispatch.ts";
import { encodeEmbeddingBackward } from "../src/train/gpu/embedding.ts";
import {
  encodeRmsnormBackward,
  encodeRmsnormForward,
} from "../src/train/gpu/rmsnorm.ts";
import { RMSNORM_EPS } from "../src/train/ops/rmsnorm.ts";
import { type BenchEnv, benchEnv, benchSizes } from "./_env.ts";
import { readValues } from "./_data.ts";
import { type Recorder, runBatch, timeGpuMany } from "./_timing.ts";

const read = (name: string) =>
  Deno.readTextFile(new URL(`./kernels/${name}`, import.meta.url));

/** One measured kernel of an op. */
export interface DenseVariantRow {
  /** The op. */
  op: string;
  /** Variant label. */
  name: string;
  /** Launches per call. */
  launches: number;
  /** Median time per call, ms. */
  ms: number;
  /** Largest |a − b| / (|b| + 1e-6) against the library kernel's outputs. */
  check: number;
  /** True for the library kernel. */
  baseline: boolean;
}

interface Variant {
  name: string;
  launches: number;
  record: Recorder;
}

interface Op {
  op: string;
  outputs: [GPUBuffer, number][];
  variants: Variant[];
}

function storage(env: BenchEnv, values: Float32Array | Uint32Array) {
  const b = env.device.createBuffer({
    size: Math.max(16, values.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
      GPUBufferUsage.COPY_DST,
  });
  env.device.queue.writeBuffer(b, 0, values);
  return b;
}

function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  }
  return out;
}

/**
 * Times every variant of every op at width `C`.
 *
 * @param env The bench environment.
 * @param C Width (64: the trainer's default).
 * @param match Only ops whose name matches.
 * @param log Progress lines.
 * @returns One row per variant.
 */
export async function runDenseVariants(
  env: BenchEnv,
  C = 64,
  match?: RegExp,
  log: (line: string) => void = () => {},
): Promise<DenseVariantRow[]> {
  const gpu = env.gpu, B = 8, T = 64, N = B * T, V = 256;
  const bufs: GPUBuffer[] = [];
  const buf = (v: Float32Array | Uint32Array) => {
    const b = storage(env, v);
    bufs.push(b);
    return b;
  };
  const x = buf(normals(N * C, 1)), w = buf(normals(C, 2));
  const dout = buf(normals(N * C, 3));
  const out = buf(new Float32Array(N * C)), rstd = buf(new Float32Array(N));
  const dx = buf(new Float32Array(N * C)), dw = buf(new Float32Array(C));
  const logits = buf(normals(N * V, 4).map((v) => 4 * v));
  const tok = new Uint32Array(N).map((_, i) => (i * 2654435761 >>> 7) % V);
  const targets = buf(tok), tokens = buf(tok.map((t) => (t * 31 + 7) % V));
  const dl = buf(new Float32Array(N * V)), losses = buf(new Float32Array(N));
  const stats = buf(new Float32Array(4));
  const dwte = buf(new Float32Array(V * C)),
    dwpe = buf(new Float32Array(T * C));
  // rstd of x, for the backwards.
  await runBatch(
    env,
    "rstd",
    (e) => encodeRmsnormForward(gpu, e, { out, rstd, x, w }, { N, C }),
    1,
  );

  const before = {
    fwd: await read("train_rmsnorm_forward_before.wgsl"),
    bwd: await read("train_rmsnorm_backward_before.wgsl"),
    dw: await read("train_rmsnorm_dw_before.wgsl"),
    ce: await read("train_cross_entropy_before.wgsl"),
    emb: await read("train_embedding_backward_before.wgsl"),
    ids1: await read("train_embedding_backward_ids1.wgsl"),
  };
  const ops: Op[] = [
    {
      op: "rmsnorm forward",
      outputs: [[out, N * C], [rstd, N]],
      variants: [
        {
          name: "library: 1 lane per row, vec4, no barrier",
          launches: 1,
          record: (e) =>
            encodeRmsnormForward(gpu, e, { out, rstd, x, w }, { N, C }),
        },
        {
          name: "before: 1 workgroup of 64 per row, tree",
          launches: 1,
          record: (e) =>
            dispatch(gpu, e, {
              label: "rmsnorm forward before",
              code: before.fwd,
              key: "bench|rmsnorm_forward_before",
              params: [N, C, f32Word(RMSNORM_EPS)],
              buffers: [out, rstd, x, w],
              workgroups: N,
            }),
        },
      ],
    },
    {
      op: "rmsnorm backward",
      outputs: [[dx, N * C], [dw, C]],
      variants: [
        {
          name: "library: 1 lane per row (dx) or 4 channels (dW), 1 launch",
          launches: 1,
          record: (e) =>
            encodeRmsnormBackward(gpu, e, { dx, dw, dout, x, w, rstd }, {
              N,
              C,
            }),
        },
        {
          name: "before: 1 workgroup per row, tree; dW 16×16 tree, 2 launches",
          launches: 2,
          record: async (e) => {
            await dispatch(gpu, e, {
              label: "rmsnorm backward before",
              code: before.bwd,
              key: "bench|rmsnorm_backward_before",
              params: [N, C, 0],
              buffers: [dx, dout, x, w, rstd],
              workgroups: N,
            });
            await dispatch(gpu, e, {
              label: "rmsnorm dw before",
              code: before.dw,
              key: "bench|rmsnorm_dw_before",
              params: [N, C, 0],
              buffers: [dw, dout, x, rstd],
              workgroups: Math.ceil(C / 16),
            });
          },
        },
      ],
    },
    {
      op: "cross-entropy",
      outputs: [[dl, N * V], [losses, N]],
      variants: [
        {
          name: "library: 1 lane per row, vec4, no barrier",
          launches: 1,
          record: (e) =>
            encodeCrossEntropy(
              gpu,
              e,
              { dlogits: dl, losses, logits, targets },
              {
                N,
                V,
              },
            ),
        },
        {
          name: "before: 1 workgroup of 256 per row, trees",
          launches: 1,
          record: (e) =>
            dispatch(gpu, e, {
              label: "cross-entropy before",
              code: before.ce,
              key: "bench|cross_entropy_before",
              params: [N, V, f32Word(1 / N)],
              buffers: [dl, losses, logits, targets],
              workgroups: N,
            }),
        },
        {
          name: "library + the mean-loss sum (the step's cross-entropy mark)",
          launches: 2,
          record: async (e) => {
            await encodeCrossEntropy(gpu, e, {
              dlogits: dl,
              losses,
              logits,
              targets,
            }, { N, V });
            await encodeSum(gpu, e, { out: stats, values: losses }, {
              N,
              scale: 1 / N,
              index: 0,
            });
          },
        },
      ],
    },
    {
      op: "embedding backward",
      outputs: [[dwte, V * C], [dwpe, T * C]],
      variants: [
        {
          name: "library: 1 lane per (id, 64 channels), ids read 4 at a time",
          launches: 1,
          record: (e) =>
            encodeEmbeddingBackward(gpu, e, { dwte, dwpe, dout, tokens }, {
              B,
              T,
              C,
              V,
              maxT: T,
            }),
        },
        {
          name: "1 lane per (id, 64 channels), ids read 1 at a time",
          launches: 1,
          record: (e) => {
            const cb = Math.ceil(C / 64), te = Math.ceil((V * cb) / 64);
            return dispatch(gpu, e, {
              label: "embedding backward ids1",
              code: before.ids1,
              key: "bench|embedding_backward_ids1",
              params: [N, T, C, V, T, cb, B, te],
              buffers: [dwte, dwpe, dout, tokens],
              workgroups: te + Math.ceil((T * Math.ceil(C / 4)) / 64),
            });
          },
        },
        {
          name:
            "before: 1 workgroup per (id, 64 channels), prefix sum per tile",
          launches: 1,
          record: (e) => {
            const cb = Math.ceil(C / 64);
            return dispatch(gpu, e, {
              label: "embedding backward before",
              code: before.emb,
              key: "bench|embedding_backward_before",
              params: [N, T, C, V, T, cb, B],
              buffers: [dwte, dwpe, dout, tokens],
              workgroups: V * cb + Math.ceil((T * C) / 64),
            });
          },
        },
      ],
    },
  ];
  const sizes = benchSizes(env.adapter);
  const plan = { reps: 20, samples: sizes.samples, batchMs: sizes.batchMs };
  const rows: DenseVariantRow[] = [];
  try {
    for (const o of ops) {
      if (match && !match.test(o.op)) continue;
      const works = o.variants.map((v) => ({
        label: `${o.op}: ${v.name}`,
        record: v.record,
      }));
      const timings = await timeGpuMany(env, works, plan);
      let want: Float32Array[] = [];
      for (const [i, v] of o.variants.entries()) {
        for (const [b] of o.outputs) {
          env.device.queue.writeBuffer(b, 0, new Uint8Array(b.size));
        }
        await runBatch(env, works[i].label, v.record, 1);
        const got = await Promise.all(
          o.outputs.map(([b, n]) => readValues(env, b, n)),
        );
        if (i === 0) want = got;
        let check = 0;
        got.forEach((g, j) =>
          g.forEach((a, k) => {
            const b = want[j][k];
            check = Math.max(check, Math.abs(a - b) / (Math.abs(b) + 1e-6));
          })
        );
        rows.push({
          op: o.op,
          name: v.name,
          launches: v.launches,
          ms: timings[i].ms,
          check,
          baseline: i === 0,
        });
        log(`${o.op} ${v.name}: ${timings[i].ms.toPrecision(3)} ms`);
      }
    }
  } finally {
    for (const b of bufs) b.destroy();
  }
  return rows;
}

if (import.meta.main) {
  const env = await benchEnv();
  const rows = await runDenseVariants(
    env,
    Number(Deno.args[1] ?? 64),
    Deno.args[0] ? new RegExp(Deno.args[0]) : undefined,
    console.error,
  );
  const base = new Map(
    rows.filter((r) => r.baseline).map((r) => [r.op, r.ms]),
  );
  console.table(rows.map((r) => ({
    op: r.op,
    variant: r.name,
    launches: r.launches,
    ms: +r.ms.toPrecision(3),
    "× library": +(base.get(r.op)! / r.ms).toPrecision(3),
    check: r.check.toExponential(1),
  })));
  env.gpu.destroy();
}
