// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The float32 path: each op given Float32Arrays returns Float32Arrays, and
// agrees with the float64 path run on the same (f32-representable) inputs.
//
// Tolerances. The f32 unit roundoff is u = 2^-24 ≈ 6e-8.
// - pre, post and the stream ops accumulate in JS numbers (f64) and round
//   once on store, so their f32 result is exactly fround(f64 result).
// - The coefficient passes and Sinkhorn store intermediates in f32 (as a GPU
//   kernel would): logits, 1/r and each of the 2·20 Sinkhorn iterates are
//   rounded, so errors of a few tens of u are expected. The bound used is
//   |a32 − a64| ≤ 64u·max(1, max|a64|) ≈ 4e-6·scale; measured errors are at
//   most ~5e-7·scale on these inputs, and a wrong formula gives errors of
//   order 1e-2 or more.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  expandStreams,
  expandStreamsBackward,
  hcCoefficients,
  hcCoefficientsBackward,
  mhcCoefficients,
  mhcCoefficientsBackward,
  mhcPost,
  mhcPostBackward,
  mhcPre,
  mhcPreBackward,
  reduceStreams,
  reduceStreamsBackward,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { type Rng, rng } from "./_rand.ts";

const U = 2 ** -24;
const TOL = 64 * U;

/** Random f32 data and the same values as f64. */
function pair(r: Rng, length: number, scale = 1): [Float32Array, Float64Array] {
  const a = new Float32Array(r.normals(length, scale));
  return [a, Float64Array.from(a)];
}

/** Asserts `a` is a Float32Array within `TOL·max(1, max|b|)` of `b`. */
function assertF32Close(a: unknown, b: ArrayLike<number>, what: string): void {
  assertInstanceOf(a, Float32Array, what);
  assertEquals(a.length, b.length, what);
  let scale = 1;
  for (let k = 0; k < b.length; k++) scale = Math.max(scale, Math.abs(b[k]));
  for (let k = 0; k < b.length; k++) {
    const e = Math.abs(a[k] - b[k]);
    assert(
      e <= TOL * scale,
      `${what}[${k}]: f32 ${a[k]} vs f64 ${b[k]} (error ${e}, bound ${
        TOL * scale
      })`,
    );
  }
}

/** Asserts `a` is a Float32Array equal to fround of every element of `b`. */
function assertRounded(a: unknown, b: ArrayLike<number>, what: string): void {
  assertInstanceOf(a, Float32Array, what);
  assertEquals(a.length, b.length, what);
  for (let k = 0; k < b.length; k++) {
    assertStrictEquals(a[k], Math.fround(b[k]), `${what}[${k}]`);
  }
}

const SHAPES = [
  { n: 4, C: 13, T: 3 },
  { n: 3, C: 7, T: 2 },
  { n: 8, C: 5, T: 2 },
  { n: 1, C: 5, T: 2 },
];

describe("the float32 path", () => {
  it("of the stream ops, pre and post rounds the float64 result once", () => {
    const r = rng(1);
    for (const s of SHAPES) {
      const { n, C, T } = s;
      const [x32, x64] = pair(r, T * n * C), [y32, y64] = pair(r, T * C);
      const [hp32, hp64] = pair(r, T * n), [hq32, hq64] = pair(r, T * n);
      const [hr32, hr64] = pair(r, T * n * n), [g32, g64] = pair(r, T * n * C);
      assertRounded(expandStreams(y32, s), expandStreams(y64, s), "expand");
      assertRounded(
        expandStreamsBackward(x32, s),
        expandStreamsBackward(x64, s),
        "expandBackward",
      );
      assertRounded(reduceStreams(x32, s), reduceStreams(x64, s), "reduce");
      assertRounded(
        reduceStreamsBackward(y32, s),
        reduceStreamsBackward(y64, s),
        "reduceBackward",
      );
      assertRounded(mhcPre(x32, hp32, s), mhcPre(x64, hp64, s), "pre");
      const pb32 = mhcPreBackward(x32, hp32, y32, s);
      const pb64 = mhcPreBackward(x64, hp64, y64, s);
      assertRounded(pb32.x, pb64.x, "pre grad x");
      assertRounded(pb32.hPre, pb64.hPre, "pre grad hPre");
      assertRounded(
        mhcPost(x32, y32, hq32, hr32, s),
        mhcPost(x64, y64, hq64, hr64, s),
        "post",
      );
      const qb32 = mhcPostBackward(x32, y32, hq32, hr32, g32, s);
      const qb64 = mhcPostBackward(x64, y64, hq64, hr64, g64, s);
      for (const k of ["x", "y", "hPost", "hRes"] as const) {
        assertRounded(qb32[k], qb64[k], `post grad ${k}`);
      }
    }
  });

  it("of sinkhornKnopp and its backward agrees with float64 within 64 f32 ulps of scale", () => {
    const r = rng(2);
    for (const { n, T } of SHAPES) {
      for (const scale of [1, 5, 30]) {
        for (const eps of [0, 1e-6]) {
          const o = { n, T, eps };
          const [l32, l64] = pair(r, T * n * n, scale);
          const [g32, g64] = pair(r, T * n * n);
          const what = `n=${n} scale=${scale} eps=${eps}`;
          assertF32Close(sinkhornKnopp(l32, o), sinkhornKnopp(l64, o), what);
          assertF32Close(
            sinkhornKnoppBackward(l32, g32, o),
            sinkhornKnoppBackward(l64, g64, o),
            `grad ${what}`,
          );
        }
      }
    }
  });

  it("of mhcCoefficients and its backward agrees with float64 within 64 f32 ulps of scale", () => {
    const r = rng(3);
    for (const s of SHAPES) {
      const { n, C, T } = s, K = n * n + 2 * n;
      const [x32, x64] = pair(r, T * n * C);
      const [phi32, phi64] = pair(r, n * C * K, 0.3);
      const [b32, b64] = pair(r, K);
      const alphas = { alphaPre: 0.7, alphaPost: 0.9, alphaRes: 0.8 };
      const p32 = { phi: phi32, bias: b32, ...alphas };
      const p64 = { phi: phi64, bias: b64, ...alphas };
      const f32 = mhcCoefficients(x32, p32, s),
        f64 = mhcCoefficients(x64, p64, s);
      for (const k of ["hPre", "hPost", "hRes", "logits", "invRms"] as const) {
        assertF32Close(f32[k], f64[k], `n=${n} ${k}`);
      }
      const [gp32, gp64] = pair(r, T * n), [gq32, gq64] = pair(r, T * n);
      const [gr32, gr64] = pair(r, T * n * n);
      const g32 = mhcCoefficientsBackward(x32, p32, f32, {
        hPre: gp32,
        hPost: gq32,
        hRes: gr32,
      }, s);
      const g64 = mhcCoefficientsBackward(x64, p64, f64, {
        hPre: gp64,
        hPost: gq64,
        hRes: gr64,
      }, s);
      for (const k of ["x", "phi", "bias"] as const) {
        assertF32Close(g32[k], g64[k], `n=${n} grad ${k}`);
      }
      assertF32Close(
        new Float32Array([g32.alphaPre, g32.alphaPost, g32.alphaRes]),
        [g64.alphaPre, g64.alphaPost, g64.alphaRes],
        `n=${n} grad α`,
      );
    }
  });

  it("of hcCoefficients and its backward agrees with float64 within 64 f32 ulps of scale", () => {
    const r = rng(4);
    for (const s of SHAPES) {
      const { n, C, T } = s, K = n * n + 2 * n;
      const [x32, x64] = pair(r, T * n * C);
      const [th32, th64] = pair(r, (n + 2) * C, 0.5);
      const [b32, b64] = pair(r, K);
      const alphas = { alphaPre: 0.7, alphaPost: 0.9, alphaRes: 0.8 };
      const p32 = { theta: th32, bias: b32, ...alphas };
      const p64 = { theta: th64, bias: b64, ...alphas };
      const f32 = hcCoefficients(x32, p32, s),
        f64 = hcCoefficients(x64, p64, s);
      for (const k of ["hPre", "hPost", "hRes", "logits", "invRms"] as const) {
        assertF32Close(f32[k], f64[k], `n=${n} ${k}`);
      }
      const [gp32, gp64] = pair(r, T * n), [gq32, gq64] = pair(r, T * n);
      const [gr32, gr64] = pair(r, T * n * n);
      const g32 = hcCoefficientsBackward(x32, p32, f32, {
        hPre: gp32,
        hPost: gq32,
        hRes: gr32,
      }, s);
      const g64 = hcCoefficientsBackward(x64, p64, f64, {
        hPre: gp64,
        hPost: gq64,
        hRes: gr64,
      }, s);
      for (const k of ["x", "theta", "bias"] as const) {
        assertF32Close(g32[k], g64[k], `n=${n} grad ${k}`);
      }
    }
  });
});
