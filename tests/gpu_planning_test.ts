// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Pure parts of the WebGPU runtime: chunk planning, 2D grids, f16 rounding,
// kernel specialisation. No GPU needed. (That the conformance suite's split
// cases really run in chunks on 2D grids is checked on the dispatched grids,
// in tests/conformance_test.ts.)
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertThrows,
} from "@std/assert";
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

/**
 * Tokens in the smallest chunk that keeps every binding offset a multiple of
 * `align`: the least common multiple of `align / gcd(align, b)` over the
 * per-token byte counts `b`.
 */
function alignedGroup(bytes: readonly number[], align: number): number {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  let q = 1;
  for (const b of bytes) {
    const k = align / gcd(align, b);
    q = q * k / gcd(q, k);
  }
  return q;
}

describe("planTokenChunks", () => {
  it("keeps every binding within the limit and every offset aligned", () => {
    const r = rng(3);
    // Every trial either plans or is refused; both are counted, so that the
    // test fails if most trials throw (it checked nothing then).
    let planned = 0, split = 0, refused = 0;
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
        // Only when one aligned group of tokens cannot fit: the smallest
        // chunk that keeps every later offset aligned is too big.
        assert(e instanceof RangeError);
        const q = alignedGroup(bytes, 256);
        assert(
          q * Math.max(...bytes) > limits.maxStorageBufferBindingSize ||
            groups(q) > limits.maxComputeWorkgroupsPerDimension ** 2,
          `refused a plan where ${q} token(s) fit: n=${n} C=${C} T=${T}`,
        );
        refused++;
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
      planned++;
      if (chunks.length > 1) split++;
    }
    assertEquals(planned + refused, 300);
    assertGreaterOrEqual(planned, 200, `only ${planned} of 300 trials planned`);
    assertGreaterOrEqual(split, 150, `only ${split} plans had several chunks`);
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
