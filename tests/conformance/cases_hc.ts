// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance cases of the HC coefficient pass (SPEC §6, the unconstrained
 * baseline) and its backward: n from 1 to 8; C = 37 and 9 (odd rows, not
 * multiples of the kernels' 32-channel chunks or 16-channel blocks), 64, 1
 * and 300 (several chunks); T = 19, 7 and 5 (multiples of no tile) and 150
 * (cut into chunks by the webgpu-split backend); large states (|x| ~ 1e3,
 * the RMSNorm must remove the scale), saturated tanh (|θ·x̃| up to ~100,
 * where exp(2·θ·x̃) overflows float32: a tanh computed from it gives NaN), a large `ε_norm` (0.1, so its placement
 * matters); random upstream gradients. On the webgpu-f16 backend `x` and
 * `g_x` are stored as f16.
 *
 * @module
 */

import {
  hcCoefficients,
  hcCoefficientsBackward,
  type HcCoefficientsOptions,
  type HcParams,
} from "@birkhoff/mhc";
import { rng } from "../_rand.ts";
import type { ConformanceCase, Outputs } from "./case.ts";
import type { Precision, Tolerance } from "./tolerance.ts";
import { U16, U32 } from "./tolerance.ts";

/** How the inputs are drawn: `normal`, large states, or saturated tanh. */
type Kind = "normal" | "bigx" | "saturated";

interface Draw {
  x: Float32Array;
  params: HcParams<Float32Array>;
  gPre: Float32Array;
  gPost: Float32Array;
  gRes: Float32Array;
}

/**
 * Seeded inputs. θ ~ N(0, 1/C), so that θ_r·x̃_j ~ N(0, 1) (x̃ has RMS 1);
 * ×30 for `saturated`, so that most logits sit where tanh is flat and some
 * beyond 44, where exp(2z) overflows float32. The α are
 * of order one (not the 0.01 of initialisation, which would hide the
 * dynamic part) and of both signs; the bias is N(0, 1).
 */
function draw(
  seed: number,
  o: { n: number; C: number; T: number },
  kind: Kind,
): Draw {
  const { n, C, T } = o;
  const K = n * n + 2 * n, r = rng(seed);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const thetaScale = (kind === "saturated" ? 30 : 1) / Math.sqrt(C);
  return {
    x: f32(r.normals(T * n * C, kind === "bigx" ? 1e3 : 1)),
    params: {
      theta: f32(r.normals((n + 2) * C, thetaScale)),
      bias: f32(r.normals(K)),
      alphaPre: 0.9,
      alphaPost: -0.7,
      alphaRes: 1.2,
    },
    gPre: f32(r.normals(T * n)),
    gPost: f32(r.normals(T * n)),
    gRes: f32(r.normals(T * n * n)),
  };
}

const to64 = (a: Float32Array) => Float64Array.from(a);

function params64(p: HcParams<Float32Array>): HcParams<Float64Array> {
  return { ...p, theta: to64(p.theta), bias: to64(p.bias) };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Error scales of one case; see {@linkcode hcTolerance}. */
interface Scales {
  /** max over (t, j, r) of (1/r_j)·Σ_c |θ_rc·x_jc|: the scale of a logit. */
  sz: number;
  /** Largest |α|. */
  alpha: number;
  /** Largest |b|. */
  bias: number;
  /** Σ|terms| of every backward output (exact G = u·α·(1 − tanh²)). */
  out: Record<string, number>;
  /**
   * The same with |G| replaced by |u·α| (and |u·tanh| by |u| for the α):
   * sensitivity to the few-u error of the kernel's tanh.
   */
  unit: Record<string, number>;
}

/** Computes the scales in float64 from the inputs. */
function scales(d: Draw, o: HcCoefficientsOptions): Scales {
  const { n, C, T } = o;
  const K = n * n + 2 * n;
  const x = to64(d.x), p = params64(d.params);
  const fwd = hcCoefficients(x, p, o);
  const alphas = [p.alphaPre, p.alphaPost, p.alphaRes];
  // Slot of row r of θ and stream j in the segment layout.
  const slot = (r: number, j: number) =>
    r === 0 ? j : r === 1 ? n + j : 2 * n + (r - 2) * n + j;
  const up = (t: number, k: number) =>
    k < n
      ? d.gPre[t * n + k]
      : k < 2 * n
      ? d.gPost[t * n + k - n]
      : d.gRes[t * n * n + k - 2 * n];
  let sz = 0;
  const gTheta = new Float64Array((n + 2) * C);
  const gTheta1 = new Float64Array((n + 2) * C);
  const gb = new Float64Array(K), ga = [0, 0, 0], ga1 = [0, 0, 0];
  let gx = 0, gx1 = 0;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < n; j++) {
      const row = (t * n + j) * C, ir = fwd.invRms[t * n + j];
      const g = new Float64Array(n + 2), g1 = new Float64Array(n + 2);
      let s = 0, s1 = 0;
      for (let r = 0; r < n + 2; r++) {
        let a = 0;
        for (let c = 0; c < C; c++) {
          a += Math.abs(p.theta[r * C + c] * x[row + c]);
        }
        sz = Math.max(sz, a * ir);
        const k = slot(r, j), seg = Math.min(r, 2);
        const z = fwd.logits[t * K + k], th = Math.tanh(z), u = up(t, k);
        g[r] = Math.abs(u * alphas[seg] * (1 - th * th));
        g1[r] = Math.abs(u * alphas[seg]);
        s += g[r] * Math.abs(z);
        s1 += g1[r] * Math.abs(z);
        gb[k] += Math.abs(u);
        ga[seg] += Math.abs(u * th);
        ga1[seg] += Math.abs(u);
      }
      for (let c = 0; c < C; c++) {
        const v = Math.abs(x[row + c]);
        let a = 0, a1 = 0;
        for (let r = 0; r < n + 2; r++) {
          const th = Math.abs(p.theta[r * C + c]);
          a += g[r] * th;
          a1 += g1[r] * th;
          gTheta[r * C + c] += g[r] * ir * v;
          gTheta1[r * C + c] += g1[r] * ir * v;
        }
        gx = Math.max(gx, ir * a + s * ir * ir / C * v);
        gx1 = Math.max(gx1, ir * a1 + s1 * ir * ir / C * v);
      }
    }
  }
  return {
    sz,
    alpha: Math.max(...alphas.map(Math.abs)),
    bias: maxAbs(p.bias),
    out: {
      x: gx,
      theta: maxAbs(gTheta),
      bias: maxAbs(gb),
      alphaPre: ga[0],
      alphaPost: ga[1],
      alphaRes: ga[2],
    },
    unit: {
      x: gx1,
      theta: maxAbs(gTheta1),
      bias: 0,
      alphaPre: ga1[0],
      alphaPost: ga1[1],
      alphaRes: ga1[2],
    },
  };
}

/**
 * Tolerance of one output of the HC coefficient pass. u = 2⁻²⁴, u16 = 2⁻¹¹.
 *
 * - Logits z = (θ_r·x_j)·(1/r_j). A float32 sum of d terms is within
 *   d·u·Σ|terms| in the worst case, about √d·u·Σ|terms| with random
 *   rounding signs. The kernel sums in blocks of 32 channels, then adds the
 *   blocks in order (d ≤ 32 + C/32 ≤ 42 here), the float32 reference
 *   sequentially (d = C ≤ 300, √d ≤ 18); 1/r adds a few u relative.
 *   Tolerance 16·u·sz (sz: see {@linkcode Scales}). With f16 storage x is
 *   rounded by ≤ u16 relative, which moves θ·x by ≤ u16·Σ|θx| and 1/r by
 *   ≤ u16 relative: + 2·u16·sz.
 * - 1/r: relative 8·u (f32); + 2·u16 (f16: Σx² moves by ≤ 2·u16 relative).
 * - H = α·tanh(z) + b: tanh' ≤ 1, so |α| times the error of z, plus the
 *   kernel's tanh (computed as (1 − e)/(1 + e), e = exp(−2|z|): a few u
 *   absolute, 8·u allowed) and the roundings of the product and the sum
 *   (≤ 2·u·(|α| + |b|)).
 * - Backward outputs are linear in the upstream gradients u; every backend
 *   gets the same saved logits and 1/r (the float64 forward rounded to
 *   float32), so G = u·α·(1 − tanh²(z)) errs only by the tanh: ≤ 8·u·|u·α|
 *   absolute (|d(1 − th²)| ≤ 2·|th|·|d th|). Summation and product
 *   roundings: 32·u·(Σ|terms|) (the sums over tokens are blocked or trees,
 *   the float32 reference's in float64); f16: + 4·u16·Σ|terms| for the
 *   rounded x, and g_x is rounded to f16 once (rtol 2·u16). Plus 8·u times
 *   the Σ|terms| with |G| replaced by |u·α| (|u·tanh| by |u| for the α).
 *
 * The largest errors seen over every case and backend on lavapipe are
 * 0.39 of these tolerances (1/r, f32), 0.24 for the logits and the
 * coefficients, 0.12 for the backward outputs. A wrong slot, stream, row of
 * θ or sign changes an output by about one term, far above these bounds for
 * the magnitudes drawn (a mistaken 1/C → 1/(C + 1) in the RMSNorm term of
 * g_x exceeds its tolerance 500-fold).
 *
 * @param name Output name.
 * @param precision The backend's stream precision.
 * @param s The case's scales.
 * @returns The tolerance.
 */
function hcTolerance(name: string, precision: Precision, s: Scales): Tolerance {
  const f16 = precision === "f16";
  const dz = 16 * U32 * s.sz + (f16 ? 2 * U16 * s.sz : 0);
  switch (name) {
    case "logits":
      return { atol: dz, rtol: 0 };
    case "invRms":
      return { atol: 0, rtol: 8 * U32 + (f16 ? 2 * U16 : 0) };
    case "hPre":
    case "hPost":
    case "hRes":
      return {
        atol: s.alpha * (dz + 8 * U32) + 2 * U32 * (s.alpha + s.bias),
        rtol: 0,
      };
  }
  const sum = (32 * U32 + (f16 ? 4 * U16 : 0)) * s.out[name];
  return {
    atol: sum + 8 * U32 * s.unit[name],
    rtol: name === "x" && f16 ? 2 * U16 : 0,
  };
}

/** `[n, C, T, normEps, kind]` of every case. */
const SETTINGS: [number, number, number, number, Kind][] = [
  [1, 37, 19, 1e-6, "normal"],
  [2, 37, 19, 1e-6, "normal"],
  [3, 9, 19, 1e-6, "normal"],
  [4, 37, 19, 1e-6, "normal"],
  [5, 9, 7, 1e-6, "normal"],
  [6, 37, 5, 1e-6, "normal"],
  [7, 9, 7, 1e-6, "normal"],
  [8, 37, 19, 1e-6, "normal"],
  [4, 64, 19, 1e-6, "normal"],
  [4, 1, 5, 1e-6, "normal"],
  [3, 300, 7, 1e-6, "normal"],
  [4, 37, 19, 0.1, "normal"],
  [4, 37, 19, 1e-6, "bigx"],
  [4, 37, 19, 1e-6, "saturated"],
  [4, 64, 150, 1e-6, "normal"],
  [3, 9, 150, 1e-6, "saturated"],
];

function hcCases(
  [n, C, T, normEps, kind]: [number, number, number, number, Kind],
  i: number,
): ConformanceCase[] {
  const options = { n, C, T, normEps };
  const tag = `n=${n} C=${C} T=${T} normEps=${normEps} ${kind}`;
  let d: Draw | undefined, s: Scales | undefined;
  const get = () => d ??= draw(9100 + i, options, kind);
  const sc = () => s ??= scales(get(), options);
  const truthForward = () =>
    hcCoefficients(to64(get().x), params64(get().params), options);
  const scalars = (
    g: { alphaPre: number; alphaPost: number; alphaRes: number },
  ) => ({
    alphaPre: [g.alphaPre],
    alphaPost: [g.alphaPost],
    alphaRes: [g.alphaRes],
  });
  return [
    {
      name: `hcCoefficients ${tag}`,
      run: async (b): Promise<Outputs> => ({
        ...await b.hcCoefficients(get().x, get().params, options),
      }),
      truth: (): Outputs => ({ ...truthForward() }),
      tolerance: (name, precision) => hcTolerance(name, precision, sc()),
    },
    {
      name: `hcCoefficientsBackward ${tag}`,
      async run(b): Promise<Outputs> {
        // Every backend gets the same forward state: the float64 forward
        // rounded to float32.
        const f = truthForward();
        const g = await b.hcCoefficientsBackward(
          get().x,
          get().params,
          {
            hPre: Float32Array.from(f.hPre),
            hPost: Float32Array.from(f.hPost),
            hRes: Float32Array.from(f.hRes),
            logits: Float32Array.from(f.logits),
            invRms: Float32Array.from(f.invRms),
          },
          { hPre: get().gPre, hPost: get().gPost, hRes: get().gRes },
          options,
        );
        return { x: g.x, theta: g.theta, bias: g.bias, ...scalars(g) };
      },
      truth(): Outputs {
        const { x, params, gPre, gPost, gRes } = get();
        const f = truthForward();
        // The float64 backward from the same float32-rounded logits and 1/r.
        const g = hcCoefficientsBackward(
          to64(x),
          params64(params),
          {
            ...f,
            logits: to64(Float32Array.from(f.logits)),
            invRms: to64(Float32Array.from(f.invRms)),
          },
          { hPre: to64(gPre), hPost: to64(gPost), hRes: to64(gRes) },
          options,
        );
        return { x: g.x, theta: g.theta, bias: g.bias, ...scalars(g) };
      },
      tolerance: (name, precision) => hcTolerance(name, precision, sc()),
    },
  ];
}

/** Every HC coefficient case, forward and backward. */
export const cases: ConformanceCase[] = SETTINGS.flatMap(hcCases);
