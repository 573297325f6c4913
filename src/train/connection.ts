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
import { prefix } from "./prefix.ts";
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
    u.set(prefix(x, T * this.#C));
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
    dx.set(prefix(dOut, N));
    dy.set(prefix(dOut, N));
  }

  preBackward(_site: number, _x: A, du: A, dx: A, T: number): void {
    for (let i = 0, N = T * this.#C; i < N; i++) dx[i] += du[i];
  }

  mixing(_site: number): A | null {
    return null;
  }
}

/** What a site keeps from its forward for its backward, for `cap` tokens. */
interface Saved<A extends FloatArray> {
  cap: number;
  hPre: A;
  hPost: A;
  hRes: A;
  logits: A;
  invRms: A;
  dhPost: A;
  dhRes: A;
}

/** Gradient scratch shared by all sites, for `cap` tokens. */
interface Scratch<A extends FloatArray> {
  cap: number;
  /** Gradient of `x` through the pre-aggregation, `[T, n, C]`. */
  preX: A;
  /** Gradient of `H_pre`, `[T, n]`. */
  dhPre: A;
  /** Gradient of `x` through the coefficients, `[T, n, C]`. */
  coefX: A;
  /** Gradient of `φ` or `θ`. */
  weight: A;
  /** Gradient of `b`. */
  bias: A;
  /** Float64 sums of the coefficient backward. */
  workspace: Float64Array;
}

/**
 * HC or mHC through the library's reference ops. Each site reads its
 * parameters from, and adds its gradients to, the views it was given. Every
 * op writes into buffers the connection keeps (grown when a call has more
 * tokens than any before), so that steps of a fixed shape allocate nothing.
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
  readonly #T: number[];
  #scratch?: Scratch<A>;
  readonly #maxTokens: number;
  readonly #prof?: Profiler;

  /**
   * @param mode `"hc"` or `"mhc"`.
   * @param n Streams.
   * @param C Width.
   * @param sites Parameter views of every site, in network order.
   * @param iterations Sinkhorn-Knopp iterations (mHC).
   * @param profiler Optional per-op timer.
   * @param maxTokens Tokens the buffers are first sized for (they grow
   *   when a call has more).
   */
  constructor(
    mode: "hc" | "mhc",
    n: number,
    C: number,
    sites: SiteTensors<A>[],
    iterations: number,
    profiler?: Profiler,
    maxTokens = 1,
  ) {
    this.mode = mode;
    this.n = n;
    this.#C = C;
    this.#sites = sites;
    this.#iterations = iterations;
    this.#saved = new Array(sites.length);
    this.#T = new Array(sites.length).fill(0);
    this.#prof = profiler;
    this.#maxTokens = maxTokens;
  }

  #alloc(length: number): A {
    const like = this.#sites[0].weight;
    return new (like.constructor as new (length: number) => A)(length);
  }

  /** The site's saved buffers, holding at least `T` tokens. */
  #site(site: number, T: number): Saved<A> {
    const have = this.#saved[site];
    if (have !== undefined && have.cap >= T) return have;
    const { n } = this, K = n * n + 2 * n;
    T = Math.max(T, this.#maxTokens);
    const saved: Saved<A> = {
      cap: T,
      hPre: this.#alloc(T * n),
      hPost: this.#alloc(T * n),
      hRes: this.#alloc(T * n * n),
      logits: this.#alloc(T * K),
      invRms: this.#alloc(this.mode === "mhc" ? T : T * n),
      dhPost: this.#alloc(T * n),
      dhRes: this.#alloc(T * n * n),
    };
    this.#saved[site] = saved;
    return saved;
  }

  /** The shared gradient scratch, holding at least `T` tokens. */
  #grads(T: number): Scratch<A> {
    const have = this.#scratch;
    if (have !== undefined && have.cap >= T) return have;
    const { n } = this, C = this.#C, K = n * n + 2 * n;
    T = Math.max(T, this.#maxTokens);
    this.#scratch = {
      cap: T,
      preX: this.#alloc(T * n * C),
      dhPre: this.#alloc(T * n),
      coefX: this.#alloc(T * n * C),
      weight: this.#alloc(this.#sites[0].weight.length),
      bias: this.#alloc(K),
      workspace: new Float64Array(
        this.mode === "mhc" ? n * C * K : (n + 3) * C,
      ),
    };
    return this.#scratch;
  }

  /** Views of the site's coefficients for `T` tokens. */
  #coefficients(site: number, T: number) {
    const s = this.#saved[site]!, n = this.n, K = n * n + 2 * n;
    return {
      hPre: prefix(s.hPre, T * n),
      hPost: prefix(s.hPost, T * n),
      hRes: prefix(s.hRes, T * n * n),
      logits: prefix(s.logits, T * K),
      invRms: prefix(s.invRms, this.mode === "mhc" ? T : T * n),
    };
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
    const xs = prefix(x, T * n * C);
    let t0 = this.#prof?.start() ?? 0;
    this.#site(site, T);
    this.#T[site] = T;
    const out = this.#coefficients(site, T);
    const coef = this.mode === "mhc"
      ? mhcCoefficients(xs, this.#params(site), {
        n,
        C,
        T,
        iterations: this.#iterations,
        out,
      })
      : hcCoefficients(xs, this.#params(site), { n, C, T, out });
    this.#prof?.add(`${this.mode} coefficients`, t0);
    t0 = this.#prof?.start() ?? 0;
    mhcPre(xs, coef.hPre, { n, C, T, out: prefix(u, T * C) });
    this.#prof?.add("stream pre", t0);
  }

  post(site: number, x: A, y: A, out: A, T: number): void {
    const { n } = this, C = this.#C, s = this.#coefficients(site, T);
    const t0 = this.#prof?.start() ?? 0;
    mhcPost(prefix(x, T * n * C), prefix(y, T * C), s.hPost, s.hRes, {
      n,
      C,
      T,
      out: prefix(out, T * n * C),
    });
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
    const { n } = this, C = this.#C;
    const s = this.#coefficients(site, T), saved = this.#saved[site]!;
    const t0 = this.#prof?.start() ?? 0;
    mhcPostBackward(
      prefix(x, T * n * C),
      prefix(y, T * C),
      s.hPost,
      s.hRes,
      prefix(dOut, T * n * C),
      {
        n,
        C,
        T,
        out: {
          x: prefix(dx, T * n * C),
          y: prefix(dy, T * C),
          hPost: prefix(saved.dhPost, T * n),
          hRes: prefix(saved.dhRes, T * n * n),
        },
      },
    );
    this.#prof?.add("stream post backward", t0);
  }

  preBackward(site: number, x: A, du: A, dx: A, T: number): void {
    const { n } = this, C = this.#C;
    const s = this.#coefficients(site, T), saved = this.#saved[site]!;
    const w = this.#grads(T);
    const xs = prefix(x, T * n * C);
    let t0 = this.#prof?.start() ?? 0;
    const gp = mhcPreBackward(xs, s.hPre, prefix(du, T * C), {
      n,
      C,
      T,
      out: { x: prefix(w.preX, T * n * C), hPre: prefix(w.dhPre, T * n) },
    });
    this.#prof?.add("stream pre backward", t0);
    t0 = this.#prof?.start() ?? 0;
    const grads = {
      hPre: gp.hPre,
      hPost: prefix(saved.dhPost, T * n),
      hRes: prefix(saved.dhRes, T * n * n),
    };
    const coefX = prefix(w.coefX, T * n * C);
    const g = this.mode === "mhc"
      ? mhcCoefficientsBackward(xs, this.#params(site), s, grads, {
        n,
        C,
        T,
        iterations: this.#iterations,
        out: { x: coefX, phi: w.weight, bias: w.bias },
        workspace: w.workspace,
      })
      : hcCoefficientsBackward(xs, this.#params(site), s, grads, {
        n,
        C,
        T,
        out: { x: coefX, theta: w.weight, bias: w.bias },
        workspace: w.workspace,
      });
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
    const saved = this.#saved[site];
    if (saved === undefined) return null;
    return prefix(saved.hRes, this.#T[site] * this.n * this.n);
  }
}
