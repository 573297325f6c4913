// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The per-site connection ops: how a residual site turns the residual state
 * `x` into the sub-layer input `u`, and the sub-layer output `y` into the next
 * state (SPEC §2, §6). This is the seam where a WebGPU backend plugs in: it
 * implements {@linkcode ConnectionOps}; the implementations here call the
 * library's reference ops, as a user would.
 *
 * - `residual`: one stream, `u = x`, `x' = x + y`.
 * - `hc`: `n` streams, unconstrained hyper-connections (SPEC §6).
 * - `mhc`: `n` streams, manifold-constrained hyper-connections (SPEC §3).
 *
 * @module
 */

import {
  type FloatArray,
  hcCoefficients,
  hcCoefficientsBackward,
  mhcCoefficients,
  mhcCoefficientsBackward,
  mhcPost,
  mhcPostBackward,
  mhcPre,
  mhcPreBackward,
} from "../../mod.ts";
import type { Profiler } from "./profiler.ts";

/** The kind of residual connection. */
export type ConnectionMode = "residual" | "hc" | "mhc";

/** The connection modes, in report order. */
export const CONNECTION_MODES: readonly ConnectionMode[] = [
  "residual",
  "hc",
  "mhc",
];

/** Parameter and gradient views of one site (HC or mHC). */
export interface SiteTensors<A extends FloatArray> {
  /** `φ` `[n·C, n²+2n]` (mHC) or `θ` `[n+2, C]` (HC). */
  weight: A;
  /** `b` `[n²+2n]`: pre, post, res. */
  bias: A;
  /** `[α_pre, α_post, α_res]`. */
  alpha: A;
  /** Gradient of `weight`. */
  gradWeight: A;
  /** Gradient of `bias`. */
  gradBias: A;
  /** Gradient of `alpha`. */
  gradAlpha: A;
}

/**
 * The ops of one residual site, for `T` tokens. Arrays may be longer than
 * needed; only their first `T·…` entries are used. The forward ops keep what
 * their backward needs (the coefficients) per site.
 */
export interface ConnectionOps<A extends FloatArray> {
  /** The connection kind. */
  readonly mode: ConnectionMode;
  /** Streams per token (1 for `residual`). */
  readonly n: number;
  /**
   * Computes the site's coefficients from `x` and the sub-layer input.
   *
   * @param site Site index (2 per block: attention, then MLP).
   * @param x State `[T, n, C]`.
   * @param u Sub-layer input `[T, C]` (written).
   * @param T Tokens.
   */
  pre(site: number, x: A, u: A, T: number): void;
  /**
   * Mixes the streams and adds the sub-layer output: the next state.
   *
   * @param site Site index.
   * @param x State `[T, n, C]`.
   * @param y Sub-layer output `[T, C]`.
   * @param out Next state `[T, n, C]` (written).
   * @param T Tokens.
   */
  post(site: number, x: A, y: A, out: A, T: number): void;
  /**
   * Backward of {@linkcode post}.
   *
   * @param site Site index.
   * @param x State given to the forward.
   * @param y Sub-layer output given to the forward.
   * @param dOut Gradient of the next state.
   * @param dx Gradient of `x` (overwritten).
   * @param dy Gradient of `y` (overwritten).
   * @param T Tokens.
   */
  postBackward(
    site: number,
    x: A,
    y: A,
    dOut: A,
    dx: A,
    dy: A,
    T: number,
  ): void;
  /**
   * Backward of {@linkcode pre} and of the coefficients; accumulates the
   * site's parameter gradients. Call after {@linkcode postBackward}.
   *
   * @param site Site index.
   * @param x State given to the forward.
   * @param du Gradient of the sub-layer input.
   * @param dx Gradient of `x` (accumulated into).
   * @param T Tokens.
   */
  preBackward(site: number, x: A, du: A, dx: A, T: number): void;
  /**
   * @param site Site index.
   * @returns `H_res` `[T, n, n]` of the site's last forward, or `null` (residual).
   */
  mixing(site: number): A | null;
}

/** Plain residual connection: one stream. */
export class ResidualConnection<A extends FloatArray>
  implements ConnectionOps<A> {
  /** Always `"residual"`. */
  readonly mode: ConnectionMode = "residual";
  /** Always 1. */
  readonly n = 1;
  readonly #C: number;
  readonly #prof?: Profiler;

  /**
   * @param C Width.
   * @param profiler Optional per-op timer.
   */
  constructor(C: number, profiler?: Profiler) {
    this.#C = C;
    this.#prof = profiler;
  }

  pre(_site: number, x: A, u: A, T: number): void {
    u.set(x.subarray(0, T * this.#C));
  }

  post(_site: number, x: A, y: A, out: A, T: number): void {
    const t0 = this.#prof?.start() ?? 0;
    for (let i = 0, N = T * this.#C; i < N; i++) out[i] = x[i] + y[i];
    this.#prof?.add("residual add", t0);
  }

  postBackward(
    _site: number,
    _x: A,
    _y: A,
    dOut: A,
    dx: A,
    dy: A,
    T: number,
  ): void {
    const N = T * this.#C;
    dx.set(dOut.subarray(0, N));
    dy.set(dOut.subarray(0, N));
  }

  preBackward(_site: number, _x: A, du: A, dx: A, T: number): void {
    for (let i = 0, N = T * this.#C; i < N; i++) dx[i] += du[i];
  }

  mixing(_site: number): A | null {
    return null;
  }
}

interface Saved<A extends FloatArray> {
  hPre: A;
  hPost: A;
  hRes: A;
  logits: A;
  invRms: A;
  dhPost?: A;
  dhRes?: A;
}

/**
 * HC or mHC through the library's reference ops. Each site reads its
 * parameters from, and adds its gradients to, the views it was given.
 */
export class ReferenceStreamConnection<A extends FloatArray>
  implements ConnectionOps<A> {
  /** `"hc"` or `"mhc"`. */
  readonly mode: ConnectionMode;
  /** Streams per token. */
  readonly n: number;
  readonly #C: number;
  readonly #iterations: number;
  readonly #sites: SiteTensors<A>[];
  readonly #saved: (Saved<A> | undefined)[];
  readonly #prof?: Profiler;

  /**
   * @param mode `"hc"` or `"mhc"`.
   * @param n Streams.
   * @param C Width.
   * @param sites Parameter views of every site, in network order.
   * @param iterations Sinkhorn-Knopp iterations (mHC).
   * @param profiler Optional per-op timer.
   */
  constructor(
    mode: "hc" | "mhc",
    n: number,
    C: number,
    sites: SiteTensors<A>[],
    iterations: number,
    profiler?: Profiler,
  ) {
    this.mode = mode;
    this.n = n;
    this.#C = C;
    this.#sites = sites;
    this.#iterations = iterations;
    this.#saved = new Array(sites.length);
    this.#prof = profiler;
  }

  #params(site: number) {
    const p = this.#sites[site];
    return {
      phi: p.weight,
      theta: p.weight,
      bias: p.bias,
      alphaPre: p.alpha[0],
      alphaPost: p.alpha[1],
      alphaRes: p.alpha[2],
    };
  }

  pre(site: number, x: A, u: A, T: number): void {
    const { n } = this, C = this.#C;
    const xs = x.subarray(0, T * n * C) as A;
    let t0 = this.#prof?.start() ?? 0;
    const coef = this.mode === "mhc"
      ? mhcCoefficients(xs, this.#params(site), {
        n,
        C,
        T,
        iterations: this.#iterations,
      })
      : hcCoefficients(xs, this.#params(site), { n, C, T });
    this.#prof?.add(`${this.mode} coefficients`, t0);
    this.#saved[site] = coef;
    t0 = this.#prof?.start() ?? 0;
    u.set(mhcPre(xs, coef.hPre, { n, C, T }));
    this.#prof?.add("stream pre", t0);
  }

  post(site: number, x: A, y: A, out: A, T: number): void {
    const { n } = this, C = this.#C, s = this.#saved[site]!;
    const t0 = this.#prof?.start() ?? 0;
    out.set(
      mhcPost(
        x.subarray(0, T * n * C) as A,
        y.subarray(0, T * C) as A,
        s.hPost,
        s.hRes,
        { n, C, T },
      ),
    );
    this.#prof?.add("stream post", t0);
  }

  postBackward(
    site: number,
    x: A,
    y: A,
    dOut: A,
    dx: A,
    dy: A,
    T: number,
  ): void {
    const { n } = this, C = this.#C, s = this.#saved[site]!;
    const t0 = this.#prof?.start() ?? 0;
    const g = mhcPostBackward(
      x.subarray(0, T * n * C) as A,
      y.subarray(0, T * C) as A,
      s.hPost,
      s.hRes,
      dOut.subarray(0, T * n * C) as A,
      { n, C, T },
    );
    dx.set(g.x);
    dy.set(g.y);
    s.dhPost = g.hPost;
    s.dhRes = g.hRes;
    this.#prof?.add("stream post backward", t0);
  }

  preBackward(site: number, x: A, du: A, dx: A, T: number): void {
    const { n } = this, C = this.#C, s = this.#saved[site]!;
    const xs = x.subarray(0, T * n * C) as A;
    let t0 = this.#prof?.start() ?? 0;
    const gp = mhcPreBackward(xs, s.hPre, du.subarray(0, T * C) as A, {
      n,
      C,
      T,
    });
    this.#prof?.add("stream pre backward", t0);
    t0 = this.#prof?.start() ?? 0;
    const grads = { hPre: gp.hPre, hPost: s.dhPost!, hRes: s.dhRes! };
    const g = this.mode === "mhc"
      ? mhcCoefficientsBackward(xs, this.#params(site), s, grads, {
        n,
        C,
        T,
        iterations: this.#iterations,
      })
      : hcCoefficientsBackward(xs, this.#params(site), s, grads, { n, C, T });
    const p = this.#sites[site];
    const gw = "phi" in g ? g.phi : g.theta;
    for (let i = 0; i < gw.length; i++) p.gradWeight[i] += gw[i];
    for (let i = 0; i < g.bias.length; i++) p.gradBias[i] += g.bias[i];
    p.gradAlpha[0] += g.alphaPre;
    p.gradAlpha[1] += g.alphaPost;
    p.gradAlpha[2] += g.alphaRes;
    for (let i = 0, N = T * n * C; i < N; i++) dx[i] += gp.x[i] + g.x[i];
    this.#prof?.add(`${this.mode} coefficients backward`, t0);
  }

  mixing(site: number): A | null {
    return this.#saved[site]?.hRes ?? null;
  }
}
