// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance cases of the mHC coefficient pass (SPEC §3) and its backward:
 * every n from 1 to 8; C = 37 (scalar rows), 64 and 1; T = 19, 5, 7
 * (multiples of no workgroup size), and the split cases of
 * {@linkcode SPLITS}; 1, 3, 20, 50 and 70 Sinkhorn iterations (50 at n = 6
 * and 70 at n = 8 exceed the kernel's 8·n-iteration history: segmented
 * recomputation);
 * eps = 0 and eps > 0; extreme `H_res` logits through the bias (±80, ±1e4,
 * one entry of 3e4) and large states (|x| ~ 1e3); random upstream
 * gradients. On the webgpu-f16 backend `x` is stored as f16.
 *
 * Early-stop cases (Sinkhorn `tolerance`, both eps modes): the `H_res`
 * logits come from x, so each token runs its own number of iterations.
 * Their x is drawn on a grid of 1/64 (exact in f16, so every backend gets
 * the same values and the float32 error model bounds every backend's
 * logits), and their seeds are ones whose every token is far from a switch
 * of its count (checked by `checkEarlyStop`, which also asserts that the
 * counts really differ across tokens).
 *
 * @module
 */

import {
  type MhcCoefficients,
  mhcCoefficients,
  mhcCoefficientsBackward,
  type MhcCoefficientsOptions,
  type MhcParams,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import type { SplitExpectation } from "../_dispatches.ts";
import { rng } from "../_rand.ts";
import type { ConformanceCase, Outputs } from "./case.ts";
import { drawLogits, maxAbs } from "./cases_sinkhorn.ts";
import type { Precision, Tolerance } from "./tolerance.ts";
import { U16, U32 } from "./tolerance.ts";
import { sinkhornTolerance } from "./tolerance_sinkhorn.ts";
import { checkEarlyStop } from "./early_stop.ts";

/** How the inputs are drawn: `normal`, extreme `H_res` biases, or large x. */
type Kind = "normal" | "pm80" | "pm1e4" | "huge" | "bigx";

interface Draw {
  x: Float32Array;
  params: MhcParams<Float32Array>;
  gPre: Float32Array;
  gPost: Float32Array;
  gRes: Float32Array;
}

/**
 * Seeded inputs. φ ~ N(0, 1/(nC)) so that (v·φ)/r ~ N(0, 1), the α are of
 * order one (not the 0.01 of initialisation, which would hide the dynamic
 * part), the bias is N(0, 1) except for the extreme kinds, whose `H_res`
 * biases are drawn like the Sinkhorn cases' logits.
 */
export function draw(
  seed: number,
  o: { n: number; C: number; T: number },
  kind: Kind,
): Draw {
  const { n, C, T } = o;
  const K = n * n + 2 * n, nC = n * C, r = rng(seed);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const x = f32(r.normals(T * nC, kind === "bigx" ? 1e3 : 1));
  const phi = f32(r.normals(nC * K, 1 / Math.sqrt(nC)));
  const bias = f32(r.normals(K));
  if (kind !== "normal" && kind !== "bigx") {
    bias.set(drawLogits(seed + 1, n * n, n * n, kind), 2 * n);
  }
  return {
    x,
    params: { phi, bias, alphaPre: 0.9, alphaPost: -0.7, alphaRes: 1.2 },
    gPre: f32(r.normals(T * n)),
    gPost: f32(r.normals(T * n)),
    gRes: f32(r.normals(T * n * n)),
  };
}

const to64 = (a: Float32Array) => Float64Array.from(a);

function params64(p: MhcParams<Float32Array>): MhcParams<Float64Array> {
  return { ...p, phi: to64(p.phi), bias: to64(p.bias) };
}

/** Error scales of one case; see {@linkcode coefficientTolerance}. */
interface Scales {
  /** max over (t, k) of |α_k|·ir_t·Σ_a |v_a φ_ak| + |b_k|: the scale of h. */
  sh: number;
  /** max(1, largest |h| of the H_res logits). */
  m: number;
  /** max(1, largest |h| of all logits). */
  mh: number;
  /** Largest upstream gradient. */
  g: number;
  /** Σ|terms| of every backward output (exact g_h). */
  out: Record<string, number>;
  /** The same with |g_h| replaced by 1: sensitivity to errors in g_h. */
  unit: Record<string, number>;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Computes the scales in float64 from the inputs. */
export function scales(d: Draw, o: MhcCoefficientsOptions): Scales {
  const { n, C, T } = o;
  const K = n * n + 2 * n, nC = n * C;
  const x = to64(d.x), p64 = params64(d.params);
  const fwd = mhcCoefficients(x, p64, o);
  const ghRes = sinkhornKnoppBackward(
    Float64Array.from(
      { length: T * n * n },
      (_, i) => fwd.logits[Math.floor(i / (n * n)) * K + 2 * n + i % (n * n)],
    ),
    to64(d.gRes),
    { n, T, iterations: o.iterations, eps: o.eps, tolerance: o.tolerance },
  );
  const alpha = (k: number) =>
    k < n ? p64.alphaPre : k < 2 * n ? p64.alphaPost : p64.alphaRes;
  let sh = 0, m = 1, mh = 1;
  const gphi = new Float64Array(nC * K), gphi1 = new Float64Array(nC * K);
  const gb = new Float64Array(K), ga = [0, 0, 0], ga1 = [0, 0, 0];
  let gx = 0, gx1 = 0;
  for (let t = 0; t < T; t++) {
    const ir = fwd.invRms[t];
    const p = new Float64Array(K), a = new Float64Array(K);
    for (let c = 0; c < nC; c++) {
      const v = x[t * nC + c];
      for (let k = 0; k < K; k++) {
        p[k] += v * p64.phi[c * K + k];
        a[k] += Math.abs(v * p64.phi[c * K + k]);
      }
    }
    const gh = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const h = fwd.logits[t * K + k];
      sh = Math.max(sh, Math.abs(alpha(k)) * ir * a[k] + Math.abs(p64.bias[k]));
      if (k >= 2 * n) m = Math.max(m, Math.abs(h));
      mh = Math.max(mh, Math.abs(h));
      const s = sigmoid(h);
      gh[k] = k < n
        ? d.gPre[t * n + k] * s * (1 - s)
        : k < 2 * n
        ? d.gPost[t * n + k - n] * 2 * s * (1 - s)
        : ghRes[t * n * n + k - 2 * n];
    }
    let coef = 0, coef1 = 0;
    for (let k = 0; k < K; k++) {
      const seg = k < n ? 0 : k < 2 * n ? 1 : 2;
      gb[k] += Math.abs(gh[k]);
      ga[seg] += Math.abs(gh[k] * p[k] * ir);
      ga1[seg] += Math.abs(p[k] * ir);
      coef += Math.abs(gh[k] * alpha(k) * p[k]) * ir ** 3 / nC;
      coef1 += Math.abs(alpha(k) * p[k]) * ir ** 3 / nC;
    }
    for (let c = 0; c < nC; c++) {
      const v = Math.abs(x[t * nC + c]);
      let s = 0, s1 = 0;
      for (let k = 0; k < K; k++) {
        const f = Math.abs(p64.phi[c * K + k] * alpha(k)) * ir;
        s += f * Math.abs(gh[k]);
        s1 += f;
        gphi[c * K + k] += v * Math.abs(gh[k] * alpha(k)) * ir;
        gphi1[c * K + k] += v * Math.abs(alpha(k)) * ir;
      }
      gx = Math.max(gx, s + coef * v);
      gx1 = Math.max(gx1, s1 + coef1 * v);
    }
  }
  const g = Math.max(maxAbs(d.gPre), maxAbs(d.gPost), maxAbs(d.gRes));
  return {
    sh,
    m,
    mh,
    g,
    out: {
      x: gx,
      phi: maxAbs(gphi),
      bias: maxAbs(gb),
      alphaPre: ga[0],
      alphaPost: ga[1],
      alphaRes: ga[2],
    },
    unit: {
      x: gx1,
      phi: maxAbs(gphi1),
      bias: T,
      alphaPre: ga1[0],
      alphaPost: ga1[1],
      alphaRes: ga1[2],
    },
  };
}

/**
 * Tolerance of one output of the coefficient pass. u = 2⁻²⁴, u16 = 2⁻¹¹.
 *
 * - Logits h = α·(v·φ)/r + b. A float32 sum of d terms is within d·u·Σ|terms|
 *   in the worst case, and about √d·u·Σ|terms| when the roundings have
 *   random signs. The kernel sums v·φ in blocks of 32 terms (16 for n > 6),
 *   then adds the block partials in order (d ≤ 32 + nC/16 ≤ 64 for the sizes
 *   here, nC ≤ 512, so √d ≤ 8), the reference in float64;
 *   the roundings of 1/r, α and b add a few u. Tolerance 16·u·sh (sh: see
 *   {@linkcode Scales}); observed ≤ 2.8·u·sh. With f16 storage x is rounded
 *   by ≤ u16 relative, which moves v·φ by ≤ u16·Σ|vφ| and 1/r by ≤ u16
 *   relative: + 2·u16·sh (observed ≤ 0.26·u16·sh in all).
 * - 1/r: relative 8·u (f32); 2·u16 (f16: Σv² moves by ≤ 2·u16 relative).
 * - H_pre = σ(h), H_post = 2σ(h): σ' ≤ 1/4, so 1/4 and 1/2 of the error of
 *   h, plus the output rounding.
 * - H_res: the Sinkhorn tolerance (tolerance_sinkhorn.ts) at the largest
 *   logit m, plus 4× the error of h (Sinkhorn-Knopp is non-expansive in
 *   Hilbert's projective metric; a logit perturbation δ moves the entries
 *   of H_res ≤ 1 by about 4δ at most).
 * - Backward outputs are linear in the logit gradients g_h. Summation and
 *   product roundings: 32·u·(Σ|terms| with the exact g_h) (observed ≤ 4.4);
 *   f16: + 4·u16·Σ|terms| for the rounded x (observed ≤ 0.52·u16), and g_x
 *   is rounded to f16 once (rtol 2·u16). Plus the error of g_h times the
 *   Σ|terms| with |g_h| = 1. Every backend gets the same saved logits (the
 *   float64 forward rounded to float32, off by ≤ u·|h|), so g_h errs by the
 *   Sinkhorn backward tolerance plus ≤ 2·G·u·max|h| (|σ''| ≤ 0.1 and the
 *   Sinkhorn backward is about G-Lipschitz in its logits).
 *
 * @param name Output name.
 * @param precision The backend's stream precision.
 * @param s The case's scales.
 * @param iterations Sinkhorn iterations.
 * @returns The tolerance.
 */
export function coefficientTolerance(
  name: string,
  precision: Precision,
  s: Scales,
  iterations: number,
): Tolerance {
  const f16 = precision === "f16";
  const dh = 16 * U32 * s.sh + (f16 ? 2 * U16 * s.sh : 0);
  const sk = sinkhornTolerance(iterations, s.m, s.g);
  switch (name) {
    case "logits":
      return { atol: dh, rtol: 0 };
    case "invRms":
      return { atol: 0, rtol: f16 ? 2 * U16 : 8 * U32 };
    case "hPre":
      return { atol: dh / 4 + 2 * U32, rtol: 0 };
    case "hPost":
      return { atol: dh / 2 + 4 * U32, rtol: 0 };
    case "hRes":
      return { atol: sk.forward.atol + 4 * dh, rtol: 0 };
  }
  const dgh = sk.backward.atol + 2 * s.g * U32 * s.mh;
  const sum = (32 * U32 + (f16 ? 4 * U16 : 0)) * s.out[name];
  return {
    atol: sum + dgh * s.unit[name],
    rtol: name === "x" && f16 ? 2 * U16 : 0,
  };
}

/** `[n, C, T, iterations, eps, kind]` of every case. */
const SETTINGS: [number, number, number, number, number, Kind][] = [
  [1, 37, 19, 20, 0, "normal"],
  [2, 37, 19, 20, 0, "normal"],
  [3, 37, 19, 20, 0, "normal"],
  [4, 37, 19, 20, 0, "normal"],
  [8, 37, 19, 20, 0, "normal"],
  [4, 64, 19, 20, 0, "normal"],
  [4, 1, 5, 20, 0, "normal"],
  [4, 37, 19, 1, 0, "normal"],
  [3, 37, 19, 3, 0.1, "normal"],
  [4, 37, 19, 20, 1e-6, "normal"],
  [8, 9, 7, 70, 0, "normal"],
  [4, 37, 19, 20, 0, "pm80"],
  [4, 37, 19, 20, 0, "pm1e4"],
  [4, 37, 19, 20, 1e-6, "huge"],
  [4, 37, 19, 20, 0, "bigx"],
  [4, 64, 150, 20, 0, "normal"],
  [3, 37, 150, 3, 0.01, "normal"],
  [5, 37, 19, 20, 0, "normal"],
  [6, 37, 19, 20, 0, "normal"],
  [7, 37, 19, 20, 0, "normal"],
  [6, 9, 7, 50, 1e-6, "normal"],
  [5, 64, 19, 20, 0, "pm80"],
  [2, 7, 1500, 20, 0, "normal"],
  [4, 72, 150, 20, 0, "normal"],
  [4, 72, 128, 20, 0, "normal"],
];

const FORWARD = "mhcCoefficients";
const PROJECTION = "mhcCoefficients projection";
const BACKWARD = "mhcCoefficientsBackward";
const BACKWARD_PROJECTION = "mhcCoefficientsBackward projection";
const GRAD_X = "mhcCoefficientsBackward gradX";
const GRAD_PHI = "mhcCoefficientsBackward gradPhi";
const SUMS = "mhcCoefficientsBackward gradBias gradAlpha";
const chunked = (label: string): SplitExpectation => ({ label, grid2d: false });
const grid2d = (label: string): SplitExpectation => ({ label, grid2d: true });

/**
 * The launches that run in chunks (and on 2D grids) on the webgpu-split
 * backend (64 KiB bindings, 8 workgroups per dimension, offsets aligned to
 * 256 bytes), by `n×C×T`. The launches that read x are the projection
 * blocks (forward, and the convenience backward's recomputation of `v·φ`)
 * and the g_x blocks, one launch per block of φ rows, and the g_φ blocks,
 * one launch per block of tokens (64 tokens for n = 4, 192 for n = 2); the
 * per-token launches (the forward's epilogue, the backward's gradients of
 * the logits) read only a few floats per token. A workgroup of the
 * per-token and block launches takes 64 tokens, of g_φ 32 rows of φ.
 *
 * - 4×64×150: x takes 1 KiB per token, so chunks of 64 tokens (1
 *   workgroup) for the projection and g_x blocks; the g_φ blocks of 64
 *   tokens fit one binding.
 * - 3×37×150: chunks of 128 tokens (444 B per token, offsets aligned every
 *   64 tokens), 2 workgroups.
 * - 2×7×1500: 96 B per token of `saved` and of scratch, so chunks of 672
 *   tokens (11 workgroups, a 6 × 2 grid) for every token launch, and of 680
 *   for the column sums, whose 11 columns need a 6 × 2 grid: a later chunk
 *   adds to the sums so far.
 * - 4×72×150: x takes 1152 B per token, so chunks of 56 tokens.
 * - 4×72×128: the two g_φ blocks of 64 tokens exceed a binding, so each
 *   runs in chunks of 56 and 8 tokens (a later chunk adds to the sums so
 *   far), and 288 rows of φ are 9 workgroups: a 5 × 2 grid.
 */
const SPLITS: Record<
  string,
  { forward: SplitExpectation[]; backward: SplitExpectation[] }
> = {
  "4x64x150": {
    forward: [chunked(PROJECTION)],
    backward: [chunked(BACKWARD_PROJECTION), chunked(GRAD_X)],
  },
  "3x37x150": {
    forward: [chunked(PROJECTION)],
    backward: [chunked(BACKWARD_PROJECTION), chunked(GRAD_X)],
  },
  "2x7x1500": {
    forward: [grid2d(PROJECTION), grid2d(FORWARD)],
    backward: [
      grid2d(BACKWARD_PROJECTION),
      grid2d(BACKWARD),
      grid2d(GRAD_X),
      grid2d(SUMS),
    ],
  },
  "4x72x150": {
    forward: [chunked(PROJECTION)],
    backward: [chunked(GRAD_X)],
  },
  "4x72x128": {
    forward: [chunked(PROJECTION)],
    backward: [chunked(GRAD_X), grid2d(GRAD_PHI)],
  },
};

function coefficientCases(
  [n, C, T, iterations, eps, kind]: [
    number,
    number,
    number,
    number,
    number,
    Kind,
  ],
  i: number,
): ConformanceCase[] {
  const options = { n, C, T, iterations, eps };
  const tag =
    `n=${n} C=${C} T=${T} iterations=${iterations} eps=${eps} ${kind}`;
  let d: Draw | undefined, s: Scales | undefined;
  const get = () => d ??= draw(7000 + i, options, kind);
  const sc = () => s ??= scales(get(), options);
  const truthForward = () =>
    mhcCoefficients(to64(get().x), params64(get().params), options);
  return coefficientPair(
    tag,
    options,
    get,
    truthForward,
    sc,
    SPLITS[`${n}x${C}x${T}`],
  );
}

/**
 * The forward and backward cases of one setting.
 *
 * @param tag The setting, for names.
 * @param options The options of both calls.
 * @param get The case's inputs.
 * @param truthForward The float64 forward.
 * @param sc The case's error scales.
 * @param split The launches that must run split, on the split backend.
 * @returns The two cases.
 */
function coefficientPair(
  tag: string,
  options: MhcCoefficientsOptions & { iterations: number },
  get: () => Draw,
  truthForward: () => MhcCoefficients<Float64Array>,
  sc: () => Scales,
  split?: (typeof SPLITS)[string],
): ConformanceCase[] {
  const { iterations } = options;
  return [
    {
      name: `mhcCoefficients ${tag}`,
      run: async (b): Promise<Outputs> => ({
        ...await b.mhcCoefficients(get().x, get().params, options),
      }),
      truth: (): Outputs => ({ ...truthForward() }),
      tolerance: (name, precision) =>
        coefficientTolerance(name, precision, sc(), iterations),
      split: split && { launches: split.forward },
    },
    {
      name: `mhcCoefficientsBackward ${tag}`,
      async run(b): Promise<Outputs> {
        // Every backend gets the same forward state: the float64 forward
        // rounded to float32.
        const f = truthForward();
        const g = await b.mhcCoefficientsBackward(
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
        return {
          ...g,
          alphaPre: [g.alphaPre],
          alphaPost: [g.alphaPost],
          alphaRes: [g.alphaRes],
        };
      },
      truth(): Outputs {
        const { x, params, gPre, gPost, gRes } = get();
        const p = params64(params);
        const g = mhcCoefficientsBackward(to64(x), p, truthForward(), {
          hPre: to64(gPre),
          hPost: to64(gPost),
          hRes: to64(gRes),
        }, options);
        return {
          ...g,
          alphaPre: [g.alphaPre],
          alphaPost: [g.alphaPost],
          alphaRes: [g.alphaRes],
        };
      },
      tolerance: (name, precision) =>
        coefficientTolerance(name, precision, sc(), iterations),
      split: split && { launches: split.backward },
    },
  ];
}

/**
 * `[n, C, T, iterations, eps, tolerance, seed]` of the early-stop cases. The
 * seeds are ones whose every token is far from a switch of its count.
 */
const EARLY_STOP: [number, number, number, number, number, number, number][] = [
  [4, 37, 19, 20, 0, 0.02, 7501],
  [3, 37, 37, 20, 1e-6, 0.02, 7505],
  [8, 9, 19, 30, 0, 0.05, 7503],
];

function earlyStopCases(
  [n, C, T, iterations, eps, tolerance, seed]: [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ],
): ConformanceCase[] {
  const options = { n, C, T, iterations, eps, tolerance };
  const tag = `n=${n} C=${C} T=${T} iterations=${iterations} eps=${eps} ` +
    `tolerance=${tolerance}`;
  const K = n * n + 2 * n;
  let d: Draw | undefined, s: Scales | undefined, checked = false;
  const get = () => {
    if (d) return d;
    d = draw(seed, options, "normal");
    // On a grid of 1/64: exact in f16 (11 significant bits) for |x| < 32.
    d.x = d.x.map((v) => Math.round(64 * v) / 64);
    return d;
  };
  const sc = () => s ??= scales(get(), options);
  const truthForward = () => {
    const f = mhcCoefficients(to64(get().x), params64(get().params), options);
    if (!checked) {
      // Every backend's H_res iterates are within the f32 H_res atol of the
      // reference's (x is exact in f16; the backward's saved logits are the
      // reference's rounded to f32, a smaller error), so its deviations are
      // within n·(atol + u); see early_stop.ts.
      const atol = coefficientTolerance("hRes", "f32", sc(), iterations).atol;
      const res = Float64Array.from(
        { length: T * n * n },
        (_, i) => f.logits[Math.floor(i / (n * n)) * K + 2 * n + i % (n * n)],
      );
      checkEarlyStop(
        res,
        { n, T, iterations, eps, tolerance },
        n * (atol + U32),
        tag,
      );
      checked = true;
    }
    return f;
  };
  return coefficientPair(tag, options, get, truthForward, sc);
}

/** Every coefficient case, forward and backward. */
export const cases: ConformanceCase[] = [
  ...SETTINGS.flatMap(coefficientCases),
  ...EARLY_STOP.flatMap(earlyStopCases),
];
