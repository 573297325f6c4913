// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The trainer's elementwise WebGPU kernels against their CPU twins: GELU
// (src/train/ops/gelu.ts), stream expansion and reduction
// (src/reference/streams.ts) and the flat sums.
import { assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  expandStreams,
  expandStreamsBackward,
  reduceStreams,
  reduceStreamsBackward,
} from "../mod.ts";
import {
  encodeGeluBackward,
  encodeGeluForward,
} from "../src/train/gpu/gelu.ts";
import {
  encodeAdd,
  encodeAddInto,
  encodeExpandStreams,
  encodeExpandStreamsBackward,
  encodeReduceStreams,
  encodeReduceStreamsBackward,
} from "../src/train/gpu/streams.ts";
import { geluBackward, geluForward } from "../src/train/ops/gelu.ts";
import {
  assertAllClose,
  runAndRead,
  SKIP_GPU,
  testGpu,
  upload,
} from "./_train_gpu.ts";
import { assertWithin, data, U } from "./_train_bounds.ts";

const K = Math.sqrt(2 / Math.PI), A = 0.044715;
/** Exact arithmetic: the GPU and the CPU twin must agree bit for bit. */
const EXACT = { atol: 0, rtol: 0 };

/**
 * GELU inputs: normals of scale 3 (most of the curve, both tails), plus
 * values past the clamp of the kernel (±20, ±25, ±1e20) and zero.
 */
function geluInputs(seed: number, N: number): Float32Array {
  const x = data(seed).normals(N, 3);
  const special = [0, 20, -20, 25, -25, 1e20, -1e20, -7.5, 7.5];
  special.forEach((v, i) => (x[(i * 37) % N] = v));
  return x;
}

/**
 * Error bounds of the GELU kernel, per element, from the WGSL accuracy of
 * its operations (exp: 3 + 2|arg| ULP; division: 2.5 ULP; others correctly
 * rounded; 1 ULP ≤ 2u relative). The kernel computes e = exp(−2|z|) and
 * s = σ(2z) as 1/(1 + e) or e/(1 + e):
 * - z = K·(x + A·x³) has relative error ≤ 5u (x and A·x³ share their sign),
 *   so exp's argument carries an absolute error ≤ 10u·|z| and
 *   e has relative error ε_e ≤ (6 + 8|z|)u + 10u·|z| = (6 + 18|z|)u;
 * - 1/(1 + e) has relative error ≤ ε_e·e/(1 + e) + 6u ("hi"), e/(1 + e)
 *   ≤ ε_e + 6u ("lo"); s is hi for z ≥ 0, else lo; 1 − s the other one.
 * The CPU twin computes in float64 and rounds once (u·|ref|), but its
 * 1 + tanh(z) and 1 − tanh² cancel for large |z|: absolute error ≤ 2⁻⁵²
 * each, times the factors they multiply.
 */
function sigmoidErrors(
  x: number,
): { s: number; sc: number; es: number; esc: number } {
  const xc = Math.max(-20, Math.min(20, x));
  const z = K * (xc + A * xc * xc * xc);
  const e = Math.exp(-2 * Math.abs(z));
  const epsE = (6 + 18 * Math.abs(z)) * U;
  const hi = epsE * e / (1 + e) + 6 * U, lo = epsE + 6 * U;
  const s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
  return { s, sc: 1 - s, es: z >= 0 ? hi : lo, esc: z >= 0 ? lo : hi };
}

describe({
  name: "the trainer's elementwise WebGPU kernels",
  ignore: SKIP_GPU,
  fn() {
    for (const N of [257, 300, 8 * 64 * 4 * 64]) {
      it(`compute GELU forward like the CPU twin (N = ${N})`, async () => {
        const gpu = await testGpu();
        const x = geluInputs(N, N);
        const ref = new Float32Array(N);
        geluForward(ref, x, N);
        const out = upload(gpu, N * 4), xb = upload(gpu, x);
        const [got] = await runAndRead(
          gpu,
          (enc) => encodeGeluForward(gpu, enc, { out, x: xb }, { N }),
          [[out, N]],
        );
        // out = x·s: relative error of s, one product, the CPU's rounding
        // (2u), and the CPU's cancellation in 1 + tanh (0.5·|x|·2⁻⁵²·2).
        const bound = Float64Array.from(x, (v, i) => {
          const { es } = sigmoidErrors(v);
          return (es + 2 * U) * Math.abs(ref[i]) + Math.abs(v) * 2 ** -52;
        });
        assertWithin(got, ref, bound, "gelu");
        out.destroy();
        xb.destroy();
      });

      it(`compute GELU backward like the CPU twin (N = ${N})`, async () => {
        const gpu = await testGpu();
        const x = geluInputs(N + 1, N);
        const dout = data(N + 2).normals(N);
        const ref = new Float32Array(N); // the twin accumulates: start at 0
        geluBackward(ref, x, dout, N);
        const dx = upload(gpu, new Float32Array(N).fill(7)); // overwritten
        const xb = upload(gpu, x), db = upload(gpu, dout);
        const [got] = await runAndRead(
          gpu,
          (enc) => encodeGeluBackward(gpu, enc, { dx, x: xb, dout: db }, { N }),
          [[dx, N]],
        );
        // gelu' = T1 + T2 with T1 = s, T2 = 2x·s·(1 − s)·K·(1 + 3A·x²):
        // T1 carries s's error, T2 those of s and 1 − s plus 6 roundings
        // (12u); the final product with dout and the CPU's rounding 2u·|ref|;
        // the CPU's cancellations (2⁻⁵² on 0.5·(1 + th), 2⁻⁵¹ on sech²).
        const bound = Float64Array.from(x, (v, i) => {
          const xc = Math.max(-20, Math.min(20, v));
          const { s, sc, es, esc } = sigmoidErrors(v);
          const poly = Math.abs(xc * K * (1 + 3 * A * xc * xc));
          const t2 = 2 * poly * s * sc;
          const g = Math.abs(dout[i]);
          return g * (s * es + t2 * (es + esc + 12 * U)) +
            g * 2 ** -51 * (1 + poly) + 2 * U * Math.abs(ref[i]);
        });
        assertWithin(got, ref, bound, "gelu backward");
        for (const b of [dx, xb, db]) b.destroy();
      });
    }

    const shapes = [
      { n: 4, C: 9, T: 37 },
      { n: 3, C: 37, T: 7 },
      { n: 1, C: 5, T: 3 },
      { n: 4, C: 64, T: 8 * 64 },
    ];
    for (const s of shapes) {
      const { n, C, T } = s, tag = `n = ${n}, C = ${C}, T = ${T}`;

      it(`expand streams and their backward like the reference (${tag})`, async () => {
        const gpu = await testGpu();
        const d = data(n * 1000 + C * 10 + T);
        const x = d.normals(T * C), gy = d.normals(T * n * C);
        const out = upload(gpu, new Float32Array(T * n * C).fill(3));
        const dx = upload(gpu, new Float32Array(T * C).fill(3));
        const xb = upload(gpu, x), gb = upload(gpu, gy);
        const [fwd, bwd] = await runAndRead(gpu, async (enc) => {
          await encodeExpandStreams(gpu, enc, { out, x: xb }, s);
          await encodeExpandStreamsBackward(gpu, enc, { dx, dout: gb }, s);
        }, [[out, T * n * C], [dx, T * C]]);
        // Copies are exact.
        assertAllClose(fwd, expandStreams(x, s), EXACT, "expandStreams");
        // A sum of n terms in float32, in order, against the twin's float64
        // sum rounded once: ≤ (n − 1)u·Σ|terms| + u·|ref|.
        const ref = expandStreamsBackward(gy, s);
        const abs = expandStreamsBackward(gy.map(Math.abs), s);
        assertWithin(
          bwd,
          ref,
          abs.map((a, i) => (n - 1) * U * a + U * Math.abs(ref[i])),
          "expandStreamsBackward",
        );
        for (const b of [out, dx, xb, gb]) b.destroy();
      });

      it(`reduce streams and their backward like the reference (${tag})`, async () => {
        const gpu = await testGpu();
        const d = data(n * 2000 + C * 10 + T);
        const x = d.normals(T * n * C), gy = d.normals(T * C);
        const out = upload(gpu, new Float32Array(T * C).fill(3));
        const dx = upload(gpu, new Float32Array(T * n * C).fill(3));
        const xb = upload(gpu, x), gb = upload(gpu, gy);
        const [fwd, bwd] = await runAndRead(gpu, async (enc) => {
          await encodeReduceStreams(gpu, enc, { out, x: xb }, s);
          await encodeReduceStreamsBackward(gpu, enc, { dx, dout: gb }, s);
        }, [[out, T * C], [dx, T * n * C]]);
        // As for the expansion: a float32 sum of n terms, and exact copies.
        const ref = reduceStreams(x, s);
        const abs = reduceStreams(x.map(Math.abs), s);
        assertWithin(
          fwd,
          ref,
          abs.map((a, i) => (n - 1) * U * a + U * Math.abs(ref[i])),
          "reduceStreams",
        );
        assertAllClose(bwd, reduceStreamsBackward(gy, s), EXACT, "backward");
        for (const b of [out, dx, xb, gb]) b.destroy();
      });
    }

    for (const N of [257, 300, 131_073]) {
      it(`add and add into flat buffers exactly (N = ${N})`, async () => {
        const gpu = await testGpu();
        const d = data(N);
        const a = d.normals(N), b = d.normals(N, 1e3), c0 = d.normals(N);
        const out = upload(gpu, new Float32Array(N).fill(5));
        const acc = upload(gpu, c0);
        const ab = upload(gpu, a), bb = upload(gpu, b);
        const [sum, into] = await runAndRead(gpu, async (enc) => {
          await encodeAdd(gpu, enc, { out, a: ab, b: bb }, { N });
          await encodeAddInto(gpu, enc, { out: acc, a: ab }, { N });
        }, [[out, N], [acc, N]]);
        // float32 addition is correctly rounded, and so is the float64 sum
        // of two float32 values rounded to float32 (53 ≥ 2·24 + 2): equal.
        assertAllClose(sum, a.map((v, i) => v + b[i]), EXACT, "add");
        assertAllClose(into, c0.map((v, i) => v + a[i]), EXACT, "add into");
        for (const x of [out, acc, ab, bb]) x.destroy();
      });
    }

    it("leave the elements past N alone", async () => {
      const gpu = await testGpu();
      const N = 300, x = data(9).normals(N + 20);
      const out = upload(gpu, new Float32Array(N + 20).fill(-1));
      const xb = upload(gpu, x);
      const [got] = await runAndRead(
        gpu,
        (enc) => encodeGeluForward(gpu, enc, { out, x: xb }, { N }),
        [[out, N + 20]],
      );
      assertEquals([...got.subarray(N)], new Array(20).fill(-1));
      out.destroy();
      xb.destroy();
    });
  },
});
