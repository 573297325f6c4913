// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The trainer's WebGPU embedding kernels against their CPU twin
// (src/train/ops/embedding.ts): forward, and the atomic-free backward that
// overwrites both tables, with repeated tokens and unused rows.
import { assertEquals, assertRejects } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  encodeEmbeddingBackward,
  encodeEmbeddingForward,
} from "../src/train/gpu/embedding.ts";
import {
  embeddingBackward,
  embeddingForward,
} from "../src/train/ops/embedding.ts";
import {
  assertAllClose,
  runAndRead,
  SKIP_GPU,
  testGpu,
  upload,
} from "./_train_gpu.ts";
import { assertWithin, data, U } from "./_train_bounds.ts";

interface Case {
  B: number;
  T: number;
  C: number;
  V: number;
  maxT: number;
}

const CASES: Case[] = [
  { B: 3, T: 7, C: 9, V: 11, maxT: 10 },
  { B: 2, T: 37, C: 37, V: 13, maxT: 40 },
  { B: 5, T: 30, C: 130, V: 7, maxT: 30 }, // C spans three channel blocks
  { B: 4, T: 21, C: 132, V: 9, maxT: 25 }, // the same with 16-byte loads
  { B: 4, T: 9, C: 9, V: 11, maxT: 12 }, // ids 16 bytes at a time, C odd
  { B: 8, T: 64, C: 64, V: 256, maxT: 64 },
];

/**
 * Token ids of a case: drawn from the first V − 2 ids only (so the last two
 * vocabulary rows are never used), and the first token repeated at several
 * places (so rows of one id come from different sequences and tiles).
 */
function tokensOf(c: Case, seed: number): Uint32Array {
  const rows = c.B * c.T;
  const tokens = data(seed).ints(rows, c.V - 2);
  for (let r = 0; r < rows; r += 5) tokens[r] = tokens[0];
  return tokens;
}

describe({
  name: "the trainer's WebGPU embedding kernels",
  ignore: SKIP_GPU,
  fn() {
    for (const c of CASES) {
      const { B, T, C, V, maxT } = c, rows = B * T;
      const tag = `B = ${B}, T = ${T}, C = ${C}, V = ${V}, maxT = ${maxT}`;

      it(`look up token and position rows like the CPU twin (${tag})`, async () => {
        const gpu = await testGpu();
        const d = data(rows + C);
        const tokens = tokensOf(c, rows), wte = d.normals(V * C);
        const wpe = d.normals(maxT * C);
        const ref = new Float32Array(rows * C);
        embeddingForward(ref, tokens, wte, wpe, B, T, C);
        const out = upload(gpu, new Float32Array(rows * C).fill(9));
        const tb = upload(gpu, tokens), eb = upload(gpu, wte);
        const pb = upload(gpu, wpe);
        const [got] = await runAndRead(
          gpu,
          (enc) =>
            encodeEmbeddingForward(gpu, enc, {
              out,
              tokens: tb,
              wte: eb,
              wpe: pb,
            }, { B, T, C }),
          [[out, rows * C]],
        );
        // One correctly rounded float32 addition on both sides (the twin's
        // float64 sum of two float32 values rounds to the same float32).
        assertAllClose(got, ref, { atol: 0, rtol: 0 }, "embedding");
        for (const b of [out, tb, eb, pb]) b.destroy();
      });

      it(`overwrite both gradient tables like the CPU twin (${tag})`, async () => {
        const gpu = await testGpu();
        const tokens = tokensOf(c, rows + 1);
        const dout = data(rows + 2).normals(rows * C);
        const dwte = new Float32Array(V * C), dwpe = new Float32Array(maxT * C);
        embeddingBackward(dwte, dwpe, dout, tokens, B, T, C);
        const absTe = new Float32Array(V * C),
          absPe = new Float32Array(maxT * C);
        embeddingBackward(absTe, absPe, dout.map(Math.abs), tokens, B, T, C);
        // Garbage first: the kernel must overwrite every element.
        const gte = upload(gpu, new Float32Array(V * C).fill(-4));
        const gpe = upload(gpu, new Float32Array(maxT * C).fill(-4));
        const db = upload(gpu, dout), tb = upload(gpu, tokens);
        const record = (enc: GPUCommandEncoder) =>
          encodeEmbeddingBackward(gpu, enc, {
            dwte: gte,
            dwpe: gpe,
            dout: db,
            tokens: tb,
          }, c);
        const [te, pe] = await runAndRead(gpu, record, [
          [gte, V * C],
          [gpe, maxT * C],
        ]);
        // Both sides add the same float32 values in the same order (rows
        // in increasing order), each addition correctly rounded: equal.
        // Stated as the general bound of a k-term float32 sum,
        // (k − 1)u·Σ|terms| ≤ rows·u·Σ|terms|, which is 0 for unused rows.
        assertWithin(te, dwte, absTe.map((a) => rows * U * a), "dwte");
        assertWithin(pe, dwpe, absPe.map((a) => rows * U * a), "dwpe");
        // Unused vocabulary rows and positions past T are zero, not left alone.
        assertEquals([...te.subarray((V - 2) * C)], new Array(2 * C).fill(0));
        assertEquals(
          [...pe.subarray(T * C)],
          new Array((maxT - T) * C).fill(0),
        );
        // A second run gives the same bits (fixed summation order).
        const [te2] = await runAndRead(gpu, record, [[gte, V * C]]);
        assertEquals(
          new Uint32Array(te2.buffer),
          new Uint32Array(te.buffer),
        );
        for (const b of [gte, gpe, db, tb]) b.destroy();
      });
    }

    it("reject sizes and bindings that do not fit", async () => {
      const gpu = await testGpu();
      const small = upload(gpu, 16), big = upload(gpu, 4096);
      const enc = gpu.device.createCommandEncoder();
      const b = { dwte: big, dwpe: big, dout: big, tokens: big };
      await assertRejects(
        () =>
          encodeEmbeddingBackward(gpu, enc, b, {
            B: 1,
            T: 4,
            C: 2,
            V: 3,
            maxT: 3,
          }),
        RangeError,
        "maxT must be an integer from 4",
      );
      await assertRejects(
        () =>
          encodeEmbeddingForward(gpu, enc, {
            out: small,
            tokens: big,
            wte: big,
            wpe: big,
          }, { B: 2, T: 3, C: 4 }),
        RangeError,
        "out holds 16 bytes, needs 96",
      );
      await assertRejects(
        () =>
          encodeEmbeddingForward(gpu, enc, {
            out: big,
            tokens: big,
            wte: big,
            wpe: big,
          }, { B: 2, T: 1.5, C: 4 }),
        RangeError,
        "T must be an integer",
      );
      small.destroy();
      big.destroy();
    });
  },
});
