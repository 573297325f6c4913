// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// One test per mistake of SPEC §10. Each writes a deliberately broken variant
// of the computation and shows that (a) the check used catches the broken
// variant and (b) the reference passes the same check, so the check can fail.
import {
  assert,
  assertEquals,
  assertGreater,
  assertLess,
  assertStrictEquals,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  mhcCoefficients,
  mhcCoefficientsBackward,
  type MhcParams,
  mhcPost,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { rng } from "./_rand.ts";
import { fdGradient, gradientError } from "./_fd.ts";
import { naiveMhcCoefficients, naiveSinkhorn } from "./_naive.ts";

type Shape = { n: number; C: number; T: number };
type PostFn = (
  x: Float64Array,
  y: Float64Array,
  hPost: Float64Array,
  hRes: Float64Array,
  s: Shape,
) => Float64Array;

/**
 * The check for post: `max |post − naive|` where the naive loop is SPEC §2,
 * `x'[i] = Σ_j H_res[i][j]·x[j] + H_post[i]·y`, on random data with a
 * random, hence non-symmetric, `H_res`.
 */
function postError(post: PostFn, seed: number, symmetric = false): number {
  const r = rng(seed), s = { n: 4, C: 7, T: 3 }, { n, C, T } = s;
  const x = r.normals(T * n * C), y = r.normals(T * C);
  const hPost = r.normals(T * n), hRes = r.normals(T * n * n);
  if (symmetric) {
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) {
          hRes[t * n * n + i * n + j] = hRes[t * n * n + j * n + i];
        }
      }
    }
  }
  const got = post(x, y, hPost, hRes, s);
  let err = 0;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        let want = hPost[t * n + i] * y[t * C + c];
        for (let j = 0; j < n; j++) {
          want += hRes[(t * n + i) * n + j] * x[(t * n + j) * C + c];
        }
        err = Math.max(err, Math.abs(got[(t * n + i) * C + c] - want));
      }
    }
  }
  return err;
}

/** A post that applies `H_res` (or its transpose) and may drop the mix. */
function brokenPost(mode: "dropMix" | "transpose"): PostFn {
  return (x, y, hPost, hRes, { n, C, T }) => {
    const out = new Float64Array(T * n * C);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < C; c++) {
          let mixed = 0;
          for (let j = 0; j < n; j++) {
            const h = mode === "transpose"
              ? hRes[(t * n + j) * n + i]
              : hRes[(t * n + i) * n + j];
            mixed += h * x[(t * n + j) * C + c];
          }
          const add = hPost[t * n + i] * y[t * C + c];
          // dropMix: the mixed streams are computed but never added.
          out[(t * n + i) * C + c] = mode === "dropMix" ? add : mixed + add;
        }
      }
    }
    return out;
  };
}

/** Transposes every token's `n × n` block. */
function transposeBlocks(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let t = 0; t < a.length / (n * n); t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        out[t * n * n + j * n + i] = a[t * n * n + i * n + j];
      }
    }
  }
  return out;
}

/** `max |Σ_j H[i][j] − 1|` over rows of every token. */
function rowError(h: ArrayLike<number>, n: number): number {
  let e = 0;
  for (let row = 0; row < h.length / n; row++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += h[row * n + j];
    e = Math.max(e, Math.abs(s - 1));
  }
  return e;
}

/** Random parameters of one mHC site. */
function siteParams(
  n: number,
  C: number,
  seed: number,
): MhcParams<Float64Array> {
  const r = rng(seed), K = n * n + 2 * n;
  return {
    phi: r.normals(n * C * K, 0.3),
    bias: r.normals(K),
    alphaPre: 0.7,
    alphaPost: 0.9,
    alphaRes: 0.8,
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/**
 * The implicit-function (fixed-point) gradient of Sinkhorn: exact only when
 * `P` is doubly stochastic. `g_L = P ⊙ (G − a·1ᵀ − 1·bᵀ)` with `a`, `b` such
 * that `P ⊙ (G − a − b)` has zero row and column sums (solved by alternating
 * updates, which converge for a positive `P`).
 */
function implicitSinkhornBackward(
  p: Float64Array,
  g: Float64Array,
  n: number,
): Float64Array {
  const a = new Float64Array(n), b = new Float64Array(n);
  for (let sweep = 0; sweep < 2000; sweep++) {
    for (let i = 0; i < n; i++) {
      let num = 0, den = 0;
      for (let j = 0; j < n; j++) {
        num += p[i * n + j] * (g[i * n + j] - b[j]);
        den += p[i * n + j];
      }
      a[i] = num / den;
    }
    for (let j = 0; j < n; j++) {
      let num = 0, den = 0;
      for (let i = 0; i < n; i++) {
        num += p[i * n + j] * (g[i * n + j] - a[i]);
        den += p[i * n + j];
      }
      b[j] = num / den;
    }
  }
  return p.map((v, k) => v * (g[k] - a[Math.floor(k / n)] - b[k % n]));
}

describe("SPEC §10 mistakes", () => {
  it("catches mixed streams H_res·x that are computed but never added to the output", () => {
    const ref: PostFn = (x, y, hp, hr, s) => mhcPost(x, y, hp, hr, s);
    assertLess(postError(ref, 1), 1e-13);
    assertGreater(postError(brokenPost("dropMix"), 1), 0.5);
    // A second check that needs no naive loop: with y = 0 and H_res = I the
    // post must give back x.
    const s = { n: 3, C: 5, T: 2 }, x = rng(2).normals(30);
    const eye = new Float64Array(18).map((_, k) => ((k % 9) % 4 === 0 ? 1 : 0));
    const y0 = new Float64Array(10), hp = new Float64Array(6).fill(1);
    assertEquals(mhcPost(x, y0, hp, eye, s), x);
    assertGreater(
      Math.max(
        ...brokenPost("dropMix")(x, y0, hp, eye, s).map((v, k) =>
          Math.abs(v - x[k])
        ),
      ),
      0.5,
    );
  });

  it("catches the transpose of H_res applied, with a non-symmetric H_res", () => {
    const ref: PostFn = (x, y, hp, hr, s) => mhcPost(x, y, hp, hr, s);
    assertLess(postError(ref, 3), 1e-13);
    assertGreater(postError(brokenPost("transpose"), 3), 0.5);
    // Why the check uses a non-symmetric H_res: a symmetric one hides it.
    assertLess(postError(brokenPost("transpose"), 3, true), 1e-13);
  });

  it("catches Sinkhorn normalising rows first (the wrong axes last)", () => {
    // Check: rows sum to 1 to float error (the row step is last), and the
    // output matches SPEC §4 restated with columns first.
    const r = rng(4), n = 4, T = 20, iterations = 2;
    const logits = r.normals(T * n * n, 2);
    // Rows first on L is the transpose of columns first on Lᵀ.
    const broken = transposeBlocks(
      sinkhornKnopp(transposeBlocks(logits, n), { n, T, iterations }),
      n,
    );
    const ref = sinkhornKnopp(logits, { n, T, iterations });
    assertLess(rowError(ref, n), 1e-14);
    assertGreater(rowError(broken, n), 1e-2);
    const spec = naiveSinkhorn(logits, n, iterations);
    const maxDiff = (a: ArrayLike<number>) =>
      Math.max(...spec.map((v, k) => Math.abs(v - a[k])));
    assertLess(maxDiff(ref), 1e-13);
    assertGreater(maxDiff(broken), 1e-2);
  });

  it("catches H_pre and H_post passed through softmax instead of sigmoid and 2·sigmoid", () => {
    // Check 1: H_pre[j] and H_post[j] depend on their own logit only, so
    // changing the bias of stream 1 leaves stream 0's coefficients unchanged.
    // Check 2: at φ = 0 and b = 0 they are exactly sigmoid(0) = 1/2 and
    // 2·sigmoid(0) = 1 (H_pre does not sum to 1).
    const n = 4, C = 5, T = 2, s = { n, C, T };
    const x = rng(5).normals(T * n * C);
    const p = siteParams(n, C, 6);
    const p2 = { ...p, bias: p.bias.slice() };
    p2.bias[1] += 1.5; // pre, stream 1
    p2.bias[n + 1] -= 1.5; // post, stream 1
    const check = (
      f: (pp: MhcParams<Float64Array>) => {
        hPre: ArrayLike<number>;
        hPost: ArrayLike<number>;
      },
    ): boolean => {
      const a = f(p), b = f(p2);
      const own = a.hPre[0] === b.hPre[0] && a.hPost[0] === b.hPost[0];
      const zero = f({
        ...p,
        phi: new Float64Array(p.phi.length),
        bias: new Float64Array(p.bias.length),
      });
      const half = Array.from(zero.hPre).every((v) => v === 0.5) &&
        Array.from(zero.hPost).every((v) => v === 1);
      return own && half;
    };
    assert(check((pp) => mhcCoefficients(x, pp, s)));
    assertEquals(
      check((pp) => naiveMhcCoefficients(x, pp, s, { activation: "softmax" })),
      false,
    );
    // The softmax variant fails each check on its own.
    const soft = (pp: MhcParams<Float64Array>) =>
      naiveMhcCoefficients(x, pp, s, { activation: "softmax" });
    assertGreater(Math.abs(soft(p).hPre[0] - soft(p2).hPre[0]), 1e-3);
    const z = soft({ ...p, phi: new Float64Array(p.phi.length) });
    assertLess(
      Math.abs(z.hPre[0] + z.hPre[1] + z.hPre[2] + z.hPre[3] - 1),
      1e-12,
    );
  });

  it("catches a per-stream RMS instead of one statistic over all n·C values", () => {
    // Check: scale stream 1 of a token by 10 with φ zero on stream 1's rows.
    // Then v·φ is unchanged, so the dynamic part α·m of every logit must be
    // scaled by r(x)/r(x'), the ratio of the RMS over all n·C values. A
    // per-stream RMS leaves it unchanged instead.
    const n = 3, C = 5, T = 1, K = n * n + 2 * n, s = { n, C, T };
    const x = rng(7).normals(n * C);
    const p = siteParams(n, C, 8);
    for (let a = C; a < 2 * C; a++) {
      for (let k = 0; k < K; k++) p.phi[a * K + k] = 0;
    }
    p.bias.fill(0); // so that sigmoid⁻¹(H_pre) is the dynamic part itself
    const x2 = x.map((v, a) => (a >= C && a < 2 * C ? 10 * v : v));
    const rms = (v: Float64Array) =>
      Math.sqrt(v.reduce((acc, e) => acc + e * e, 0) / (n * C) + 1e-6);
    const want = rms(x) / rms(x2);
    const logit = (q: number) => Math.log(q / (1 - q));
    const ratio = (f: (xx: Float64Array) => { hPre: ArrayLike<number> }) =>
      logit(f(x2).hPre[0]) / logit(f(x).hPre[0]);
    const refRatio = ratio((xx) => mhcCoefficients(xx, p, s));
    const badRatio = ratio((xx) =>
      naiveMhcCoefficients(xx, p, s, { rms: "stream" })
    );
    assertLess(Math.abs(refRatio - want), 1e-9);
    assertLess(want, 0.5); // the check is sensitive: r changes a lot
    assertGreater(Math.abs(badRatio - want), 0.3);
    // And the naive per-stream variant is what a per-stream RMS gives: 1.
    assertLess(Math.abs(badRatio - 1), 1e-9);
  });

  it("catches an approximate (implicit, fixed-point) Sinkhorn backward that only holds at convergence", () => {
    const r = rng(9), n = 4;
    const logits = r.normals(n * n, 3), upstream = r.normals(n * n);
    const fdAt = (iterations: number) =>
      fdGradient(
        () => dot(sinkhornKnopp(logits, { n, T: 1, iterations }), upstream),
        logits,
      );
    for (const iterations of [1, 3]) {
      const fd = fdAt(iterations);
      const p = sinkhornKnopp(logits, { n, T: 1, iterations });
      const implicit = implicitSinkhornBackward(p, upstream, n);
      const exact = sinkhornKnoppBackward(logits, upstream, {
        n,
        T: 1,
        iterations,
      });
      assertLess(gradientError(exact, fd).normRelative, 1e-6);
      assertGreater(gradientError(implicit, fd).normRelative, 1e-2);
    }
    // At convergence the implicit gradient is right, which is why it can
    // pass a test run only with many iterations.
    const p = sinkhornKnopp(logits, { n, T: 1, iterations: 300 });
    let colErr = 0;
    for (let j = 0; j < n; j++) {
      colErr = Math.max(
        colErr,
        Math.abs(p[j] + p[n + j] + p[2 * n + j] + p[3 * n + j] - 1),
      );
    }
    assertLess(colErr, 1e-13);
    const implicit = implicitSinkhornBackward(p, upstream, n);
    assertLess(gradientError(implicit, fdAt(300)).normRelative, 1e-6);
  });

  it("catches a gradient test with an all-ones upstream gradient, which passes trivially", () => {
    // Rows of H sum to 1 exactly, so Σ_ij H_ij = n for any logits and the
    // gradient of Σ H (all-ones upstream) is zero: any backward that ends
    // with the last row normalisation "passes". Broken variant: backprop
    // through the last row normalisation only (H treated as rowsoftmax(L)).
    const r = rng(10), n = 4, T = 1, iterations = 20;
    const logits = r.normals(n * n);
    const truncated = (g: Float64Array) => {
      const h = sinkhornKnopp(logits, { n, T, iterations });
      return h.map((v, k) => {
        const i = Math.floor(k / n);
        let s = 0;
        for (let j = 0; j < n; j++) s += h[i * n + j] * g[i * n + j];
        return v * (g[k] - s);
      });
    };
    const exact = (g: Float64Array) =>
      sinkhornKnoppBackward(logits, g, { n, T, iterations });
    const fdFor = (g: Float64Array) =>
      fdGradient(
        () => dot(sinkhornKnopp(logits, { n, T, iterations }), g),
        logits,
      );
    const ones = new Float64Array(n * n).fill(1);
    const random = r.normals(n * n);
    // All ones: the true gradient is ~0 and both backwards pass.
    assertLess(Math.hypot(...exact(ones)), 1e-12);
    assertLess(Math.hypot(...fdFor(ones)), 1e-9);
    assertLess(gradientError(truncated(ones), fdFor(ones)).maxElement, 1e-6);
    assertLess(gradientError(exact(ones), fdFor(ones)).maxElement, 1e-6);
    // Random: the gradient is far from zero; only the exact backward passes.
    assertGreater(Math.hypot(...exact(random)), 0.1);
    assertLess(gradientError(exact(random), fdFor(random)).maxElement, 1e-6);
    assertGreater(
      gradientError(truncated(random), fdFor(random)).maxElement,
      1e-2,
    );
  });

  it("catches H_res initialised to the exact identity, whose off-diagonal logits get no gradient", () => {
    // Check: every off-diagonal H_res logit (bias entry) gets a non-zero
    // gradient from a random upstream gradient, in float32. At φ = 0 with a
    // huge diagonal d the projected H_res is exactly I in f32 and the
    // off-diagonal gradients underflow to exactly 0; with SPEC §7's d ≈ 2–4
    // H_res is near, not at, I and every off-diagonal logit learns.
    const n = 4, C = 5, T = 3, K = n * n + 2 * n, s = { n, C, T };
    const r = rng(11);
    const x = new Float32Array(r.normals(T * n * C));
    const up = {
      hPre: new Float32Array(r.normals(T * n)),
      hPost: new Float32Array(r.normals(T * n)),
      hRes: new Float32Array(r.normals(T * n * n)),
    };
    const offDiagonalGrads = (d: number) => {
      const bias = new Float32Array(K);
      for (let i = 0; i < n; i++) bias[2 * n + i * n + i] = d;
      const params = {
        phi: new Float32Array(n * C * K),
        bias,
        alphaPre: 0.01,
        alphaPost: 0.01,
        alphaRes: 0.01,
      };
      const fwd = mhcCoefficients(x, params, s);
      const g = mhcCoefficientsBackward(x, params, fwd, up, s);
      const off: number[] = [], hOff: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          off.push(g.bias[2 * n + i * n + j]);
          for (let t = 0; t < T; t++) {
            hOff.push(fwd.hRes[t * n * n + i * n + j]);
          }
        }
      }
      return { off, hOff };
    };
    for (const d of [2, 3, 4]) {
      const { off, hOff } = offDiagonalGrads(d);
      assert(hOff.every((v) => v > 1e-3), `d=${d}: H_res is not exactly I`);
      assert(off.every((g) => Math.abs(g) > 1e-4), `d=${d}: ${off}`);
    }
    for (const d of [200, 1e4]) {
      const { off, hOff } = offDiagonalGrads(d);
      assert(hOff.every((v) => v === 0), `d=${d}: H_res is exactly I`);
      for (const g of off) assertStrictEquals(Math.abs(g), 0);
    }
  });
});
