// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The trainer's WebGPU optimiser step against the CPU trainer: the global
// gradient norm (against a float64 sum), the clip scale, the skip of a
// non-finite step, and AdamW over several steps against src/train/adamw.ts.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  biasTableLength,
  decayMask,
  encodeAdamW,
  encodeGradNorm,
  gradNormPartialsBytes,
  HYPER_FLOATS,
  hyperWords,
  STAT_ADAM_STEP,
  STAT_CLIP_SCALE,
  STAT_GRAD_NORM,
  STAT_LOSS,
  STAT_SKIPPED,
  STATS_FLOATS,
} from "../src/train/gpu/optimizer.ts";
import { AdamW, gradNorm, learningRate } from "../src/train/adamw.ts";
import { DEFAULTS } from "../src/train/config.ts";
import { parameterLayout, type TensorSpec } from "../src/train/model.ts";
import { withErrorScopes } from "./_gpu.ts";
import { runAndRead, SKIP_GPU, testGpu, upload } from "./_train_gpu.ts";
import { assertWithin, data, U } from "./_train_bounds.ts";

const NAN_BITS = 0x7fc00001, INF_BITS = 0x7f800000, NEG_INF_BITS = 0xff800000;

/**
 * Relative error bound of the GPU norm. Pass 1: each thread adds
 * ⌈chunk/256⌉ squares (one rounding each; the power-of-two rescaling is
 * exact), an 8-level tree; pass 2: ⌈P/256⌉ partials per thread and an
 * 8-level tree. A sum of non-negative terms at depth d is within d·u
 * relative; the square root halves it and adds ≤ 4.5 ULP (9u).
 */
function normRtol(N: number): number {
  const parts = gradNormPartialsBytes(N) / 16, chunk = Math.ceil(N / parts);
  const depth = Math.ceil(chunk / 256) + 8 + Math.ceil(parts / 256) + 8 + 1;
  return (depth / 2 + 10) * U;
}

/** Σ g² in float64, then the square root (the CPU trainer's gradNorm). */
function norm64(g: Float32Array): number {
  let s = 0;
  for (const v of g) s += v * v;
  return Math.sqrt(s);
}

/** Records the norm of `grads` with threshold `clip`; returns the stats. */
async function gpuNorm(
  grads: Float32Array | Uint32Array,
  clip: number,
): Promise<Float32Array> {
  const gpu = await testGpu();
  const N = grads.length;
  const stats = upload(gpu, new Float32Array([-5, -5, -5, -5, 0]));
  const gb = upload(gpu, grads);
  const partials = upload(gpu, gradNormPartialsBytes(N));
  const hyper = upload(
    gpu,
    hyperWords({
      lr: 1,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0,
      clip,
    }),
  );
  const [st] = await runAndRead(
    gpu,
    (enc) =>
      encodeGradNorm(gpu, enc, { stats, grads: gb, partials, hyper }, { N }),
    [[stats, STATS_FLOATS]],
  );
  for (const b of [stats, gb, partials, hyper]) b.destroy();
  return st;
}

describe("the optimiser's host helpers", () => {
  it("lay out the hyper-parameters with float64 bias-correction tables", () => {
    const h = hyperWords({
      lr: 3e-4,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0.1,
      clip: 1,
    });
    const L = biasTableLength(0.9, 0.95);
    // 0.95^L < 2^-26 <= 0.95^(L-1): past the table 1 − β^t rounds to 1.
    assert(0.95 ** L < 2 ** -26 && 0.95 ** (L - 1) >= 2 ** -26, `L = ${L}`);
    assertEquals(h.length, HYPER_FLOATS + 2 * L);
    assertEquals(
      [...h.subarray(0, HYPER_FLOATS)],
      [...new Float32Array([3e-4, 0.9, 0.95, 1e-8, 0.1, L, 0, 1])],
    );
    // c1[3] = 1 − 0.9³ and c2[3] = 1 − 0.95³, rounded once from float64.
    assertEquals(h[HYPER_FLOATS + 2], Math.fround(0.271));
    assertEquals(h[HYPER_FLOATS + L + 2], Math.fround(0.142625));
    assertEquals(Math.fround(1 - 0.95 ** L), 1);
    assertEquals(
      [
        STAT_LOSS,
        STAT_GRAD_NORM,
        STAT_CLIP_SCALE,
        STAT_SKIPPED,
        STAT_ADAM_STEP,
        STATS_FLOATS,
      ],
      [0, 1, 2, 3, 4, 5],
    );
    assertThrows(
      () => hyperWords({ ...h0(), beta2: 1 }),
      RangeError,
      "beta2 must be in (0, 1)",
    );
    assertThrows(
      () => hyperWords({ ...h0(), lr: NaN }),
      RangeError,
      "lr must be finite",
    );
  });

  it("mark the 64-float blocks of decayed tensors", () => {
    const mask = decayMask([
      { offset: 0, size: 65, decay: true },
      { offset: 128, size: 3, decay: false },
      { offset: 192, size: 70, decay: true },
    ], 262);
    assertEquals([...mask], [1, 1, 0, 1, 1]);
    assertThrows(
      () => decayMask([{ offset: 10, size: 3, decay: true }], 64),
      RangeError,
      "must start at a multiple of 64",
    );
  });
});

function h0() {
  return {
    lr: 1,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0,
    clip: 0,
  };
}

describe({
  name: "the trainer's WebGPU gradient norm",
  ignore: SKIP_GPU,
  fn() {
    for (const N of [257, 300, 4097, 300_001, 4_500_001]) {
      it(`matches a float64 sum of squares (N = ${N})`, async () => {
        const g = data(N).normals(N);
        g[N - 1] = 3 * Math.sqrt(N); // most of the norm sits in the tail
        const ref = norm64(g);
        const st = await gpuNorm(g, 0);
        assertWithin([st[STAT_GRAD_NORM]], [ref], [normRtol(N) * ref], "norm");
        assertEquals(st[STAT_CLIP_SCALE], 1); // clip = 0: no clipping
        assertEquals(st[STAT_SKIPPED], 0);
        assertEquals(st[STAT_LOSS], -5); // left alone
      });
    }

    for (const scale of [1e25, 1e-25]) {
      it(`neither overflows nor underflows for gradients of ${scale}`, async () => {
        // Squares of 1e25 overflow float32, squares of 1e-25 underflow.
        for (const N of [300, 4097]) {
          const g = data(N + 1).normals(N, scale);
          const ref = norm64(g);
          const st = await gpuNorm(g, 0);
          assertWithin(
            [st[STAT_GRAD_NORM]],
            [ref],
            [normRtol(N) * ref],
            `norm ×${scale}`,
          );
          assertEquals(st[STAT_SKIPPED], 0);
        }
      });
    }

    it("handles gradients at both ends of the float32 range", async () => {
      // The largest exponent (254) next to subnormals and ordinary values.
      const g = data(6).normals(257, 1e-3);
      g[3] = 3e38;
      g[100] = 1e-40;
      g[256] = -2e-45;
      const ref = norm64(g);
      const st = await gpuNorm(g, 0);
      assertWithin(
        [st[STAT_GRAD_NORM]],
        [ref],
        [normRtol(257) * ref],
        "norm",
      );
      assertEquals(st[STAT_SKIPPED], 0);
    });

    it("reports +Inf for a finite norm past float32 and still clips", async () => {
      const g = new Float32Array([3e38, -3e38, 2e38, 1]);
      const ref = norm64(g); // 4.7e38: finite for the CPU trainer
      const st = await gpuNorm(g, 1);
      assertEquals(st[STAT_GRAD_NORM], Infinity);
      assertEquals(st[STAT_SKIPPED], 0);
      // clip/‖g‖ from the scaled norm: the norm's error, the division 5u.
      const s = 1 / ref;
      assertWithin(
        [st[STAT_CLIP_SCALE]],
        [s],
        [(normRtol(4) + 6 * U) * s],
        "scale",
      );
    });

    it("computes the clip scale only when the norm exceeds the threshold", async () => {
      const N = 300, g = data(8).normals(N);
      const ref = norm64(g);
      for (const [clip, want] of [[ref / 2, 0.5], [ref * 2, 1], [0, 1]]) {
        const st = await gpuNorm(g, clip);
        // clip/‖g‖: the norm's error, clip's rounding and the division.
        const tol = want === 1 ? 0 : (normRtol(N) + 6 * U) * want;
        assertWithin([st[STAT_CLIP_SCALE]], [want], [tol], `clip ${clip}`);
      }
    });

    const cases: [string, [number, number][], number][] = [
      ["a NaN in the tail", [[299, NAN_BITS]], NaN],
      ["a +Inf", [[17, INF_BITS]], Infinity],
      ["a -Inf", [[0, NEG_INF_BITS]], Infinity],
      ["both NaN and Inf", [[5, INF_BITS], [200, NAN_BITS]], NaN],
    ];
    for (const [what, bad, norm] of cases) {
      it(`flags the step as skipped for ${what}`, async () => {
        const g = data(3).normals(300);
        const bits = new Uint32Array(g.buffer);
        for (const [i, b] of bad) bits[i] = b;
        const st = await gpuNorm(bits, 1);
        assertEquals(st[STAT_GRAD_NORM], norm); // NaN like the CPU's gradNorm
        assertEquals(gradNorm(g), norm);
        assertEquals(st[STAT_SKIPPED], 1);
        assertEquals(st[STAT_CLIP_SCALE], 1);
      });
    }

    it("gives the same bits on every run", async () => {
      const g = data(4).normals(300_001);
      const a = await gpuNorm(g, 1), b = await gpuNorm(g, 1);
      assertEquals(new Uint32Array(b.buffer), new Uint32Array(a.buffer));
    });
  },
});

/** Tensors aligned to 64 floats, as in the GPU parameter layout. */
function aligned(
  tensors: { size: number; decay: boolean }[],
): { layout: TensorSpec[]; N: number } {
  const layout: TensorSpec[] = [];
  let offset = 0;
  tensors.forEach((t, i) => {
    layout.push({
      name: `t${i}`,
      shape: [t.size],
      offset,
      size: t.size,
      decay: t.decay,
    });
    offset = Math.ceil((offset + t.size) / 64) * 64;
  });
  const last = layout[layout.length - 1];
  return { layout, N: last.offset + last.size };
}

/**
 * First-order bounds on |GPU − CPU| of AdamW's state, carried from step to
 * step in float64 (both sides start equal). Per element and step, with
 * WGSL's accuracy (division 2.5 ULP = 5u, sqrt 4.5 ULP = 9u, the rest
 * correctly rounded) and float32 constants (β, 1 − β from a rounded β, c1,
 * c2, lr, wd, ε each off by ≤ 0.5u relative, 1 − β by 0.5u·β/(1 − β)):
 * - g = grad·scale: the GPU scale's error δs, one rounding;
 * - m, v: the old error decays by β; two products, a sum, the twin's
 *   float32 storage;
 * - m/c1, v/c2: one division each; sqrt of a perturbed value, + ε;
 * - the ratio, + wd·p, p − lr·(…): the propagated errors plus a rounding
 *   each, the twin's float32 storage.
 */
class AdamWBounds {
  readonly eM: Float64Array;
  readonly eV: Float64Array;
  readonly eP: Float64Array;
  constructor(N: number) {
    this.eM = new Float64Array(N);
    this.eV = new Float64Array(N);
    this.eP = new Float64Array(N);
  }

  step(
    o: {
      b1: number;
      b2: number;
      eps: number;
      c1: number;
      c2: number;
      lr: number;
      scale: number;
      dScale: number;
    },
    wdOf: (i: number) => number,
    grads: Float32Array,
    before: { m: Float32Array; v: Float32Array; p: Float32Array },
    after: { m: Float32Array; v: Float32Array; p: Float32Array },
  ): void {
    const { b1, b2, eps, c1, c2, lr } = o;
    for (let i = 0; i < grads.length; i++) {
      const g = grads[i] * o.scale, ag = Math.abs(g), wd = wdOf(i);
      const eg = ag * (o.dScale + U);
      const m0 = Math.abs(before.m[i]), v0 = before.v[i], p0 = before.p[i];
      const m1 = after.m[i], v1 = after.v[i], p1 = after.p[i];
      this.eM[i] = b1 * this.eM[i] + (1 - b1) * eg + 1.5 * U * b1 * m0 +
        (1 + 0.5 * b1 / (1 - b1)) * U * (1 - b1) * ag + 2 * U * Math.abs(m1);
      this.eV[i] = b2 * this.eV[i] + (1 - b2) * (2 * ag * eg + eg * eg) +
        1.5 * U * b2 * v0 + (2 + 0.5 * b2 / (1 - b2)) * U * (1 - b2) * g * g +
        2 * U * v1;
      const mh = m1 / c1, vh = v1 / c2;
      const eMh = this.eM[i] / c1 + Math.abs(mh) * 5.5 * U;
      const eVh = this.eV[i] / c2 + vh * 5.5 * U;
      const sq = Math.sqrt(vh);
      const eSq = Math.sqrt(vh + eVh) - sq + 9 * U * sq;
      const den = sq + eps, eDen = eSq + U * den + 0.5 * U * eps;
      const r = mh / den;
      const eR = (eMh + Math.abs(r) * eDen) / (den - eDen) +
        5 * U * Math.abs(r);
      const upd = r + wd * p0;
      const eUpd = eR + wd * this.eP[i] + 2 * U * wd * Math.abs(p0) +
        U * Math.abs(upd);
      this.eP[i] += lr * eUpd + 1.5 * U * lr * Math.abs(upd) +
        2 * U * Math.abs(p1);
    }
  }
}

describe({
  name: "the trainer's WebGPU AdamW",
  ignore: SKIP_GPU,
  fn() {
    interface Run {
      layout: TensorSpec[];
      N: number;
      /** Gradient scale of each step; NaN / Infinity inject such a value. */
      steps: number[];
      clip: number;
    }
    const runs: [string, Run][] = [
      [
        "odd tensors, clipping and two skipped steps",
        {
          ...aligned([
            { size: 37, decay: true },
            { size: 197, decay: false },
            { size: 9, decay: true },
            { size: 64, decay: false },
            { size: 300, decay: true },
          ]),
          steps: [0.01, 1, NaN, 0.03, Infinity, 10, 0.02],
          clip: 1,
        },
      ],
      [
        "the default model's layout, without clipping",
        {
          ...aligned(parameterLayout(DEFAULTS)),
          steps: [0.01, 0.003, 0.02],
          clip: 0,
        },
      ],
    ];

    for (const [what, run] of runs) {
      it(`steps like the CPU trainer over several steps (${what})`, async () => {
        const gpu = await testGpu();
        const { layout, N, steps, clip } = run;
        const hp = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
        const schedule = {
          lr: 1e-2,
          warmup: 2,
          steps: steps.length,
          minRatio: 0.1,
        };
        const d = data(N);
        // Padding between tensors: zero parameters and gradients.
        const inside = new Uint8Array(N);
        for (const t of layout) inside.fill(1, t.offset, t.offset + t.size);
        const params = d.normals(N, 0.5).map((v, i) => inside[i] ? v : 0);
        const opt = new AdamW(layout, (n) => new Float32Array(n), N, hp);
        const wdOf = (() => {
          const wd = new Float64Array(N);
          for (const t of layout) {
            if (t.decay) wd.fill(hp.weightDecay, t.offset, t.offset + t.size);
          }
          return (i: number) => wd[i];
        })();
        const pb = upload(gpu, params), mb = upload(gpu, N * 4);
        const vb = upload(gpu, N * 4), gb = upload(gpu, N * 4);
        const decay = upload(gpu, decayMask(layout, N));
        const stats = upload(gpu, STATS_FLOATS * 4);
        const hyper = upload(gpu, hyperWords({ ...hp, lr: 0, clip: 0 }));
        const partials = upload(gpu, gradNormPartialsBytes(N));
        const bounds = new AdamWBounds(N);
        const initial = params.slice();
        let prev: Float32Array[] = [
          params.slice(),
          new Float32Array(N),
          new Float32Array(N),
        ];
        let skipped = 0;
        for (let k = 0; k < steps.length; k++) {
          const grads = d.normals(N, Number.isFinite(steps[k]) ? steps[k] : 1)
            .map((v, i) => inside[i] ? v : 0);
          if (!Number.isFinite(steps[k])) {
            grads[layout[1].offset + 3] = steps[k];
          }
          const norm = gradNorm(grads);
          const scale = clip > 0 && norm > clip ? clip / norm : 1;
          const lr = learningRate(schedule, k);
          gpu.device.queue.writeBuffer(gb, 0, grads);
          gpu.device.queue.writeBuffer(
            hyper,
            0,
            hyperWords({ ...hp, lr, clip }),
          );
          const [st, gp, gm, gv] = await runAndRead(gpu, async (enc) => {
            await encodeGradNorm(gpu, enc, {
              stats,
              grads: gb,
              partials,
              hyper,
            }, { N });
            await encodeAdamW(gpu, enc, {
              params: pb,
              grads: gb,
              m: mb,
              v: vb,
              decay,
              stats,
              hyper,
            }, { N, beta1: hp.beta1, beta2: hp.beta2 });
          }, [[stats, STATS_FLOATS], [pb, N], [mb, N], [vb, N]]);
          // AdamW's step count lives on the GPU and skips skipped steps.
          assertEquals(
            st[STAT_ADAM_STEP],
            opt.t + (Number.isFinite(norm) ? 1 : 0),
            `step ${k + 1}: adam step`,
          );
          const label = `step ${k + 1}`;
          if (!Number.isFinite(norm)) {
            // Skipped: flagged, and parameters and moments untouched.
            skipped++;
            assertEquals(st[STAT_SKIPPED], 1, label);
            assertEquals(st[STAT_GRAD_NORM], norm, label);
            [gp, gm, gv].forEach((a, j) =>
              assertEquals(
                new Uint32Array(a.buffer),
                new Uint32Array(prev[j].buffer),
                `${label}: state changed`,
              )
            );
            continue;
          }
          assertEquals(st[STAT_SKIPPED], 0, label);
          const nt = normRtol(N);
          assertWithin(
            [st[STAT_GRAD_NORM]],
            [norm],
            [nt * norm],
            `${label} norm`,
          );
          const dScale = scale < 1 ? nt + 6 * U : 0;
          assertWithin(
            [st[STAT_CLIP_SCALE]],
            [scale],
            [dScale * scale],
            `${label} scale`,
          );
          const before = {
            m: opt.m.slice(),
            v: opt.v.slice(),
            p: params.slice(),
          };
          opt.step(params, grads, lr, scale);
          const c1 = 1 - Math.pow(hp.beta1, opt.t);
          const c2 = 1 - Math.pow(hp.beta2, opt.t);
          bounds.step(
            {
              b1: hp.beta1,
              b2: hp.beta2,
              eps: hp.eps,
              c1,
              c2,
              lr,
              scale,
              dScale,
            },
            wdOf,
            grads,
            before,
            { m: opt.m, v: opt.v, p: params },
          );
          // Twice the first-order bounds: room for the neglected
          // second-order terms.
          assertWithin(gm, opt.m, bounds.eM.map((e) => 2 * e), `${label} m`);
          assertWithin(gv, opt.v, bounds.eV.map((e) => 2 * e), `${label} v`);
          assertWithin(
            gp,
            params,
            bounds.eP.map((e) => 2 * e),
            `${label} params`,
          );
          prev = [gp, gm, gv];
        }
        assertEquals(skipped, steps.filter((s) => !Number.isFinite(s)).length);
        // The run moved every parameter inside a tensor (so a kernel that
        // writes nothing cannot pass), and left the padding at zero.
        for (let i = 0; i < N; i++) {
          assert(
            inside[i] ? prev[0][i] !== initial[i] : prev[0][i] === 0,
            `parameter ${i}`,
          );
        }
        for (const b of [pb, mb, vb, gb, decay, stats, hyper, partials]) {
          b.destroy();
        }
      });
    }

    it("checks its bindings", async () => {
      const gpu = await testGpu();
      const b = upload(gpu, 64);
      await withErrorScopes(gpu.device, async () => {
        const enc = gpu.device.createCommandEncoder();
        let threw = false;
        try {
          await encodeAdamW(gpu, enc, {
            params: b,
            grads: b,
            m: b,
            v: b,
            decay: b,
            stats: b,
            hyper: b,
          }, { N: 100, beta1: 0.9, beta2: 0.95 });
        } catch (e) {
          threw = e instanceof RangeError;
        }
        assert(threw, "a 64-byte buffer for 100 floats was accepted");
      });
      b.destroy();
    });
  },
});
