// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Amax gain diagnostics (SPEC §8) against hand computations and against
// composite products computed independently in the test.
import {
  assertAlmostEquals,
  assertEquals,
  assertInstanceOf,
  assertLess,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { amaxGain, sinkhornKnopp } from "@birkhoff/mhc";
import { rng } from "./_rand.ts";
import { block, type Mat, matmul } from "./_naive.ts";

const rowGain = (m: Mat) =>
  Math.max(...m.map((row) => Math.abs(row.reduce((a, v) => a + v, 0))));
const colGain = (m: Mat) =>
  Math.max(
    ...m[0].map((_, j) => Math.abs(m.reduce((a, row) => a + row[j], 0))),
  );

/**
 * Independent gains: for every token and site `l`, the composite
 * `P_l = H[L−1] ··· H[l]` is multiplied out from scratch.
 */
function independentGains(sites: Float64Array[], n: number, T: number) {
  const L = sites.length;
  const fwd = new Float64Array(L), bwd = new Float64Array(L);
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) {
      let p = block(sites[L - 1], n, t);
      for (let m = L - 2; m >= l; m--) p = matmul(p, block(sites[m], n, t));
      fwd[l] += rowGain(p) / T;
      bwd[l] += colGain(p) / T;
    }
  }
  return { fwd, bwd };
}

describe("amaxGain", () => {
  it("matches a hand computation on two 2×2 sites, where the product order matters", () => {
    // H0 = [[1, 2], [0, 1]], H1 = [[2, 0], [1, 1]] (site 0 first).
    // P_1 = H1: row sums 2, 2; column sums 3, 1.
    // P_0 = H1·H0 = [[2, 4], [1, 3]]: row sums 6, 4; column sums 3, 7.
    // (The wrong order H0·H1 = [[4, 2], [1, 1]] has column sums 5, 3.)
    const g = amaxGain([
      new Float64Array([1, 2, 0, 1]),
      new Float64Array([2, 0, 1, 1]),
    ], { n: 2, T: 1 });
    assertEquals([...g.compositeForward], [6, 2]);
    assertEquals([...g.compositeBackward], [7, 3]);
    assertEquals([...g.siteForward], [3, 2]);
    assertEquals([...g.siteBackward], [3, 3]);
    assertEquals(g.maxForward, 6);
    assertEquals(g.maxBackward, 7);
  });

  it("takes the absolute value of the row and column sums", () => {
    // [[-3, 1], [0, 1]]: row sums −2, 1; column sums −3, 2.
    const g = amaxGain([new Float32Array([-3, 1, 0, 1])], { n: 2, T: 1 });
    assertEquals([...g.compositeForward], [2]);
    assertEquals([...g.compositeBackward], [3]);
  });

  it("averages each curve over tokens, and takes the maxima of the averaged curves", () => {
    // Token 0 as in the hand computation; token 1: H0 = I, H1 = 2I, so
    // P_0 = P_1 = 2I with every gain 2.
    const g = amaxGain([
      new Float64Array([1, 2, 0, 1, 1, 0, 0, 1]),
      new Float64Array([2, 0, 1, 1, 2, 0, 0, 2]),
    ], { n: 2, T: 2 });
    assertEquals([...g.compositeForward], [(6 + 2) / 2, (2 + 2) / 2]);
    assertEquals([...g.compositeBackward], [(7 + 2) / 2, (3 + 2) / 2]);
    assertEquals([...g.siteForward], [(3 + 1) / 2, (2 + 2) / 2]);
    assertEquals([...g.siteBackward], [(3 + 1) / 2, (3 + 2) / 2]);
    assertEquals(g.maxForward, 4);
    assertEquals(g.maxBackward, 4.5);
  });

  it("matches composite products computed independently, for random sites", () => {
    const r = rng(1);
    for (const [n, T, L] of [[2, 3, 5], [3, 2, 4], [4, 5, 6], [1, 2, 3]]) {
      const sites = Array.from({ length: L }, () => r.normals(T * n * n, 0.8));
      const g = amaxGain(sites, { n, T });
      const want = independentGains(sites, n, T);
      for (let l = 0; l < L; l++) {
        const tol = 1e-12 * Math.max(1, want.fwd[l], want.bwd[l]);
        assertAlmostEquals(g.compositeForward[l], want.fwd[l], tol);
        assertAlmostEquals(g.compositeBackward[l], want.bwd[l], tol);
      }
      assertEquals(g.maxForward, Math.max(...g.compositeForward));
      assertEquals(g.maxBackward, Math.max(...g.compositeBackward));
      assertInstanceOf(g.compositeForward, Float64Array);
      assertEquals(g.compositeForward.length, L);
    }
  });

  it("gives gain 1 for doubly stochastic sites", () => {
    const n = 3, swap = [0, 1, 0, 1, 0, 0, 0, 0, 1];
    const third = new Array(9).fill(1 / 3);
    const exact = amaxGain(
      [new Float64Array(swap), new Float64Array(third), new Float64Array(swap)],
      { n, T: 1 },
    );
    for (
      const curve of [
        exact.compositeForward,
        exact.compositeBackward,
        exact.siteForward,
        exact.siteBackward,
      ]
    ) {
      for (const v of curve) assertAlmostEquals(v, 1, 1e-15);
    }
    // Sinkhorn outputs: rows sum to 1, so forward gains are 1 to float
    // error; backward gains deviate by the column error (tiny at 200
    // iterations, small at the default 20).
    const r = rng(2), T = 8, L = 12;
    for (const iterations of [200, 20]) {
      const sites = Array.from(
        { length: L },
        () => sinkhornKnopp(r.normals(T * n * n), { n, T, iterations }),
      );
      const g = amaxGain(sites, { n, T });
      for (let l = 0; l < L; l++) {
        assertAlmostEquals(g.compositeForward[l], 1, 1e-13);
        assertAlmostEquals(
          g.compositeBackward[l],
          1,
          iterations === 200 ? 1e-12 : 1e-2,
        );
      }
    }
  });

  it("grows geometrically with depth for a scaled identity at every site", () => {
    const n = 4, T = 2, L = 6, s = 1.5;
    const si = new Float64Array(T * n * n);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) si[t * 16 + i * 5] = s;
    }
    const g = amaxGain(Array.from({ length: L }, () => si), { n, T });
    for (let l = 0; l < L; l++) {
      const want = s ** (L - l);
      assertLess(Math.abs(g.compositeForward[l] - want), 1e-12 * want);
      assertLess(Math.abs(g.compositeBackward[l] - want), 1e-12 * want);
      assertAlmostEquals(g.siteForward[l], s, 1e-15);
    }
    assertAlmostEquals(g.maxForward, s ** L, 1e-12);
    assertAlmostEquals(g.maxBackward, s ** L, 1e-12);
  });
});
