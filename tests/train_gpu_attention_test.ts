// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU causal self-attention (src/train/gpu/attention.ts) against its
// CPU twin (src/train/ops/attention.ts): forward (out and every probability,
// the zeros above the diagonal included) and backward (dqkv) on odd sizes
// (head sizes 1, 3, 6, 66: the one-float path; 4, 12, 36, 64: the 16-byte
// path; heads of more than 32 channels, which the kernels take in chunks; T
// not a multiple of the 4-row groups) and the trainer's typical size, with random
// upstream gradients; outputs that start as garbage (overwritten), bindings
// at an offset, the 2D workgroup grid, determinism and argument checks.
//
// Tolerances (u = 2⁻²⁴; a float32 sum of n terms in any order is within
// n·u·Σ|terms| of the exact sum, Higham §3.1; the CPU twin sums in float64
// or rounds once per term, so doubling the kernel's bound covers both):
// - Scores s = q·k/√hs differ by at most δ = (hs + 3)·u·S, S = max Σ|q||k|/√hs
//   (hs products, the scale, the rounding of s).
// - att = softmax(s): perturbing the scores by δ moves each probability by at
//   most p·(e^{2δ} − 1) ≈ 2δ·p; WGSL's exp is within (3 + 2|x|) ulp, which
//   for x = s − max ≤ 0 is at most 3u absolute on e^x ≤ 1, and the kernel's
//   running sum (T terms, each rescaled once per step) adds 4T·u relative:
//   atol = 8u, rtol = 2δ + 4(T + 2)·u.
// - out = Σ p·v: the weight errors give 8u·Σ|v| + rtol_att·Σ p|v|, the sum of
//   T terms 4(T + 2)·u·Σ p|v|: atol from the maxima V1 = max Σ|v|,
//   V2 = max Σ p|v|; rtol = 2u.
// - dqkv (both sides get the same att, qkv, dout): the bound of each element
//   is propagated through dp = dout·v (2·hs·u·Σ|dout||v|), Σ att·dp,
//   ds = att·(dp − Σ)/√hs (plus 4u·|ds| for its roundings) and the final sums
//   of T terms (2T·u·Σ|terms|), in float64 (backwardAtol below); atol is the
//   largest, rtol = 2u.
// A wrong index or a dropped term moves an output by about one term, orders
// of magnitude above these bounds for unit-normal data.
import { assertEquals, assertRejects } from "@std/assert";
import { beforeAll, describe, it } from "@std/testing/bdd";
import { MhcGpu } from "../mod.ts";
import {
  attentionWorkgroups,
  encodeAttentionBackward,
  encodeAttentionForward,
} from "../src/train/gpu/attention.ts";
import {
  attentionBackward,
  attentionForward,
} from "../src/train/ops/attention.ts";
import {
  assertAllClose,
  runAndRead,
  SKIP_GPU,
  testGpu,
  upload,
} from "./_train_gpu.ts";
import { rng } from "./_rand.ts";

const U = 2 ** -24;

interface Sizes {
  B: number;
  T: number;
  C: number;
  H: number;
}

const name = (s: Sizes) => `B=${s.B} T=${s.T} C=${s.C} H=${s.H}`;

function randoms(seed: number, n: number, garbage = false): Float32Array {
  const r = Float32Array.from(rng(seed).normals(n));
  return garbage ? r.map((v) => 1e3 * v) : r;
}

function inputs(seed: number, s: Sizes) {
  const { B, T, C } = s;
  return {
    qkv: randoms(seed, B * T * 3 * C),
    dout: randoms(seed + 1, B * T * C),
  };
}

/** The CPU twin's forward and the tolerances of out and att. */
function refForward(qkv: Float32Array, s: Sizes) {
  const { B, T, C, H } = s, hs = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  const out = new Float32Array(B * T * C),
    att = new Float32Array(B * H * T * T);
  attentionForward(out, att, qkv, B, T, C, H);
  let S = 0, V1 = 0, V2 = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs, a = ((b * H + h) * T + t) * T;
        for (let j = 0; j <= t; j++) {
          const k = (b * T + j) * C3 + C + h * hs;
          let sum = 0;
          for (let i = 0; i < hs; i++) sum += Math.abs(qkv[q + i] * qkv[k + i]);
          S = Math.max(S, sum * scale);
        }
        for (let i = 0; i < hs; i++) {
          let v1 = 0, v2 = 0;
          for (let j = 0; j <= t; j++) {
            const v = Math.abs(qkv[(b * T + j) * C3 + 2 * C + h * hs + i]);
            v1 += v;
            v2 += att[a + j] * v;
          }
          V1 = Math.max(V1, v1);
          V2 = Math.max(V2, v2);
        }
      }
    }
  }
  const delta = (hs + 3) * U * S;
  const attTol = { atol: 8 * U, rtol: 2 * delta + 4 * (T + 2) * U };
  const outTol = {
    atol: 8 * U * V1 + (attTol.rtol + 4 * (T + 2) * U) * V2,
    rtol: 2 * U,
  };
  return { out, att, outTol, attTol };
}

/** The largest error bound of an element of dqkv (see the header). */
function backwardAtol(
  qkv: Float32Array,
  dout: Float32Array,
  att: Float32Array,
  s: Sizes,
): number {
  const { B, T, C, H } = s, hs = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  const bound = new Float64Array(B * T * C3);
  const dp = new Float64Array(T), ddp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const a = ((b * H + h) * T + t) * T, o = (b * T + t) * C + h * hs;
        const q = (b * T + t) * C3 + h * hs;
        let dot = 0, dotAbs = 0, ddot = 0;
        for (let j = 0; j <= t; j++) {
          const v = (b * T + j) * C3 + 2 * C + h * hs;
          let x = 0, xAbs = 0;
          for (let i = 0; i < hs; i++) {
            x += dout[o + i] * qkv[v + i];
            xAbs += Math.abs(dout[o + i] * qkv[v + i]);
          }
          dp[j] = x;
          ddp[j] = 2 * hs * U * xAbs;
          dot += att[a + j] * x;
          dotAbs += att[a + j] * Math.abs(x);
          ddot += att[a + j] * ddp[j];
        }
        ddot += 2 * T * U * dotAbs;
        for (let j = 0; j <= t; j++) {
          const p = att[a + j];
          const ds = Math.abs(p * (dp[j] - dot) * scale);
          const dds = p * scale * (ddp[j] + ddot) + 4 * U * ds;
          const k = (b * T + j) * C3 + C + h * hs;
          for (let i = 0; i < hs; i++) {
            const qi = Math.abs(qkv[q + i]), ki = Math.abs(qkv[k + i]);
            bound[q + i] += dds * ki + 2 * T * U * ds * ki;
            bound[k + i] += dds * qi + 2 * T * U * ds * qi;
            bound[k + C + i] += 2 * T * U * p * Math.abs(dout[o + i]);
          }
        }
      }
    }
  }
  let max = 0;
  for (const v of bound) max = Math.max(max, v);
  return max;
}

function refBackward(
  qkv: Float32Array,
  dout: Float32Array,
  att: Float32Array,
  s: Sizes,
) {
  const { B, T, C, H } = s;
  const dqkv = new Float32Array(B * T * 3 * C);
  attentionBackward(dqkv, new Float32Array(T), dout, qkv, att, B, T, C, H);
  return {
    dqkv,
    tol: { atol: backwardAtol(qkv, dout, att, s), rtol: 2 * U },
  };
}

async function gpuForward(gpu: MhcGpu, qkv: Float32Array, s: Sizes) {
  const { B, T, C, H } = s;
  // Outputs start as garbage: every element must be written.
  const out = upload(gpu, randoms(91, B * T * C, true));
  const att = upload(gpu, randoms(92, B * H * T * T, true));
  const q = upload(gpu, qkv);
  const [o, a] = await runAndRead(
    gpu,
    (e) => encodeAttentionForward(gpu, e, { out, att, qkv: q }, s),
    [[out, B * T * C], [att, B * H * T * T]],
  );
  for (const b of [out, att, q]) b.destroy();
  return { out: o, att: a };
}

async function gpuBackward(
  gpu: MhcGpu,
  x: { qkv: Float32Array; dout: Float32Array; att: Float32Array },
  s: Sizes,
) {
  const { B, T, C, H } = s;
  const dqkv = upload(gpu, randoms(93, B * T * 3 * C, true));
  const datt = upload(gpu, randoms(94, B * H * T * T, true));
  const dout = upload(gpu, x.dout), qkv = upload(gpu, x.qkv);
  const att = upload(gpu, x.att);
  const [d] = await runAndRead(
    gpu,
    (e) => encodeAttentionBackward(gpu, e, { dqkv, datt, dout, qkv, att }, s),
    [[dqkv, B * T * 3 * C]],
  );
  for (const b of [dqkv, datt, dout, qkv, att]) b.destroy();
  return d;
}

/** Every probability above the diagonal is exactly 0. */
function assertCausalZeros(att: Float32Array, s: Sizes, label: string) {
  const { B, T, H } = s;
  let nonzero = 0;
  for (let r = 0; r < B * H * T; r++) {
    const t = r % T;
    for (let j = t + 1; j < T; j++) if (att[r * T + j] !== 0) nonzero++;
  }
  assertEquals(nonzero, 0, `${label}: probabilities above the diagonal`);
}

const ODD: Sizes[] = [
  { B: 2, T: 13, C: 9, H: 3 }, // hs = 3
  { B: 1, T: 1, C: 1, H: 1 }, // hs = 1
  { B: 3, T: 7, C: 24, H: 2 }, // hs = 12
  { B: 2, T: 17, C: 20, H: 5 }, // hs = 4
  { B: 1, T: 30, C: 6, H: 1 }, // hs = 6
  // Heads in chunks of at most 32 channels: 2 chunks of 20 (hs = 36, the
  // last one partly past the head), 2 of 32, 3 of 24 (one-float path).
  { B: 1, T: 9, C: 72, H: 2 }, // hs = 36
  { B: 2, T: 6, C: 128, H: 2 }, // hs = 64
  { B: 1, T: 11, C: 66, H: 1 }, // hs = 66
];
const TYPICAL: Sizes = { B: 8, T: 64, C: 64, H: 4 }; // hs = 16

describe({
  name: "the WebGPU causal self-attention",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await testGpu();
    });

    it("matches the CPU twin's forward, probabilities included", async () => {
      for (const [i, s] of [...ODD, TYPICAL].entries()) {
        const { qkv } = inputs(10 * i + 1, s);
        const ref = refForward(qkv, s);
        const got = await gpuForward(gpu, qkv, s);
        assertAllClose(got.out, ref.out, ref.outTol, `out ${name(s)}`);
        assertAllClose(got.att, ref.att, ref.attTol, `att ${name(s)}`);
        assertCausalZeros(got.att, s, `att ${name(s)}`);
      }
    });

    it("matches the CPU twin's backward, overwriting dqkv", async () => {
      for (const [i, s] of [...ODD, TYPICAL].entries()) {
        const { qkv, dout } = inputs(10 * i + 2, s);
        const { att } = refForward(qkv, s);
        const ref = refBackward(qkv, dout, att, s);
        const got = await gpuBackward(gpu, { qkv, dout, att }, s);
        assertAllClose(got, ref.dqkv, ref.tol, `dqkv ${name(s)}`);
      }
    });

    it("reads and writes bindings at byte offsets", async () => {
      for (const s of [ODD[0], ODD[2]]) {
        const { B, T, C, H } = s;
        const { qkv, dout } = inputs(3, s);
        const f = refForward(qkv, s);
        const b = refBackward(qkv, dout, f.att, s);
        const align = Math.max(256, gpu.limits.minStorageBufferOffsetAlignment);
        const skip = align / 4;
        // Each array sits between paddings of `align` bytes holding PAD; its
        // binding runs to the end of the buffer, so writes past the array
        // would land in the padding instead of being dropped.
        const PAD = 1234.5;
        const at = (data: Float32Array | number) => {
          const n = typeof data === "number" ? data : data.length;
          const pad = new Float32Array(2 * skip + n).fill(PAD);
          if (typeof data !== "number") pad.set(data, skip);
          return { buffer: upload(gpu, pad), offset: align };
        };
        const out = at(B * T * C), att = at(B * H * T * T), q = at(qkv);
        const dqkv = at(B * T * 3 * C), datt = at(B * H * T * T);
        const d = at(dout), attIn = at(f.att);
        const [o, a, dq] = await runAndRead(gpu, async (e) => {
          await encodeAttentionForward(gpu, e, { out, att, qkv: q }, s);
          await encodeAttentionBackward(gpu, e, {
            dqkv,
            datt,
            dout: d,
            qkv: q,
            att: attIn,
          }, s);
        }, [
          [out.buffer, 2 * skip + B * T * C],
          [att.buffer, 2 * skip + B * H * T * T],
          [dqkv.buffer, 2 * skip + B * T * 3 * C],
        ]);
        const inner = (x: Float32Array) => x.subarray(skip, x.length - skip);
        assertAllClose(inner(o), f.out, f.outTol, `out ${name(s)}`);
        assertAllClose(inner(a), f.att, f.attTol, `att ${name(s)}`);
        assertAllClose(inner(dq), b.dqkv, b.tol, `dqkv ${name(s)}`);
        for (const x of [o, a, dq]) {
          const pads = [...x.subarray(0, skip), ...x.subarray(-skip)];
          assertEquals(pads.filter((v) => v !== PAD), []);
        }
        for (const x of [out, att, q, dqkv, datt, d, attIn]) x.buffer.destroy();
      }
    });

    it("lays large workgroup counts out on a 2D grid", async () => {
      // A runtime that allows 3 workgroups per dimension: both dispatches
      // need 2D grids, with workgroups past the end.
      const small = await MhcGpu.create({
        device: gpu.device,
        limits: { maxComputeWorkgroupsPerDimension: 3 },
      });
      const s: Sizes = { B: 20, T: 9, C: 8, H: 2 };
      for (const backward of [false, true]) {
        const n = attentionWorkgroups(s, backward);
        assertEquals(n > 3 && n % 3 !== 0, true);
      }
      const { qkv, dout } = inputs(5, s);
      const f = refForward(qkv, s);
      const got = await gpuForward(small, qkv, s);
      assertAllClose(got.out, f.out, f.outTol, "out");
      assertAllClose(got.att, f.att, f.attTol, "att");
      const b = refBackward(qkv, dout, f.att, s);
      const dq = await gpuBackward(small, { qkv, dout, att: f.att }, s);
      assertAllClose(dq, b.dqkv, b.tol, "dqkv");
    });

    it("gives bitwise equal results on every run", async () => {
      const s = TYPICAL, { qkv, dout } = inputs(4, s);
      const f1 = await gpuForward(gpu, qkv, s);
      const f2 = await gpuForward(gpu, qkv, s);
      const bits = (a: Float32Array) => new Uint32Array(a.buffer);
      assertEquals(bits(f1.att), bits(f2.att));
      assertEquals(bits(f1.out), bits(f2.out));
      const b1 = await gpuBackward(gpu, { qkv, dout, att: f1.att }, s);
      const b2 = await gpuBackward(gpu, { qkv, dout, att: f1.att }, s);
      assertEquals(bits(b1), bits(b2));
    });

    it("rejects bad sizes and buffers that are too small", async () => {
      const buf = upload(gpu, 256);
      const enc = gpu.device.createCommandEncoder();
      const fb = { out: buf, att: buf, qkv: buf };
      await assertRejects(
        () => encodeAttentionForward(gpu, enc, fb, { B: 1, T: 2, C: 5, H: 2 }),
        RangeError,
        "C must be a positive multiple of H",
      );
      await assertRejects(
        () => encodeAttentionForward(gpu, enc, fb, { B: 1, T: -1, C: 2, H: 1 }),
        RangeError,
        "T must be an integer from 0",
      );
      await assertRejects(
        () =>
          encodeAttentionBackward(gpu, enc, {
            dqkv: buf,
            datt: { buffer: buf, size: 32 },
            dout: buf,
            qkv: buf,
            att: buf,
          }, { B: 1, T: 3, C: 2, H: 1 }),
        RangeError,
        "datt holds 32 bytes, needs 36",
      );
      buf.destroy();
    });
  },
});
