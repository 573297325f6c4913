// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Pure parts of the WebGPU runtime: chunk planning, 2D grids, f16 rounding,
// kernel specialisation. No GPU needed.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  f16BitsToF32,
  f32ToF16Bits,
  grid2d,
  planTokenChunks,
  roundToF16,
} from "@birkhoff/mhc";
import { specializeStreams } from "../src/gpu/specialize.ts";
import { postWgsl } from "../src/kernels/post.ts";
import { rng } from "./_rand.ts";
import { SPLIT_LIMITS } from "./conformance/backends.ts";
import { STREAM_SHAPES } from "./conformance/shapes.ts";

describe("planTokenChunks", () => {
  it("keeps every binding within the limit and every offset aligned", () => {
    const r = rng(3);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + r.int(8), C = 1 + r.int(300), T = 1 + r.int(5000);
      const es = r.uniform() < 0.5 ? 2 : 4;
      const bytes = [n * C * es, C * es, n * 4, n * n * 4];
      const limits = {
        maxStorageBufferBindingSize: 4 * (16384 + r.int(100000)),
        maxComputeWorkgroupsPerDimension: 2 + r.int(100),
        minStorageBufferOffsetAlignment: 256,
      };
      const groups = (t: number) => Math.ceil(t * C / 256);
      let chunks;
      try {
        chunks = planTokenChunks(T, bytes, limits, groups);
      } catch (e) {
        // Only when one aligned group of tokens cannot fit.
        assert(e instanceof RangeError);
        continue;
      }
      let next = 0;
      for (const { first, count } of chunks) {
        assertEquals(first, next, "chunks must be contiguous");
        assert(count >= 1);
        for (const b of bytes) {
          assertEquals((first * b) % 256, 0, `offset of ${b} B/token`);
          assert(
            Math.ceil(count * b / 4) * 4 <= limits.maxStorageBufferBindingSize,
          );
        }
        assert(groups(count) <= limits.maxComputeWorkgroupsPerDimension ** 2);
        next = first + count;
      }
      assertEquals(next, T, "chunks must cover every token");
    }
  });

  it("uses one chunk when everything fits", () => {
    const limits = {
      maxStorageBufferBindingSize: 1 << 27,
      maxComputeWorkgroupsPerDimension: 65535,
      minStorageBufferOffsetAlignment: 256,
    };
    assertEquals(planTokenChunks(19, [4 * 37 * 4, 37 * 4], limits, (t) => t), [
      { first: 0, count: 19 },
    ]);
  });

  it("throws a RangeError when one aligned token group cannot fit", () => {
    assertThrows(
      () =>
        planTokenChunks(1000, [4000, 4], {
          maxStorageBufferBindingSize: 8192,
          maxComputeWorkgroupsPerDimension: 65535,
          minStorageBufferOffsetAlignment: 256,
        }, (t) => t),
      RangeError,
      "Cannot split the tokens",
    );
  });
});

describe("grid2d", () => {
  it("covers the workgroups without exceeding the per-dimension limit", () => {
    for (
      const [w, max] of [[0, 8], [1, 8], [8, 8], [9, 8], [64, 8], [
        65536,
        65535,
      ], [1e6, 65535]]
    ) {
      const [x, y] = grid2d(w, max);
      assert(x <= max && y <= max, `${w} on ${max}: [${x}, ${y}]`);
      assert(
        x * y >= w && (w === 0 || x * y - w < x),
        `${w} on ${max}: [${x}, ${y}]`,
      );
    }
  });
});

describe("f16 conversion", () => {
  const f16round = (Math as unknown as { f16round?: (v: number) => number })
    .f16round;

  it("rounds like Math.f16round on random and special values", () => {
    assert(f16round, "this Deno has Math.f16round to compare with");
    const r = rng(9);
    const values = [
      0,
      -0,
      1,
      -1,
      65504,
      65520,
      65519.99,
      1e-8,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      2 ** -14,
      2 ** -14 - 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      Infinity,
      -Infinity,
      1e6,
    ];
    for (let i = 0; i < 20000; i++) {
      values.push(r.normal() * 2 ** (r.int(40) - 25));
    }
    const f32 = Float32Array.from(values);
    const got = roundToF16(f32);
    for (let i = 0; i < f32.length; i++) {
      assertEquals(got[i], f16round(f32[i]), `value ${f32[i]}`);
    }
    assert(Number.isNaN(roundToF16([NaN])[0]));
  });

  it("round-trips every finite f16 bit pattern", () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const values = f16BitsToF32(bits);
    const back = f32ToF16Bits(values);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(values[i])) continue;
      assertEquals(back[i], i, `pattern ${i.toString(16)}`);
    }
  });
});

describe("specializeStreams", () => {
  it("rewrites the block for n, width and precision and keeps line numbers", () => {
    const v = specializeStreams(postWgsl, { n: 7, width: 1, precision: "f16" });
    const lines = v.split("\n"), orig = postWgsl.split("\n");
    assertEquals(lines.length, orig.length);
    assert(lines[0].startsWith("enable f16; // @specialize begin"));
    assert(lines.includes("const N: u32 = 7u;"));
    assert(lines.includes("alias S = f16;"));
    assert(lines.includes("alias SV = S;"));
    const main = orig.findIndex((l) => l.startsWith("fn main("));
    assertEquals(lines[main], orig[main]);
  });

  it("throws when a kernel has no specialisation block", () => {
    assertThrows(
      () =>
        specializeStreams("fn main() {}", { n: 1, width: 1, precision: "f32" }),
      Error,
      "no",
    );
  });
});

describe("the split backend of the conformance suite", () => {
  it("cuts the T = 300 stream cases into chunks and 2D grids", () => {
    const limits = { ...SPLIT_LIMITS, minStorageBufferOffsetAlignment: 256 };
    const big = STREAM_SHAPES.filter((s) => s.T === 300);
    assert(big.length >= 2);
    let grids2d = 0;
    for (const { n, C, T } of big) {
      const cv = C % 4 === 0 ? C / 4 : C;
      const bytes = [n * C * 4, C * 4, n * 4, n * n * 4];
      const forward = (t: number) => Math.ceil(t * cv / 256);
      const chunks = planTokenChunks(T, bytes, limits, forward);
      assert(chunks.length > 1, `n=${n} C=${C}: ${chunks.length} chunk(s)`);
      const backward = planTokenChunks(T, bytes, limits, (t) => t);
      assert(backward.length > 1);
      for (
        const c of [
          ...chunks.map((c) => forward(c.count)),
          ...backward.map((c) => c.count),
        ]
      ) {
        if (grid2d(c, 8)[1] > 1) grids2d++;
      }
    }
    assert(grids2d > 0, "some chunk must need a 2D grid");
  });
});
