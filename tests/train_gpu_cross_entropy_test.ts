// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The trainer's WebGPU cross-entropy, softmax and sum kernels against their
// CPU twin (src/train/ops/cross_entropy.ts), including rows whose target
// probability underflows in float32.
import { assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  encodeCrossEntropy,
  encodeSoftmax,
  encodeSum,
} from "../src/train/gpu/cross_entropy.ts";
import {
  crossEntropyBackward,
  crossEntropyForward,
} from "../src/train/ops/cross_entropy.ts";
import { runAndRead, SKIP_GPU, testGpu, upload } from "./_train_gpu.ts";
import { assertWithin, data, U } from "./_train_bounds.ts";

/**
 * Logits of N rows: normals times 4, and every seventh row made extreme (the
 * target 200 below the row's largest logit, so exp underflows in float32;
 * one logit at 1e4 in another row), to check the loss stays exact.
 */
function inputs(seed: number, N: number, V: number) {
  const d = data(seed);
  const logits = d.normals(N * V, 4);
  const targets = d.ints(N, V);
  for (let r = 0; r < N; r += 7) {
    logits[r * V + targets[r]] = -200;
    logits[r * V + ((targets[r] + 1) % V)] = r % 14 === 0 ? 1e4 : 50;
  }
  return { logits, targets };
}

/**
 * Per-row error analysis of the kernels (WGSL accuracy: exp 3 + 2|x| ULP,
 * division 2.5 ULP, log 3 ULP or 2⁻²¹ absolute in [0.5, 2]; 1 ULP ≤ 2u
 * relative). With a_v = logit_v − M (rounded: relative error u) each
 * e_v = exp(a_v) has relative error ε_v ≤ (6 + 5|a_v|)u; S = Σ e_v at depth
 * d has relative error σ ≤ Σ ε_v·e_v/S + d·u. The cross-entropy kernel
 * sums a row in one invocation (four vec4 accumulators over blocks of 16, the
 * tail into the first, then 2 + 2 levels): d = ⌊V/16⌋ + 7. The softmax kernel
 * sums with 256 threads of ⌈V/256⌉ terms, then an 8-level tree:
 * d = ⌈V/256⌉ + 8.
 */
function rowErrors(
  logits: Float32Array,
  row: number,
  V: number,
  depth: number,
) {
  let M = -Infinity;
  for (let v = 0; v < V; v++) M = Math.max(M, logits[row * V + v]);
  let S = 0, spread = 0;
  const eps = new Float64Array(V), p = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    const a = logits[row * V + v] - M, e = Math.exp(a);
    eps[v] = (6 + 5 * Math.abs(a)) * U;
    p[v] = e;
    S += e;
    spread += eps[v] * e;
  }
  const sigma = spread / S + depth * U;
  for (let v = 0; v < V; v++) p[v] /= S;
  return { M, S, sigma, eps, p };
}

const CASES = [
  { N: 300, V: 9 },
  { N: 37, V: 257 },
  { N: 5, V: 1000 },
  { N: 8 * 64, V: 256 },
];

describe({
  name: "the trainer's WebGPU cross-entropy kernels",
  ignore: SKIP_GPU,
  fn() {
    for (const { N, V } of CASES) {
      it(`compute losses and logit gradients like the CPU twin (N = ${N}, V = ${V})`, async () => {
        const gpu = await testGpu();
        const { logits, targets } = inputs(N + V, N, V);
        // The twin, row by row for the per-row losses, then whole for the mean.
        const probs = new Float32Array(N * V), ref = new Float64Array(N);
        for (let r = 0; r < N; r++) {
          ref[r] = crossEntropyForward(
            probs.subarray(r * V, (r + 1) * V),
            logits.subarray(r * V, (r + 1) * V),
            targets.subarray(r, r + 1),
            1,
            V,
          );
        }
        const mean = crossEntropyForward(probs, logits, targets, N, V);
        const dref = new Float32Array(N * V);
        crossEntropyBackward(dref, probs, targets, N, V);
        const dl = upload(gpu, new Float32Array(N * V).fill(3));
        const losses = upload(gpu, new Float32Array(N).fill(3));
        const stats = upload(gpu, new Float32Array([7, 7, 7, 7]));
        const lb = upload(gpu, logits), tb = upload(gpu, targets);
        const [gd, gl, st] = await runAndRead(gpu, async (enc) => {
          await encodeCrossEntropy(gpu, enc, {
            dlogits: dl,
            losses,
            logits: lb,
            targets: tb,
          }, { N, V });
          await encodeSum(gpu, enc, { out: stats, values: losses }, {
            N,
            scale: 1 / N,
            index: 1,
          });
        }, [[dl, N * V], [losses, N], [stats, 4]]);
        const lossBound = new Float64Array(N);
        const dBound = new Float64Array(N * V);
        for (let r = 0; r < N; r++) {
          const { M, S, sigma, eps, p } = rowErrors(
            logits,
            r,
            V,
            Math.floor(V / 16) + 7,
          );
          const t = targets[r], logS = Math.log(S);
          // loss = (log S + M) − l_t: σ through the log, the log's own error
          // (2⁻²¹ or 6u relative), two roundings, the GPU's float32 result.
          lossBound[r] = sigma + 2 ** -21 + 7 * U * logS +
            U * (logS + Math.abs(M)) + 2 * U * Math.abs(ref[r]);
          for (let v = 0; v < V; v++) {
            // d = p·(1/N) (− 1/N): ε_v + σ, the division 5u, 1/N and the
            // product 2u, the subtraction; the twin rounds p, p/N and the
            // difference (3u); 1/N of the target term carries 2u.
            const i = r * V + v;
            dBound[i] = (p[v] / N) * (eps[v] + sigma + 8 * U) +
              3 * U * Math.abs(dref[i]) + (v === t ? 2 * U / N : 0);
          }
        }
        assertWithin(gl, ref, lossBound, "losses");
        assertWithin(gd, dref, dBound, "dlogits");
        // The mean: the rows' errors, a sum at depth ⌈N/256⌉ + 8 and the
        // scale (2 more roundings), against the twin's float64 mean.
        let absSum = 0, rowErr = 0;
        for (let r = 0; r < N; r++) {
          absSum += Math.abs(ref[r]);
          rowErr += lossBound[r];
        }
        const meanBound = rowErr / N +
          (Math.ceil(N / 256) + 10) * U * absSum / N;
        assertWithin([st[1]], [mean], [meanBound], "mean loss");
        // Only stats[1] is written.
        assertEquals([st[0], st[2], st[3]], [7, 7, 7]);
        for (const b of [dl, losses, stats, lb, tb]) b.destroy();
      });

      it(`compute softmax like the CPU twin (N = ${N}, V = ${V})`, async () => {
        const gpu = await testGpu();
        const { logits } = inputs(N * 3 + V, N, V);
        const ref = new Float32Array(N * V);
        crossEntropyForward(ref, logits, null, N, V);
        const pb = upload(gpu, new Float32Array(N * V).fill(3));
        const lb = upload(gpu, logits);
        const [got] = await runAndRead(
          gpu,
          (enc) => encodeSoftmax(gpu, enc, { probs: pb, logits: lb }, { N, V }),
          [[pb, N * V]],
        );
        // p = e_v/S: ε_v + σ, the division (5u), the twin's rounding u.
        const bound = new Float64Array(N * V);
        for (let r = 0; r < N; r++) {
          const { sigma, eps, p } = rowErrors(
            logits,
            r,
            V,
            Math.ceil(V / 256) + 8,
          );
          for (let v = 0; v < V; v++) {
            bound[r * V + v] = p[v] * (eps[v] + sigma + 6 * U) +
              U * Math.abs(ref[r * V + v]);
          }
        }
        assertWithin(got, ref, bound, "softmax");
        pb.destroy();
        lb.destroy();
      });
    }

    it("sum 100 003 values in a fixed order into one element", async () => {
      const gpu = await testGpu();
      const N = 100_003, values = data(5).normals(N);
      values[N - 1] = 5e3; // a dropped tail would show
      const out = upload(gpu, new Float32Array([1, 2, 3, 4, 5, 6]));
      const vb = upload(gpu, values);
      const scale = -1 / 3;
      const run = () =>
        runAndRead(
          gpu,
          (enc) =>
            encodeSum(gpu, enc, { out, values: vb }, { N, scale, index: 4 }),
          [[out, 6]],
        );
      const [got] = await run();
      let s = 0, abs = 0;
      for (const v of values) {
        s += v;
        abs += Math.abs(v);
      }
      // Depth ⌈N/256⌉ + 8 sum, the scale's rounding and the product: 2u more.
      const bound = (Math.ceil(N / 256) + 10) * U * abs * Math.abs(scale);
      assertWithin([got[4]], [s * scale], [bound], "sum");
      assertEquals([...got.subarray(0, 4), got[5]], [1, 2, 3, 4, 6]);
      const [again] = await run();
      assertEquals(again[4], got[4]);
      out.destroy();
      vb.destroy();
    });
  },
});
