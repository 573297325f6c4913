// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The trainer's WebGPU RMSNorm kernels against their CPU twin
// (src/train/ops/rmsnorm.ts): forward, backward overwriting and
// accumulating, with row scales far from 1.
import { assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  encodeRmsnormBackward,
  encodeRmsnormForward,
} from "../src/train/gpu/rmsnorm.ts";
import { rmsnormBackward, rmsnormForward } from "../src/train/ops/rmsnorm.ts";
import { runAndRead, SKIP_GPU, testGpu, upload } from "./_train_gpu.ts";
import { assertWithin, data, U } from "./_train_bounds.ts";

/** Rows of very different scales: the norm must not depend on it. */
function inputs(seed: number, N: number, C: number) {
  const d = data(seed);
  const x = d.normals(N * C);
  const scales = [1, 1e-3, 30, 1e3, 0.2];
  for (let r = 0; r < N; r++) {
    const s = scales[r % scales.length];
    for (let c = 0; c < C; c++) x[r * C + c] *= s;
  }
  return { x, w: d.normals(C), dout: d.normals(N * C), dx0: d.normals(N * C) };
}

/**
 * Depth of the kernels' per-row sums: one invocation per row, four vec4
 * accumulators taking blocks of 16 channels in turn (the first also takes
 * the tail, up to 3 more vectors), then two levels across the accumulators
 * and two across the lanes of the vec4.
 */
const rowDepth = (C: number) => Math.floor(C / 16) + 7;

const CASES = [
  { N: 300, C: 37 },
  { N: 257, C: 9 },
  { N: 7, C: 200 },
  { N: 8 * 64, C: 64 },
];

describe({
  name: "the trainer's WebGPU RMSNorm kernels",
  ignore: SKIP_GPU,
  fn() {
    for (const { N, C } of CASES) {
      it(`normalise rows like the CPU twin (N = ${N}, C = ${C})`, async () => {
        const gpu = await testGpu();
        const { x, w } = inputs(N * 7 + C, N, C);
        const ref = new Float32Array(N * C), rref = new Float32Array(N);
        rmsnormForward(ref, rref, x, w, N, C);
        const out = upload(gpu, N * C * 4), rstd = upload(gpu, N * 4);
        const xb = upload(gpu, x), wb = upload(gpu, w);
        const [got, r] = await runAndRead(
          gpu,
          (enc) =>
            encodeRmsnormForward(gpu, enc, { out, rstd, x: xb, w: wb }, {
              N,
              C,
            }),
          [[out, N * C], [rstd, N]],
        );
        // Σx² of positive terms at depth d: relative error ≤ (d + 1)u; the
        // mean and + ε 2u; 1/sqrt (2.5 ULP division after a ≤ 2.5 ULP sqrt)
        // ≤ 10u: r is within ((d + 3)/2 + 10)u, plus the twin's rounding u.
        // out = x·r·w adds 2u, and the twin's rounding u.
        const d = rowDepth(C), rr = ((d + 3) / 2 + 11) * U;
        assertWithin(r, rref, rref.map((v) => rr * Math.abs(v)), "rstd");
        assertWithin(
          got,
          ref,
          ref.map((v) => (rr + 3 * U) * Math.abs(v)),
          "rmsnorm",
        );
        for (const b of [out, rstd, xb, wb]) b.destroy();
      });

      for (const accumulate of [false, true]) {
        const how = accumulate ? "accumulate" : "overwrite";
        it(`${how} the RMSNorm gradients like the CPU twin (N = ${N}, C = ${C})`, async () => {
          const gpu = await testGpu();
          const { x, w, dout, dx0 } = inputs(N * 11 + C, N, C);
          const dw0 = data(N + C).normals(C);
          const out = new Float32Array(N * C), rstd = new Float32Array(N);
          rmsnormForward(out, rstd, x, w, N, C);
          // The twin accumulates: start it at the initial contents, or 0.
          const dx = accumulate ? dx0.slice() : new Float32Array(N * C);
          const dw = accumulate ? dw0.slice() : new Float32Array(C);
          rmsnormBackward(dx, dw, dout, x, w, rstd, N, C);
          // Overwriting: the GPU buffers start with garbage.
          const gdx = upload(gpu, accumulate ? dx0 : dout.map(() => 5));
          const gdw = upload(
            gpu,
            accumulate ? dw0 : new Float32Array(C).fill(5),
          );
          const bufs = [dout, x, w, rstd].map((a) => upload(gpu, a));
          const [gx, gw] = await runAndRead(
            gpu,
            (enc) =>
              encodeRmsnormBackward(gpu, enc, {
                dx: gdx,
                dw: gdw,
                dout: bufs[0],
                x: bufs[1],
                w: bufs[2],
                rstd: bufs[3],
              }, { N, C, accumulate }),
            [[gdx, N * C], [gdw, C]],
          );
          // dx = r·w·g − k·x with k = r³·D/C, D = Σ w·g·x at depth d (each
          // term 2 roundings): |δD| ≤ (d + 2)u·Σ|w·g·x|, k adds 4u; the two
          // terms 2u and 2u, the difference u, the initial contents' sum u,
          // the twin's rounding u (its D and k are float64):
          // ≤ (d + 8)u·(|r·w·g| + r³·Σ|w·g·x|/C·|x|) + 3u·|ref|.
          const d = rowDepth(C);
          const bx = new Float64Array(N * C);
          for (let t = 0; t < N; t++) {
            const r = rstd[t];
            let s = 0;
            for (let c = 0; c < C; c++) {
              s += Math.abs(w[c] * dout[t * C + c] * x[t * C + c]);
            }
            for (let c = 0; c < C; c++) {
              const i = t * C + c;
              const terms = Math.abs(r * w[c] * dout[i]) +
                (r * r * r * s / C) * Math.abs(x[i]);
              bx[i] = (d + 8) * U * terms + 3 * U * Math.abs(dx[i]) +
                (accumulate ? U * Math.abs(dx0[i]) : 0);
            }
          }
          assertWithin(gx, dx, bx, "dx");
          // dw: the kernel adds N terms (2 roundings each) in 4 accumulators
          // of ⌈N/4⌉ (rows round-robin) then a 2-level tree; the twin adds
          // them one by one into a float32 (N roundings):
          // ≤ (N + ⌈N/4⌉ + 6)u·Σ|g·x·r| + 2u·|ref|.
          const bw = new Float64Array(C);
          for (let c = 0; c < C; c++) {
            let s = accumulate ? Math.abs(dw0[c]) : 0;
            for (let t = 0; t < N; t++) {
              s += Math.abs(dout[t * C + c] * x[t * C + c] * rstd[t]);
            }
            bw[c] = (N + Math.ceil(N / 4) + 6) * U * s +
              2 * U * Math.abs(dw[c]);
          }
          assertWithin(gw, dw, bw, "dw");
          for (const b of [gdx, gdw, ...bufs]) b.destroy();
        });
      }
    }

    it("give the same gradient bits on every run", async () => {
      const gpu = await testGpu();
      const N = 300, C = 37, { x, w, dout } = inputs(3, N, C);
      const out = new Float32Array(N * C), rstd = new Float32Array(N);
      rmsnormForward(out, rstd, x, w, N, C);
      const bufs = [dout, x, w, rstd].map((a) => upload(gpu, a));
      const gdx = upload(gpu, N * C * 4), gdw = upload(gpu, C * 4);
      const run = () =>
        runAndRead(
          gpu,
          (enc) =>
            encodeRmsnormBackward(gpu, enc, {
              dx: gdx,
              dw: gdw,
              dout: bufs[0],
              x: bufs[1],
              w: bufs[2],
              rstd: bufs[3],
            }, { N, C }),
          [[gdx, N * C], [gdw, C]],
        );
      const [a, b] = [await run(), await run()];
      assertEquals(new Uint32Array(b[0].buffer), new Uint32Array(a[0].buffer));
      assertEquals(new Uint32Array(b[1].buffer), new Uint32Array(a[1].buffer));
      for (const buf of [gdx, gdw, ...bufs]) buf.destroy();
    });
  },
});
