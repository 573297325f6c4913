// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Properties of the Sinkhorn-Knopp projection (SPEC §4) and finite-difference
// checks of its backward.
import {
  assert,
  assertAlmostEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertLessOrEqual,
  assertStrictEquals,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  DEFAULT_SINKHORN_ITERATIONS,
  sinkhornIterationCounts,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { rng } from "./_rand.ts";
import { assertGradientClose, fdGradient } from "./_fd.ts";
import { block, matmul, naiveSinkhorn } from "./_naive.ts";

type Arr = Float32Array | Float64Array;

/** Sums of each row (`axis = "rows"`) or column of every token's block. */
function sums(h: Arr, n: number, axis: "rows" | "cols"): Float64Array {
  const T = h.length / (n * n), out = new Float64Array(T * n);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        out[t * n + (axis === "rows" ? i : j)] += h[t * n * n + i * n + j];
      }
    }
  }
  return out;
}

/** `max |s − 1|` over every row or column of every token. */
function sumError(h: Arr, n: number, axis: "rows" | "cols"): number {
  return Math.max(...sums(h, n, axis).map((s) => Math.abs(s - 1)));
}

/** `Σ_j |colsum_j − 1|` of token `t`. */
function colErrorL1(h: Arr, n: number, t: number): number {
  const s = sums(h.subarray(t * n * n, (t + 1) * n * n), n, "cols");
  return s.reduce((a, v) => a + Math.abs(v - 1), 0);
}

/** Largest singular value of one `n × n` block, by power iteration on HᵀH. */
function spectralNorm(h: ArrayLike<number>, n: number, off = 0): number {
  let v = new Float64Array(n).map((_, i) => 1 + 0.1 * i);
  let lambda = 0;
  for (let step = 0; step < 500; step++) {
    const hv = new Float64Array(n), w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) hv[i] += h[off + i * n + j] * v[j];
    }
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) w[j] += h[off + i * n + j] * hv[i];
    }
    const norm = Math.hypot(...w);
    lambda = norm / Math.hypot(...v); // Rayleigh-like ratio ‖HᵀHv‖/‖v‖
    v = w.map((x) => x / norm);
  }
  return Math.sqrt(lambda);
}

/** `Σ G ⊙ sinkhornKnopp(L)`: the scalar whose gradient the backward gives. */
function sinkhornLoss(
  logits: Float64Array,
  upstream: Float64Array,
  options: {
    n: number;
    T: number;
    iterations?: number;
    eps?: number;
    tolerance?: number;
  },
): number {
  const h = sinkhornKnopp(logits, options);
  let s = 0;
  for (let k = 0; k < h.length; k++) s += h[k] * upstream[k];
  return s;
}

const SIZES = [1, 2, 3, 4, 8];

/** Named extreme-logit generators for one token of size `n`. */
function extremeCases(n: number, seed: number): [string, Float64Array][] {
  const r = rng(seed), nn = n * n;
  const sign = () => (r.uniform() < 0.5 ? -1 : 1);
  const oneHuge = r.normals(nn);
  oneHuge[r.int(nn)] = 1e4;
  const choices = [80, -80, 1e4, -1e4, 0];
  return [
    ["±80", new Float64Array(nn).map(() => 80 * sign())],
    ["all +80", new Float64Array(nn).fill(80)],
    ["±1e4", new Float64Array(nn).map(() => 1e4 * sign())],
    ["all −1e4", new Float64Array(nn).fill(-1e4)],
    ["one 1e4 among N(0,1)", oneHuge],
    ["one −1e4 among N(0,1)", r.normals(nn).map((v, k) => k === 1 ? -1e4 : v)],
    [
      "mixed ±80, ±1e4, N(0,1)",
      new Float64Array(nn).map(() =>
        r.uniform() < 0.3 ? r.normal() : choices[r.int(choices.length)]
      ),
    ],
  ];
}

describe("sinkhornKnopp", () => {
  it("defaults to 20 iterations", () => {
    assertStrictEquals(DEFAULT_SINKHORN_ITERATIONS, 20);
    const l = rng(1).normals(2 * 9, 2);
    const a = sinkhornKnopp(l, { n: 3, T: 2 });
    const b = sinkhornKnopp(l, { n: 3, T: 2, iterations: 20 });
    const c = sinkhornKnopp(l, { n: 3, T: 2, iterations: 19 });
    assert(a.every((v, k) => v === b[k]));
    assert(a.some((v, k) => v !== c[k]));
  });

  it("matches a direct linear-domain implementation of SPEC §4 (columns first) for n = 1, 2, 3, 4, 8", () => {
    const r = rng(2);
    for (const n of SIZES) {
      for (const iterations of [1, 2, 3, 20]) {
        const T = 3, logits = r.normals(T * n * n, 2);
        const h = sinkhornKnopp(logits, { n, T, iterations });
        const want = naiveSinkhorn(logits, n, iterations);
        for (let k = 0; k < h.length; k++) {
          assertAlmostEquals(h[k], want[k], 1e-13, `n=${n} it=${iterations}`);
        }
      }
    }
  });

  it("returns non-negative entries whose rows sum to 1, for every size and logit scale", () => {
    const r = rng(3);
    for (const n of SIZES) {
      for (const scale of [0.1, 1, 5, 30]) {
        const T = 7, logits = r.normals(T * n * n, scale);
        const h64 = sinkhornKnopp(logits, { n, T });
        const h32 = sinkhornKnopp(new Float32Array(logits), { n, T });
        assert(h64.every((v) => v >= 0) && h32.every((v) => v >= 0));
        assertLess(sumError(h64, n, "rows"), 1e-14);
        // Each f32 entry is rounded once after the last normalisation: the
        // row sum is then within n half-ulps (6e-8 each) of 1.
        assertLess(sumError(h32, n, "rows"), n * 6e-8 + 1e-9);
      }
    }
  });

  it("keeps outputs and gradients finite for extreme logits (±80, ±1e4, one huge entry, mixed)", () => {
    const r = rng(4);
    for (const n of SIZES) {
      for (const [name, token] of extremeCases(n, 100 + n)) {
        for (const eps of [0, 1e-6]) {
          for (const Ctor of [Float64Array, Float32Array]) {
            const what = `n=${n}, ${name}, eps=${eps}, ${Ctor.name}`;
            const logits = new Ctor(token);
            const upstream = new Ctor(r.normals(n * n));
            const h = sinkhornKnopp(logits, { n, T: 1, eps });
            const g = sinkhornKnoppBackward(logits, upstream, {
              n,
              T: 1,
              eps,
            });
            assert(h.every(Number.isFinite), `output not finite: ${what}`);
            assert(g.every(Number.isFinite), `gradient not finite: ${what}`);
            assert(h.every((v) => v >= 0), `negative entry: ${what}`);
            // eps > 0 leaves rows at s/(s + eps) = 1 − O(eps), see below.
            const tol = Ctor === Float32Array ? 1e-6 : 1e-14;
            assertLess(sumError(h, n, "rows"), tol + 2 * eps, what);
          }
        }
      }
    }
  });

  it("brings the columns closer to summing to 1 as the iterations grow", () => {
    const r = rng(5);
    for (const n of [2, 3, 4, 8]) {
      for (const scale of [1, 3]) {
        const T = 200, logits = r.normals(T * n * n, scale);
        const h2 = sinkhornKnopp(logits, { n, T, iterations: 2 });
        const h20 = sinkhornKnopp(logits, { n, T, iterations: 20 });
        const errors: number[] = [];
        for (let t = 0; t < T; t++) {
          assertLess(colErrorL1(h20, n, t), colErrorL1(h2, n, t));
          const tok = h20.subarray(t * n * n, (t + 1) * n * n);
          errors.push(sumError(tok, n, "cols"));
        }
        errors.sort((a, b) => a - b);
        // Stated bounds on max_j |colsum_j − 1| after 20 iterations. The rate
        // depends on the matrix (its second singular value after scaling):
        // most N(0,1) tokens converge to 1e-8 and below, a few are slow;
        // N(0,3) logits (peakier matrices) converge more slowly.
        // Measured on 2000 tokens: N(0,1) median ≤ 4e-13, 90 % ≤ 4e-8, max
        // ≤ 9e-3; N(0,3) median ≤ 4e-4, 90 % ≤ 2e-2, max ≤ 5e-2.
        const median = errors[T / 2], p90 = errors[Math.floor(0.9 * T)];
        if (scale === 1) {
          assertLess(median, 1e-9);
          assertLess(p90, 1e-6);
          assertLess(errors[T - 1], 5e-2);
        } else {
          assertLess(median, 1e-2);
          assertLess(errors[T - 1], 0.1);
        }
        assertGreater(sumError(h2, n, "cols"), errors[T - 1]);
      }
    }
  });

  it("has spectral norm at most 1 + tol, computed by power iteration on HᵀH", () => {
    const r = rng(6);
    for (const n of SIZES) {
      const T = 10, logits = r.normals(T * n * n, 1.5);
      const h = sinkhornKnopp(logits, { n, T });
      for (let t = 0; t < T; t++) {
        const sigma = spectralNorm(h, n, t * n * n);
        // ‖H‖₂ ≤ sqrt(‖H‖₁·‖H‖∞) = sqrt(max column sum) since rows sum to 1.
        const maxCol = Math.max(
          ...sums(h.subarray(t * n * n, (t + 1) * n * n), n, "cols"),
        );
        assertLessOrEqual(sigma, Math.sqrt(maxCol) + 1e-9);
        assertLessOrEqual(sigma, 1 + 1e-3);
        // A row-stochastic matrix has the eigenvalue 1 (vector of ones).
        assertGreater(sigma, 1 - 1e-3);
      }
    }
    // The power iteration is right: diag(3, 1) has norm 3, [[1,1],[0,0]] √2.
    assertAlmostEquals(spectralNorm([3, 0, 0, 1], 2), 3, 1e-9);
    assertAlmostEquals(spectralNorm([1, 1, 0, 0], 2), Math.SQRT2, 1e-9);
  });

  it("gives a near doubly stochastic product of outputs", () => {
    const r = rng(7);
    for (const n of [2, 3, 4, 8]) {
      const T = 5, h = sinkhornKnopp(r.normals(T * n * n), { n, T });
      let m = block(h, n, 0);
      for (let t = 1; t < T; t++) m = matmul(m, block(h, n, t));
      const p = new Float64Array(m.flat());
      assert(p.every((v) => v >= 0));
      assertLess(sumError(p, n, "rows"), 1e-13);
      // Column sums of a product drift by at most the sum of the factors'.
      assertLessOrEqual(sumError(p, n, "cols"), T * sumError(h, n, "cols"));
      assertLess(sumError(p, n, "cols"), 1e-4);
    }
  });

  it("gives exactly 1 and a zero gradient for n = 1", () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const v of [0, -3.5, 80, -80, 1e4, -1e4, 1e30]) {
        for (const eps of [0, 1e-6]) {
          for (const iterations of [1, 20]) {
            const opts = { n: 1, T: 2, iterations, eps };
            const h = sinkhornKnopp(new Ctor([v, 0.25]), opts);
            assertInstanceOf(h, Ctor);
            if (eps === 0) {
              assertStrictEquals(h[0], 1);
              assertStrictEquals(h[1], 1);
              const g = sinkhornKnoppBackward(
                new Ctor([v, 0.25]),
                new Ctor([0.7, -1.3]),
                opts,
              );
              assert(g.every((x) => x === 0), `${g}`);
            } else {
              // (1 + eps) / (1 + 2eps) ... = 1 − O(eps).
              assertAlmostEquals(h[0], 1, 2 * iterations * eps);
            }
          }
        }
      }
    }
  });

  it("with eps > 0 follows DeepSeek's code and gives rows summing to 1 − O(eps)", () => {
    const r = rng(8);
    for (const n of [2, 3, 4, 8]) {
      for (const eps of [1e-6, 1e-3]) {
        const T = 6, logits = r.normals(T * n * n);
        const h = sinkhornKnopp(logits, { n, T, eps });
        const rows = sums(h, n, "rows");
        for (const s of rows) {
          // The last step divides a row of sum s by s + eps: 1 − eps/(s+eps).
          assertLess(s, 1);
          assertGreater(1 - s, 0.5 * eps);
          assertLess(1 - s, 2 * eps);
        }
        // It is the paper's method up to O(eps).
        const h0 = sinkhornKnopp(logits, { n, T });
        for (let k = 0; k < h.length; k++) {
          assertAlmostEquals(h[k], h0[k], 100 * n * eps);
        }
        // Independent: colsoftmax + eps, then x / (sum + eps), 20 times.
        for (let t = 0; t < T; t++) {
          const m = naiveSinkhorn(
            logits.subarray(t * n * n, (t + 1) * n * n),
            n,
            0,
          );
          // naiveSinkhorn with 0 iterations gives exp(L − colmax); normalise.
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let i = 0; i < n; i++) s += m[i * n + j];
            for (let i = 0; i < n; i++) m[i * n + j] = m[i * n + j] / s + eps;
          }
          for (let it = 0; it < 20; it++) {
            for (const cols of [true, false]) {
              for (let p = 0; p < n; p++) {
                let s = 0;
                for (let q = 0; q < n; q++) {
                  s += m[cols ? q * n + p : p * n + q];
                }
                for (let q = 0; q < n; q++) {
                  m[cols ? q * n + p : p * n + q] /= s + eps;
                }
              }
            }
          }
          for (let k = 0; k < n * n; k++) {
            assertAlmostEquals(h[t * n * n + k], m[k], 1e-14);
          }
        }
      }
    }
  });

  it("is unchanged by adding a constant to each column of the logits, at every iteration count", () => {
    const r = rng(9);
    for (const n of [2, 3, 4, 8]) {
      const T = 4, logits = r.normals(T * n * n, 2);
      const shifts = r.normals(n, 40);
      const shifted = logits.map((v, k) => v + shifts[k % n]);
      for (const iterations of [1, 2, 5, 20]) {
        for (const eps of [0, 1e-6]) {
          const a = sinkhornKnopp(logits, { n, T, iterations, eps });
          const b = sinkhornKnopp(shifted, { n, T, iterations, eps });
          for (let k = 0; k < a.length; k++) {
            assertAlmostEquals(a[k], b[k], 1e-13);
          }
        }
      }
    }
  });

  it("changes when a constant is added to each row, until it has converged", () => {
    // Row shifts scale M⁰ by D from the left. The first column normalisation
    // does not cancel D, so finite-iteration outputs differ; the limit, the
    // unique doubly stochastic D₁·exp(L)·D₂, absorbs D, so the difference
    // vanishes as the iterations grow.
    const r = rng(10);
    for (const n of [2, 3, 4, 8]) {
      const logits = r.normals(n * n);
      const shifts = r.normals(n, 3);
      const shifted = logits.map((v, k) => v + shifts[Math.floor(k / n)]);
      const diff = (iterations: number) => {
        const a = sinkhornKnopp(logits, { n, T: 1, iterations });
        const b = sinkhornKnopp(shifted, { n, T: 1, iterations });
        return Math.max(...a.map((v, k) => Math.abs(v - b[k])));
      };
      assertGreater(diff(1), 1e-2);
      assertLess(diff(200), 1e-12);
    }
  });

  it("returns the array type of its input", () => {
    const l = rng(11).normals(8);
    assertInstanceOf(sinkhornKnopp(l, { n: 2, T: 2 }), Float64Array);
    assertInstanceOf(
      sinkhornKnopp(new Float32Array(l), { n: 2, T: 2 }),
      Float32Array,
    );
  });
});

describe("sinkhornKnoppBackward", () => {
  const check = (
    n: number,
    T: number,
    iterations: number,
    eps: number,
    scale: number,
    seed: number,
  ) => {
    const r = rng(seed);
    const logits = r.normals(T * n * n, scale);
    const upstream = r.normals(T * n * n);
    const options = { n, T, iterations, eps };
    const grad = sinkhornKnoppBackward(logits, upstream, options);
    const fd = fdGradient(
      () => sinkhornLoss(logits, upstream, options),
      logits,
    );
    return assertGradientClose(
      `n=${n} T=${T} it=${iterations} eps=${eps}`,
      grad,
      fd,
    );
  };

  it("matches central finite differences at n = 4 with 20 iterations to a relative error below 1e-6", () => {
    const err = check(4, 3, 20, 0, 1, 20);
    assertLess(err.normRelative, 1e-6);
    assertLess(err.maxElement, 1e-6);
    assertGreater(err.fdNorm, 0.1); // a gradient worth checking
  });

  it("matches central finite differences for n = 1, 2, 3, 4, 8 and 1, 2, 3, 20 iterations", () => {
    let seed = 30;
    for (const n of SIZES) {
      for (const iterations of [1, 2, 3, 20]) {
        check(n, 2, iterations, 0, 1.5, seed++);
      }
    }
  });

  it("matches central finite differences on the eps > 0 compatibility path", () => {
    let seed = 60;
    for (const n of [2, 3, 4]) {
      for (const eps of [1e-6, 1e-2]) {
        for (const iterations of [1, 20]) {
          check(n, 2, iterations, eps, 1, seed++);
        }
      }
    }
  });

  it("matches central finite differences for peaked logits of scale 5", () => {
    check(4, 2, 20, 0, 5, 70);
    check(3, 2, 5, 0, 5, 71);
  });

  it("treats every token independently", () => {
    const r = rng(72), n = 3;
    const logits = r.normals(2 * n * n), upstream = r.normals(2 * n * n);
    const both = sinkhornKnoppBackward(logits, upstream, { n, T: 2 });
    const second = sinkhornKnoppBackward(
      logits.slice(n * n),
      upstream.slice(n * n),
      { n, T: 1 },
    );
    for (let k = 0; k < n * n; k++) {
      assertStrictEquals(both[n * n + k], second[k]);
    }
  });
});

/** `max(max |row sum − 1|, max |column sum − 1|)` of each token. */
function deviations(h: Arr, n: number): Float64Array {
  const T = h.length / (n * n), out = new Float64Array(T);
  const rows = sums(h, n, "rows"), cols = sums(h, n, "cols");
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < n; p++) {
      out[t] = Math.max(
        out[t],
        Math.abs(rows[t * n + p] - 1),
        Math.abs(cols[t * n + p] - 1),
      );
    }
  }
  return out;
}

/** Asserts `a` and `b` are equal bit for bit. */
function assertSameBits(a: Arr, b: Arr, what: string): void {
  assertStrictEquals(a.length, b.length, what);
  for (let k = 0; k < a.length; k++) {
    assert(Object.is(a[k], b[k]), `${what}: index ${k}: ${a[k]} vs ${b[k]}`);
  }
}

describe("sinkhornKnopp with a tolerance", () => {
  it("runs exactly `iterations` iterations, bit for bit, when the tolerance is unset or 0", () => {
    const r = rng(80);
    for (const n of SIZES) {
      for (const eps of [0, 1e-3]) {
        for (const Ctor of [Float64Array, Float32Array]) {
          const T = 5, iterations = 7;
          const logits = new Ctor(r.normals(T * n * n, 2));
          const up = new Ctor(r.normals(T * n * n));
          const plain = { n, T, iterations, eps };
          const what = `n=${n} eps=${eps} ${Ctor.name}`;
          for (const tolerance of [undefined, 0]) {
            const o = { ...plain, tolerance };
            assertSameBits(
              sinkhornKnopp(logits, o),
              sinkhornKnopp(logits, plain),
              what,
            );
            assertSameBits(
              sinkhornKnoppBackward(logits, up, o),
              sinkhornKnoppBackward(logits, up, plain),
              what,
            );
            assert(sinkhornIterationCounts(logits, o).every((c) => c === 7));
          }
        }
      }
    }
  });

  it("stops each token after the first iteration whose rows and columns are all within the tolerance of 1, capped by `iterations`", () => {
    const r = rng(81);
    for (const n of [2, 3, 4, 8]) {
      // eps > 0 leaves rows at 1 − O(eps): the tolerance must exceed eps.
      for (const [eps, tolerance] of [[0, 1e-4], [1e-3, 1e-2]]) {
        for (const Ctor of [Float64Array, Float32Array]) {
          const T = 41, iterations = 20, what = `n=${n} eps=${eps}`;
          const logits = new Ctor(r.normals(T * n * n, 3));
          const o = { n, T, iterations, eps, tolerance };
          const h = sinkhornKnopp(logits, o);
          const counts = sinkhornIterationCounts(logits, o);
          assertInstanceOf(counts, Uint32Array);
          // Worth checking: tokens stop after different counts, some early
          // and some only at the cap.
          assertGreater(new Set(counts).size, 3, what);
          assert(counts.some((c) => c < iterations), what);
          assert(counts.some((c) => c === iterations), what);
          const dev = deviations(h, n);
          for (let t = 0; t < T; t++) {
            const nn = n * n, c = counts[t];
            const token = logits.subarray(t * nn, (t + 1) * nn);
            const at = (k: number) =>
              sinkhornKnopp(token, { n, T: 1, iterations: k, eps });
            // The output is that of exactly c iterations, bit for bit.
            assertSameBits(h.subarray(t * nn, (t + 1) * nn), at(c), what);
            // c is the first count within the tolerance (or the cap). The
            // float32 check sums the float32 iterate in float64, before the
            // output is rounded to float32: allow that rounding (n·2⁻²⁴).
            const slack = Ctor === Float32Array ? n * 2 ** -24 : 0;
            if (c < iterations) assertLess(dev[t], tolerance + slack, what);
            for (let k = 1; k < c; k++) {
              assertGreaterOrEqual(
                deviations(at(k), n)[0],
                tolerance - slack,
                `${what} t=${t} k=${k}`,
              );
            }
          }
        }
      }
    }
  });

  it("controls the largest column deviation, which 20 plain iterations leave large for peaked logits", () => {
    const n = 4, T = 101, logits = rng(82).normals(T * n * n, 3);
    const plain = deviations(sinkhornKnopp(logits, { n, T }), n);
    // Peaked logits: some tokens are still far from doubly stochastic.
    assertGreater(Math.max(...plain), 1e-2);
    // Peaked matrices converge slowly: these need up to about 550.
    const o = { n, T, iterations: 1000, tolerance: 1e-6 };
    const counts = sinkhornIterationCounts(logits, o);
    assert(counts.every((c) => c < 1000), "every token converges");
    assertGreater(Math.max(...counts), 20);
    assertLess(Math.max(...deviations(sinkhornKnopp(logits, o), n)), 1e-6);
  });
});

describe("sinkhornKnoppBackward with a tolerance", () => {
  // The iteration count is piecewise constant in the logits: it switches
  // where a deviation crosses the tolerance, and there the loss jumps. The
  // checks below are away from every switch: the loss asserts, at every
  // perturbed point of the finite differences, that every token still runs
  // the count it runs at the centre, so the central differences see one
  // smooth map (that many iterations) and must match the backward.
  const check = (
    n: number,
    iterations: number,
    eps: number,
    tolerance: number,
    seed: number,
  ) => {
    const T = 5, r = rng(seed);
    const logits = r.normals(T * n * n, 2);
    const upstream = r.normals(T * n * n);
    const options = { n, T, iterations, eps, tolerance };
    const what = `n=${n} it=${iterations} eps=${eps} tol=${tolerance}`;
    const counts = sinkhornIterationCounts(logits, options);
    assertGreater(new Set(counts).size, 1, `${what}: counts differ`);
    assert(counts.some((c) => c < iterations), `${what}: some stop early`);
    const grad = sinkhornKnoppBackward(logits, upstream, options);
    const fd = fdGradient(() => {
      const moved = sinkhornIterationCounts(logits, options);
      assert(
        moved.every((c, t) => c === counts[t]),
        `${what}: a step of the finite differences crossed a switch`,
      );
      return sinkhornLoss(logits, upstream, options);
    }, logits);
    assertGradientClose(what, grad, fd);
    // Each token's gradient is that of exactly its own count, bit for bit,
    // and differs from the gradient of all `iterations` where it stopped
    // early (so the check above tells the two apart).
    const full = sinkhornKnoppBackward(logits, upstream, {
      n,
      T,
      iterations,
      eps,
    });
    for (let t = 0; t < T; t++) {
      const nn = n * n,
        part = (a: Float64Array) => a.subarray(t * nn, (t + 1) * nn);
      const own = sinkhornKnoppBackward(part(logits), part(upstream), {
        n,
        T: 1,
        iterations: counts[t],
        eps,
      });
      assertSameBits(part(grad), own, `${what} t=${t}`);
      if (counts[t] < iterations) {
        const gap = Math.max(
          ...part(grad).map((v, k) => Math.abs(v - part(full)[k])),
        );
        assertGreater(gap, 1e-5, `${what} t=${t}`);
      }
    }
  };

  it("matches central finite differences when tokens stop early after different counts, in the log domain", () => {
    let seed = 90;
    for (const n of [2, 3, 4, 8]) check(n, 20, 0, 1e-3, seed++);
    check(2, 40, 0, 1e-3, 95); // counts 2, 16, 26, 40, 40: long histories
  });

  it("matches central finite differences when tokens stop early on the eps > 0 path", () => {
    let seed = 100;
    for (const n of [2, 3, 4]) {
      check(n, 20, 1e-6, 1e-3, seed++);
      check(n, 20, 1e-2, 5e-2, seed++);
    }
  });
});
