// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The WebGPU dense layer (src/train/gpu/matmul.ts) against its CPU twin
// (src/train/ops/matmul.ts): forward and backward, every element, on odd
// sizes (the one-float path and the 16-byte path with ragged edges), one
// typical training size, the accumulate flag, bindings at an offset, the 2D
// workgroup grid, and argument checks.
//
// Tolerance. Every output is a sum of K products (plus, when accumulating,
// the initial value). A float32 sum of K terms evaluated in any order is
// within K·u·Σ|terms| of the exact sum (u = 2⁻²⁴; Higham, Accuracy and
// Stability, §3.1). The CPU twin rounds to float32 at most once per term
// (its backward adds into Float32Arrays), the kernels at most once per term
// too, so the two differ by at most 2·K·u·Σ|terms|:
// atol = 2·(K + 1)·u·scale, with scale = max over outputs of Σ|terms|
// (the same product on the absolute values of the inputs, plus |initial|),
// and rtol = 2·u for the final roundings. A wrong index or a dropped term
// moves an output by about one term, |term| ≈ scale / K: 1 / (2·K·(K + 1)·u)
// times the bound, at least 30 for the sizes here (K ≤ 512).
import { assertEquals, assertRejects } from "@std/assert";
import { beforeAll, describe, it } from "@std/testing/bdd";
import { MhcGpu } from "../mod.ts";
import {
  encodeMatmulBackward,
  encodeMatmulForward,
  matmulWorkgroups,
} from "../src/train/gpu/matmul.ts";
import { matmulBackward, matmulForward } from "../src/train/ops/matmul.ts";
import {
  assertAllClose,
  runAndRead,
  SKIP_GPU,
  testGpu,
  upload,
} from "./_train_gpu.ts";
import { rng } from "./_rand.ts";

const U = 2 ** -24;

function randoms(seed: number, n: number): Float32Array {
  return Float32Array.from(rng(seed).normals(n));
}

const abs = (x: Float32Array) => x.map(Math.abs);

function tolerance(K: number, scale: Float32Array | Float64Array) {
  let max = 0;
  for (const v of scale) max = Math.max(max, v);
  return { atol: 2 * (K + 1) * U * max, rtol: 2 * U };
}

interface Case {
  N: number;
  C: number;
  OC: number;
}

function inputs(seed: number, { N, C, OC }: Case) {
  return {
    inp: randoms(seed, N * C),
    w: randoms(seed + 1, OC * C),
    dout: randoms(seed + 2, N * OC),
    dinp0: randoms(seed + 3, N * C),
    dw0: randoms(seed + 4, OC * C),
  };
}

/** The CPU twin's forward, and its scale (the forward on |inputs|). */
function refForward(x: ReturnType<typeof inputs>, { N, C, OC }: Case) {
  const out = new Float32Array(N * OC), scale = new Float32Array(N * OC);
  matmulForward(out, x.inp, x.w, N, C, OC);
  matmulForward(scale, abs(x.inp), abs(x.w), N, C, OC);
  return { out, tol: tolerance(C, scale) };
}

/** The CPU twin's backward from `dinp0`/`dw0` (or zeros), and its scales. */
function refBackward(
  x: ReturnType<typeof inputs>,
  { N, C, OC }: Case,
  accumulate: boolean,
) {
  const dinp = accumulate ? x.dinp0.slice() : new Float32Array(N * C);
  const dw = accumulate ? x.dw0.slice() : new Float32Array(OC * C);
  matmulBackward(dinp, dw, x.dout, x.inp, x.w, N, C, OC);
  const sDinp = accumulate ? abs(x.dinp0) : new Float32Array(N * C);
  const sDw = accumulate ? abs(x.dw0) : new Float32Array(OC * C);
  matmulBackward(sDinp, sDw, abs(x.dout), abs(x.inp), abs(x.w), N, C, OC);
  return {
    dinp,
    dw,
    tolDinp: tolerance(OC, sDinp),
    tolDw: tolerance(N, sDw),
  };
}

async function gpuForward(gpu: MhcGpu, x: ReturnType<typeof inputs>, s: Case) {
  const out = upload(gpu, randoms(99, s.N * s.OC)); // garbage: overwritten
  const inp = upload(gpu, x.inp), w = upload(gpu, x.w);
  const [r] = await runAndRead(
    gpu,
    (e) => encodeMatmulForward(gpu, e, { out, inp, w }, s),
    [[out, s.N * s.OC]],
  );
  for (const b of [out, inp, w]) b.destroy();
  return r;
}

async function gpuBackward(
  gpu: MhcGpu,
  x: ReturnType<typeof inputs>,
  s: Case,
  accumulate: boolean,
) {
  // Without accumulate the outputs start as garbage: they must be overwritten.
  const dinp = upload(gpu, accumulate ? x.dinp0 : randoms(98, s.N * s.C));
  const dw = upload(gpu, accumulate ? x.dw0 : randoms(97, s.OC * s.C));
  const dout = upload(gpu, x.dout), inp = upload(gpu, x.inp);
  const w = upload(gpu, x.w);
  const [a, b] = await runAndRead(
    gpu,
    (e) =>
      encodeMatmulBackward(gpu, e, { dinp, dw, dout, inp, w }, {
        ...s,
        accumulate,
      }),
    [[dinp, s.N * s.C], [dw, s.OC * s.C]],
  );
  for (const buf of [dinp, dw, dout, inp, w]) buf.destroy();
  return { dinp: a, dw: b };
}

const name = (s: Case) => `N=${s.N} C=${s.C} OC=${s.OC}`;

// One-float path (C or OC not a multiple of 4), 16-byte path with ragged
// edges (N, C, OC not multiples of the 8 × 8 block), a 1 × 1 × 1, and K = C
// or OC larger than the block.
const ODD: Case[] = [
  { N: 13, C: 9, OC: 7 },
  { N: 1, C: 1, OC: 1 },
  { N: 5, C: 3, OC: 13 },
  { N: 19, C: 12, OC: 20 },
  { N: 7, C: 36, OC: 4 },
  { N: 33, C: 20, OC: 37 },
];
// The trainer's widths (qkv projection at C = 64) with N = 512 tokens.
const TYPICAL: Case = { N: 512, C: 64, OC: 192 };

describe({
  name: "the WebGPU dense layer",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await testGpu();
    });

    it("matches the CPU twin's forward on odd and typical sizes", async () => {
      for (const [i, s] of [...ODD, TYPICAL].entries()) {
        const x = inputs(10 * i + 1, s);
        const ref = refForward(x, s);
        assertAllClose(
          await gpuForward(gpu, x, s),
          ref.out,
          ref.tol,
          `out ${name(s)}`,
        );
      }
    });

    it("matches the CPU twin's backward, overwriting dinp and dW", async () => {
      for (const [i, s] of [...ODD, TYPICAL].entries()) {
        const x = inputs(10 * i + 2, s);
        const ref = refBackward(x, s, false);
        const got = await gpuBackward(gpu, x, s, false);
        assertAllClose(got.dinp, ref.dinp, ref.tolDinp, `dinp ${name(s)}`);
        assertAllClose(got.dw, ref.dw, ref.tolDw, `dw ${name(s)}`);
      }
    });

    it("adds into dinp and dW with accumulate, as the CPU twin does", async () => {
      for (const [i, s] of [ODD[0], ODD[3], TYPICAL].entries()) {
        const x = inputs(10 * i + 3, s);
        const ref = refBackward(x, s, true);
        const got = await gpuBackward(gpu, x, s, true);
        assertAllClose(got.dinp, ref.dinp, ref.tolDinp, `dinp ${name(s)}`);
        assertAllClose(got.dw, ref.dw, ref.tolDw, `dw ${name(s)}`);
      }
    });

    it("reads and writes bindings at byte offsets", async () => {
      for (const s of [ODD[0], ODD[3]]) {
        const x = inputs(7, s);
        const align = Math.max(256, gpu.limits.minStorageBufferOffsetAlignment);
        // Each array sits between paddings of `align` bytes holding PAD; its
        // binding runs to the end of the buffer, so writes past the array
        // would land in the padding instead of being dropped.
        const PAD = 1234.5;
        const at = (data: Float32Array) => {
          const pad = new Float32Array(align / 2 + data.length).fill(PAD);
          pad.set(data, align / 4);
          return { buffer: upload(gpu, pad), offset: align };
        };
        const out = at(new Float32Array(s.N * s.OC));
        const inp = at(x.inp), w = at(x.w), dout = at(x.dout);
        const dinp = at(x.dinp0), dw = at(x.dw0);
        const [o, di, dW] = await runAndRead(gpu, async (e) => {
          await encodeMatmulForward(gpu, e, { out, inp, w }, s);
          await encodeMatmulBackward(gpu, e, { dinp, dw, dout, inp, w }, {
            ...s,
            accumulate: true,
          });
        }, [
          [out.buffer, align / 2 + s.N * s.OC],
          [dinp.buffer, align / 2 + s.N * s.C],
          [dw.buffer, align / 2 + s.OC * s.C],
        ]);
        const f = refForward(x, s), b = refBackward(x, s, true);
        const skip = align / 4;
        const inner = (a: Float32Array) => a.subarray(skip, a.length - skip);
        assertAllClose(inner(o), f.out, f.tol, `out ${name(s)}`);
        assertAllClose(inner(di), b.dinp, b.tolDinp, `dinp ${name(s)}`);
        assertAllClose(inner(dW), b.dw, b.tolDw, `dw ${name(s)}`);
        // The paddings around the outputs are untouched.
        for (const a of [o, di, dW]) {
          const pads = [...a.subarray(0, skip), ...a.subarray(-skip)];
          assertEquals(pads.filter((v) => v !== PAD), []);
        }
        for (const b of [out, inp, w, dout, dinp, dw]) b.buffer.destroy();
      }
    });

    it("lays large workgroup counts out on a 2D grid", async () => {
      // A runtime that allows 3 workgroups per dimension: the dispatches of
      // these sizes need 2D grids with workgroups past the end.
      const small = await MhcGpu.create({
        device: gpu.device,
        limits: { maxComputeWorkgroupsPerDimension: 3 },
      });
      const s: Case = { N: 330, C: 36, OC: 52 };
      for (const backward of [false, true]) {
        const n = matmulWorkgroups(s, backward);
        assertEquals(n > 3 && n % 3 !== 0, true);
      }
      const x = inputs(5, s);
      const f = refForward(x, s), b = refBackward(x, s, false);
      assertAllClose(await gpuForward(small, x, s), f.out, f.tol, "out");
      const got = await gpuBackward(small, x, s, false);
      assertAllClose(got.dinp, b.dinp, b.tolDinp, "dinp");
      assertAllClose(got.dw, b.dw, b.tolDw, "dw");
    });

    it("gives bitwise equal results on every run", async () => {
      const s = TYPICAL, x = inputs(4, s);
      const a = await gpuBackward(gpu, x, s, true);
      const b = await gpuBackward(gpu, x, s, true);
      assertEquals(new Uint32Array(a.dw.buffer), new Uint32Array(b.dw.buffer));
      assertEquals(
        new Uint32Array(a.dinp.buffer),
        new Uint32Array(b.dinp.buffer),
      );
    });

    it("rejects bad sizes and buffers that are too small", async () => {
      const buf = upload(gpu, 64);
      const enc = gpu.device.createCommandEncoder();
      const b = { out: buf, inp: buf, w: buf };
      await assertRejects(
        () => encodeMatmulForward(gpu, enc, b, { N: 1.5, C: 1, OC: 1 }),
        RangeError,
        "N must be an integer from 0",
      );
      await assertRejects(
        () => encodeMatmulForward(gpu, enc, b, { N: 4, C: 5, OC: 3 }),
        RangeError,
        "inp holds 64 bytes, needs 80",
      );
      await assertRejects(
        () =>
          encodeMatmulBackward(gpu, enc, {
            dinp: buf,
            dw: buf,
            dout: buf,
            inp: buf,
            w: { buffer: buf, size: 8 },
          }, { N: 1, C: 2, OC: 2 }),
        RangeError,
        "w holds 8 bytes, needs 16",
      );
      buf.destroy();
    });
  },
});
