// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Finite-difference checks of every backward of the reference except
// Sinkhorn's (see reference_sinkhorn_test.ts). Each loss is Σ G ⊙ output with
// a random upstream gradient G, in float64; every element of every gradient
// is compared under the criterion of _fd.ts (|a − fd| ≤ 1e-6·max(1, |fd|) per
// element and ‖a − fd‖ ≤ 1e-6·‖fd‖).
import {
  assert,
  assertGreater,
  assertInstanceOf,
  AssertionError,
  assertThrows,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  expandStreams,
  expandStreamsBackward,
  hcCoefficients,
  hcCoefficientsBackward,
  type HcParams,
  mhcCoefficients,
  mhcCoefficientsBackward,
  type MhcParams,
  mhcPost,
  mhcPostBackward,
  mhcPre,
  mhcPreBackward,
  reduceStreams,
  reduceStreamsBackward,
  sinkhornIterationCounts,
} from "@birkhoff/mhc";
import { rng } from "./_rand.ts";
import { assertGradientClose, fdGradient, fdScalar } from "./_fd.ts";

/** `Σ_k a[k]·b[k]`. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** Shapes: n in 1..4, C not a power of two, T > 1. */
const SHAPES = [
  { n: 1, C: 5, T: 2 },
  { n: 2, C: 7, T: 3 },
  { n: 3, C: 5, T: 2 },
  { n: 4, C: 13, T: 2 },
];

type CoefOptions = {
  n: number;
  C: number;
  T: number;
  iterations?: number;
  eps?: number;
  normEps?: number;
  tolerance?: number;
};

describe("mhcCoefficientsBackward", () => {
  const run = (options: CoefOptions, seed: number, alphaScale = 0.8) => {
    const { n, C, T } = options, K = n * n + 2 * n, r = rng(seed);
    const x = r.normals(T * n * C);
    const params: MhcParams<Float64Array> = {
      phi: r.normals(n * C * K, 0.3),
      bias: r.normals(K),
      alphaPre: alphaScale * (0.5 + r.uniform()),
      alphaPost: alphaScale * (0.5 + r.uniform()),
      alphaRes: alphaScale * (0.5 + r.uniform()),
    };
    const up = {
      hPre: r.normals(T * n),
      hPost: r.normals(T * n),
      hRes: r.normals(T * n * n),
    };
    // Sinkhorn iterations of each token (with a tolerance, its own count).
    const counts = (logits: Float64Array) =>
      sinkhornIterationCounts(
        Float64Array.from(
          { length: T * n * n },
          (_, i) => logits[Math.floor(i / (n * n)) * K + 2 * n + i % (n * n)],
        ),
        { ...options, T },
      );
    const fwd = mhcCoefficients(x, params, options);
    const base = counts(fwd.logits);
    const loss = () => {
      const f = mhcCoefficients(x, params, options);
      // The count is piecewise constant: no finite-difference step may cross
      // a switch, or the difference would see a jump, not the derivative.
      const moved = counts(f.logits);
      if (!moved.every((c, t) => c === base[t])) {
        throw new AssertionError("a finite-difference step crossed a switch");
      }
      return dot(f.hPre, up.hPre) + dot(f.hPost, up.hPost) +
        dot(f.hRes, up.hRes);
    };
    const g = mhcCoefficientsBackward(x, params, fwd, up, options);
    const what = JSON.stringify(options);
    assertInstanceOf(g.x, Float64Array);
    assertGradientClose(`x ${what}`, g.x, fdGradient(loss, x));
    assertGradientClose(`phi ${what}`, g.phi, fdGradient(loss, params.phi));
    assertGradientClose(`bias ${what}`, g.bias, fdGradient(loss, params.bias));
    for (const a of ["alphaPre", "alphaPost", "alphaRes"] as const) {
      const saved = params[a];
      const fd = fdScalar((v) => {
        params[a] = v;
        const l = loss();
        params[a] = saved;
        return l;
      }, saved);
      assertGradientClose(`${a} ${what}`, [g[a]], [fd]);
    }
    // The check is not vacuous: the gradients are far from zero.
    assertGreater(Math.hypot(...g.x), 1e-3);
    assertGreater(Math.hypot(...g.phi), 1e-3);
    return base;
  };

  it("matches finite differences for x, φ, b and the three α, for n = 1, 2, 3, 4", () => {
    let seed = 100;
    for (const shape of SHAPES) run(shape, seed++);
  });

  it("matches finite differences with 1 and 3 Sinkhorn iterations, eps > 0 and a large normEps", () => {
    run({ n: 3, C: 5, T: 2, iterations: 1 }, 110);
    run({ n: 4, C: 7, T: 2, iterations: 3 }, 111);
    run({ n: 3, C: 7, T: 3, eps: 1e-6 }, 112);
    run({ n: 2, C: 5, T: 2, eps: 1e-2, iterations: 4 }, 113);
    run({ n: 3, C: 5, T: 2, normEps: 0.7 }, 114);
  });

  it("matches finite differences when the Sinkhorn tolerance stops tokens after different counts, in both eps modes", () => {
    for (
      const [options, seed] of [
        [{ n: 3, C: 5, T: 5, tolerance: 1e-3 }, 115],
        [{ n: 4, C: 7, T: 5, tolerance: 1e-4, iterations: 30 }, 116],
        [{ n: 3, C: 5, T: 5, tolerance: 1e-2, eps: 1e-3 }, 117],
      ] as const
    ) {
      const counts = run(options, seed, 2);
      const what = JSON.stringify(options);
      assertGreater(new Set(counts).size, 1, `${what}: counts differ`);
      const cap = "iterations" in options ? options.iterations : 20;
      assert(counts.some((c) => c < cap), `${what}: some stop early`);
    }
  });

  it("matches finite differences at the initial scale α = 0.01", () => {
    run({ n: 4, C: 5, T: 2 }, 120, 0.01);
  });
});

describe("mhcPreBackward", () => {
  it("matches finite differences for x and H_pre, for n = 1, 2, 3, 4", () => {
    let seed = 200;
    for (const options of SHAPES) {
      const { n, C, T } = options, r = rng(seed++);
      const x = r.normals(T * n * C), hPre = r.normals(T * n);
      const gu = r.normals(T * C);
      const loss = () => dot(mhcPre(x, hPre, options), gu);
      const g = mhcPreBackward(x, hPre, gu, options);
      const what = JSON.stringify(options);
      assertGradientClose(`x ${what}`, g.x, fdGradient(loss, x));
      assertGradientClose(`hPre ${what}`, g.hPre, fdGradient(loss, hPre));
    }
  });
});

describe("mhcPostBackward", () => {
  it("matches finite differences for x, y, H_post and H_res, for n = 1, 2, 3, 4", () => {
    let seed = 300;
    for (const options of SHAPES) {
      const { n, C, T } = options, r = rng(seed++);
      const x = r.normals(T * n * C), y = r.normals(T * C);
      const hPost = r.normals(T * n), hRes = r.normals(T * n * n);
      const go = r.normals(T * n * C);
      const loss = () => dot(mhcPost(x, y, hPost, hRes, options), go);
      const g = mhcPostBackward(x, y, hPost, hRes, go, options);
      const what = JSON.stringify(options);
      assertGradientClose(`x ${what}`, g.x, fdGradient(loss, x));
      assertGradientClose(`y ${what}`, g.y, fdGradient(loss, y));
      assertGradientClose(`hPost ${what}`, g.hPost, fdGradient(loss, hPost));
      assertGradientClose(`hRes ${what}`, g.hRes, fdGradient(loss, hRes));
    }
  });
});

describe("hcCoefficientsBackward", () => {
  it("matches finite differences for x, θ, b and the three α, for n = 1, 2, 3, 4", () => {
    let seed = 400;
    for (const base of SHAPES) {
      for (const normEps of [undefined, 0.3]) {
        const options = { ...base, normEps };
        const { n, C, T } = options, K = n * n + 2 * n, r = rng(seed++);
        const x = r.normals(T * n * C);
        const params: HcParams<Float64Array> = {
          theta: r.normals((n + 2) * C, 0.5),
          bias: r.normals(K),
          alphaPre: 0.5 + r.uniform(),
          alphaPost: 0.5 + r.uniform(),
          alphaRes: 0.5 + r.uniform(),
        };
        const up = {
          hPre: r.normals(T * n),
          hPost: r.normals(T * n),
          hRes: r.normals(T * n * n),
        };
        const loss = () => {
          const f = hcCoefficients(x, params, options);
          return dot(f.hPre, up.hPre) + dot(f.hPost, up.hPost) +
            dot(f.hRes, up.hRes);
        };
        const fwd = hcCoefficients(x, params, options);
        const g = hcCoefficientsBackward(x, params, fwd, up, options);
        const what = JSON.stringify(options);
        assertGradientClose(`x ${what}`, g.x, fdGradient(loss, x));
        assertGradientClose(
          `theta ${what}`,
          g.theta,
          fdGradient(loss, params.theta),
        );
        assertGradientClose(
          `bias ${what}`,
          g.bias,
          fdGradient(loss, params.bias),
        );
        for (const a of ["alphaPre", "alphaPost", "alphaRes"] as const) {
          const saved = params[a];
          const fd = fdScalar((v) => {
            params[a] = v;
            const l = loss();
            params[a] = saved;
            return l;
          }, saved);
          assertGradientClose(`${a} ${what}`, [g[a]], [fd]);
        }
        assertGreater(Math.hypot(...g.x), 1e-3);
      }
    }
  });
});

describe("expandStreamsBackward and reduceStreamsBackward", () => {
  it("match finite differences of expandStreams and reduceStreams", () => {
    let seed = 500;
    for (const options of SHAPES) {
      const { n, C, T } = options, r = rng(seed++);
      const e = r.normals(T * C), gx = r.normals(T * n * C);
      const ge = expandStreamsBackward(gx, options);
      assertGradientClose(
        "expandStreams",
        ge,
        fdGradient(() => dot(expandStreams(e, options), gx), e),
      );
      const x = r.normals(T * n * C), gy = r.normals(T * C);
      const gr = reduceStreamsBackward(gy, options);
      assertGradientClose(
        "reduceStreams",
        gr,
        fdGradient(() => dot(reduceStreams(x, options), gy), x),
      );
    }
  });
});

describe("the finite-difference check", () => {
  it("rejects a gradient with one element off by 1e-4 of its size, and NaN", () => {
    const r = rng(600), options = { n: 3, C: 5, T: 2 };
    const x = r.normals(30), y = r.normals(10), hPost = r.normals(6);
    const hRes = r.normals(18), go = r.normals(30);
    const g = mhcPostBackward(x, y, hPost, hRes, go, options);
    const fd = fdGradient(
      () => dot(mhcPost(x, y, hPost, hRes, options), go),
      hRes,
    );
    assertGradientClose("hRes", g.hRes, fd);
    const bad = g.hRes.slice();
    bad[7] += 1e-4 * Math.max(1, Math.abs(bad[7]));
    assertThrows(
      () => assertGradientClose("hRes", bad, fd),
      AssertionError,
      "worst at index 7",
    );
    bad[7] = NaN;
    assertThrows(() => assertGradientClose("hRes", bad, fd), AssertionError);
  });
});
