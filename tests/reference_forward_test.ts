// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Forward semantics of the stream ops, pre, post and the coefficient passes
// against independent naive loops written from SPEC §2, §3, §5 and §6, and
// the initialisations of SPEC §6 and §7.
import {
  assertAlmostEquals,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  DEFAULT_NORM_EPS,
  expandStreams,
  hcCoefficients,
  mhcCoefficients,
  mhcPost,
  mhcPre,
  reduceStreams,
} from "@birkhoff/mhc";
import { rng } from "./_rand.ts";
import { naiveMhcCoefficients } from "./_naive.ts";

const SHAPES = [
  { n: 1, C: 5, T: 2 },
  { n: 2, C: 7, T: 3 },
  { n: 3, C: 13, T: 2 },
  { n: 4, C: 5, T: 4 },
];

/** Asserts `|a − b| <= tol·max(1, |b|)` for every element. */
function assertClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assertEquals(a.length, b.length, what);
  for (let k = 0; k < b.length; k++) {
    assertAlmostEquals(a[k], b[k], tol * Math.max(1, Math.abs(b[k])), what);
  }
}

describe("expandStreams and reduceStreams", () => {
  it("copy each embedding into every stream, and sum the streams, as naive loops do", () => {
    const r = rng(1);
    for (const s of SHAPES) {
      const { n, C, T } = s;
      const e = r.normals(T * C), x = r.normals(T * n * C);
      const expanded = expandStreams(e, s), reduced = reduceStreams(x, s);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let i = 0; i < n; i++) {
            assertStrictEquals(expanded[(t * n + i) * C + c], e[t * C + c]);
            sum += x[(t * n + i) * C + c];
          }
          assertAlmostEquals(reduced[t * C + c], sum, 1e-14);
        }
      }
      // Reducing an expansion gives n copies of the embedding.
      const back = reduceStreams(expandStreams(e, s), s);
      for (let k = 0; k < e.length; k++) {
        assertAlmostEquals(back[k], n * e[k], 1e-14);
      }
    }
  });
});

describe("mhcPre", () => {
  it("computes u[t][c] = Σ_j H_pre[t][j]·x[t][j][c] as a naive loop does", () => {
    const r = rng(2);
    for (const s of SHAPES) {
      const { n, C, T } = s;
      const x = r.normals(T * n * C), h = r.normals(T * n);
      const u = mhcPre(x, h, s);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) {
          let want = 0;
          for (let j = 0; j < n; j++) {
            want += h[t * n + j] * x[(t * n + j) * C + c];
          }
          assertAlmostEquals(u[t * C + c], want, 1e-14);
        }
      }
    }
  });
});

describe("mhcPost", () => {
  it("computes x'[i] = Σ_j H_res[i][j]·x[j] + H_post[i]·y as a naive loop does", () => {
    const r = rng(3);
    for (const s of SHAPES) {
      const { n, C, T } = s;
      const x = r.normals(T * n * C), y = r.normals(T * C);
      const hp = r.normals(T * n), hr = r.normals(T * n * n);
      const out = mhcPost(x, y, hp, hr, s);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < n; i++) {
          for (let c = 0; c < C; c++) {
            let want = hp[t * n + i] * y[t * C + c];
            for (let j = 0; j < n; j++) {
              want += hr[(t * n + i) * n + j] * x[(t * n + j) * C + c];
            }
            assertAlmostEquals(out[(t * n + i) * C + c], want, 1e-13);
          }
        }
      }
    }
  });
});

describe("mhcCoefficients", () => {
  it("matches SPEC §3 restated loop by loop (one RMS, sigmoid, 2·sigmoid, Sinkhorn)", () => {
    const r = rng(4);
    for (const s of SHAPES) {
      for (
        const extra of [{}, { normEps: 0.3, iterations: 3 }] as {
          normEps?: number;
          iterations?: number;
        }[]
      ) {
        const { n, C, T } = s, K = n * n + 2 * n;
        const x = r.normals(T * n * C);
        const params = {
          phi: r.normals(n * C * K, 0.3),
          bias: r.normals(K),
          alphaPre: 0.7,
          alphaPost: 1.1,
          alphaRes: 0.9,
        };
        const got = mhcCoefficients(x, params, { ...s, ...extra });
        const want = naiveMhcCoefficients(x, params, s, extra);
        assertClose(got.hPre, want.hPre, 1e-13, "hPre");
        assertClose(got.hPost, want.hPost, 1e-13, "hPost");
        assertClose(got.hRes, want.hRes, 1e-12, "hRes");
        // The kept statistics are what the SPEC says they are.
        const normEps = extra.normEps ?? DEFAULT_NORM_EPS;
        for (let t = 0; t < T; t++) {
          let sq = 0;
          for (let a = 0; a < n * C; a++) sq += x[t * n * C + a] ** 2;
          assertAlmostEquals(
            got.invRms[t],
            1 / Math.sqrt(sq / (n * C) + normEps),
            1e-13,
          );
          for (let k = 0; k < K; k++) {
            let m = 0;
            for (let a = 0; a < n * C; a++) {
              m += x[t * n * C + a] * params.phi[a * K + k];
            }
            const alpha = k < n
              ? params.alphaPre
              : k < 2 * n
              ? params.alphaPost
              : params.alphaRes;
            assertAlmostEquals(
              got.logits[t * K + k],
              alpha * m * got.invRms[t] + params.bias[k],
              1e-12,
            );
          }
        }
      }
    }
  });

  it("reads the H_res logits row-major from segment [2n, 2n + n²) of the bias", () => {
    // φ = 0: the logits are the bias. A single large logit at (i, j) = (0, 1)
    // must make H_res[0][1] the largest entry of row 0.
    const n = 3, C = 2, K = n * n + 2 * n;
    const bias = new Float64Array(K);
    bias[2 * n + 0 * n + 1] = 5;
    const { hRes } = mhcCoefficients(new Float64Array(n * C).fill(1), {
      phi: new Float64Array(n * C * K),
      bias,
      alphaPre: 0.01,
      alphaPost: 0.01,
      alphaRes: 0.01,
    }, { n, C, T: 1 });
    assertEquals(Math.max(hRes[0], hRes[1], hRes[2]), hRes[1]);
    assertEquals(Math.max(hRes[1], hRes[4], hRes[7]), hRes[1]);
  });

  it("at the SPEC §7 initialisation gives H_post = 1, H_pre ≈ (0.95, 0.05, …) and H_res near, not at, I", () => {
    const n = 4, C = 5, K = n * n + 2 * n, d = 3, dPre = 3;
    for (let site = 0; site < 6; site++) {
      const bias = new Float32Array(K);
      for (let i = 0; i < n; i++) {
        bias[i] = i === site % n ? dPre : -dPre;
        bias[2 * n + i * n + i] = d;
      }
      const f = mhcCoefficients(
        new Float32Array(rng(site).normals(2 * n * C)),
        {
          phi: new Float32Array(n * C * K),
          bias,
          alphaPre: 0.01,
          alphaPost: 0.01,
          alphaRes: 0.01,
        },
        { n, C, T: 2 },
      );
      for (let t = 0; t < 2; t++) {
        for (let i = 0; i < n; i++) {
          assertStrictEquals(f.hPost[t * n + i], 1);
          const want = 1 / (1 + Math.exp(i === site % n ? -dPre : dPre));
          assertAlmostEquals(f.hPre[t * n + i], want, 1e-7);
          for (let j = 0; j < n; j++) {
            const h = f.hRes[t * n * n + i * n + j];
            if (i === j) assertAlmostEquals(h, 0.87, 0.01);
            else assertAlmostEquals(h, 0.043, 0.002);
          }
        }
      }
    }
  });
});

describe("hcCoefficients", () => {
  it("matches SPEC §6 restated loop by loop (per-stream RMSNorm, tanh, no sigmoid, no Sinkhorn)", () => {
    const r = rng(5);
    for (const s of SHAPES) {
      for (const normEps of [undefined, 0.2]) {
        const { n, C, T } = s, K = n * n + 2 * n;
        const x = r.normals(T * n * C);
        const params = {
          theta: r.normals((n + 2) * C, 0.6),
          bias: r.normals(K),
          alphaPre: 0.7,
          alphaPost: 1.3,
          alphaRes: 0.4,
        };
        const got = hcCoefficients(x, params, { ...s, normEps });
        const eps = normEps ?? DEFAULT_NORM_EPS;
        for (let t = 0; t < T; t++) {
          // x̃_j = x_j / sqrt(mean(x_j²) + ε), per stream.
          const xt: number[][] = [];
          for (let j = 0; j < n; j++) {
            const row = Array.from(
              { length: C },
              (_, c) => x[(t * n + j) * C + c],
            );
            const rms = Math.sqrt(row.reduce((a, v) => a + v * v, 0) / C + eps);
            xt.push(row.map((v) => v / rms));
          }
          const th = (rowOfTheta: number, j: number) => {
            let acc = 0;
            for (let c = 0; c < C; c++) {
              acc += params.theta[rowOfTheta * C + c] * xt[j][c];
            }
            return Math.tanh(acc);
          };
          for (let j = 0; j < n; j++) {
            assertAlmostEquals(
              got.hPre[t * n + j],
              params.alphaPre * th(0, j) + params.bias[j],
              1e-13,
            );
            assertAlmostEquals(
              got.hPost[t * n + j],
              params.alphaPost * th(1, j) + params.bias[n + j],
              1e-13,
            );
            for (let i = 0; i < n; i++) {
              // H_res = α_res·tanh(θ_res x̃ᵀ) + b_res: entry (i, j) uses
              // row i of θ_res and stream j.
              assertAlmostEquals(
                got.hRes[t * n * n + i * n + j],
                params.alphaRes * th(2 + i, j) + params.bias[2 * n + i * n + j],
                1e-13,
              );
            }
          }
        }
      }
    }
  });

  it("at the SPEC §6 initialisation gives exactly H_pre = one-hot, H_post = 1 and H_res = I", () => {
    const n = 4, C = 7, T = 3, K = n * n + 2 * n;
    for (const Ctor of [Float32Array, Float64Array]) {
      for (let layer = 0; layer < 6; layer++) {
        const bias = new Ctor(K);
        bias[layer % n] = 1; // b_pre: one-hot at stream layer mod n
        for (let i = 0; i < n; i++) {
          bias[n + i] = 1; // b_post = 1
          bias[2 * n + i * n + i] = 1; // b_res = I
        }
        const x = new Ctor(rng(layer).normals(T * n * C, 3));
        x.fill(0, 0, C); // a zero stream too
        const f = hcCoefficients(x, {
          theta: new Ctor((n + 2) * C), // θ = 0
          bias,
          alphaPre: 0.01,
          alphaPost: 0.01,
          alphaRes: 0.01,
        }, { n, C, T });
        assertInstanceOf(f.hPre, Ctor);
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < n; i++) {
            assertStrictEquals(f.hPre[t * n + i], i === layer % n ? 1 : 0);
            assertStrictEquals(f.hPost[t * n + i], 1);
            for (let j = 0; j < n; j++) {
              assertStrictEquals(
                f.hRes[t * n * n + i * n + j],
                i === j ? 1 : 0,
              );
            }
          }
        }
      }
    }
  });
});
