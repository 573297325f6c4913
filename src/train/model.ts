// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * A small byte-level decoder-only transformer whose residual connections are
 * plain residual, HC or mHC, with forward and backward written op by op over
 * preallocated buffers (in the style of llm.c).
 *
 * Layout: token + position embedding → expand to `n` streams (SPEC §5) →
 * `L` pre-norm blocks, each with two residual sites (causal multi-head
 * attention, then a GELU MLP; each sub-layer starts with its own RMSNorm) →
 * sum of the streams → final RMSNorm → LM head → softmax cross-entropy.
 *
 * All parameters live in one flat array (`params`), gradients in another of
 * the same layout (`grads`). The element type (`Float32Array` for training,
 * `Float64Array` for gradient checks) follows the array constructor given.
 *
 * @module
 */

import {
  expandStreams,
  expandStreamsBackward,
  type FloatArray,
  reduceStreams,
  reduceStreamsBackward,
} from "../../mod.ts";
import {
  type ConnectionMode,
  type ConnectionOps,
  ReferenceStreamConnection,
  ResidualConnection,
  type SiteTensors,
} from "./connection.ts";
import { cpuDenseOps, type DenseOps } from "./ops/dense.ts";
import { prefix } from "./prefix.ts";
import type { Profiler } from "./profiler.ts";
import type { Rng } from "./rng.ts";

/** Byte-level vocabulary size. */
export const VOCAB = 256;

/** mHC init (SPEC §7): `b_pre = ±MHC_PRE_BIAS` (own stream +, others −). */
export const MHC_PRE_BIAS = 3;
/**
 * mHC init (SPEC §7): diagonal logit of `b_res`. With `n = 4`, Sinkhorn then
 * gives `H_res ≈ 0.948` on the diagonal and `≈ 0.017` off it: close to, but
 * not exactly, the identity.
 */
export const MHC_RES_DIAG = 4;
/** Initial value of every `α` (SPEC §3, §6). */
export const ALPHA_INIT = 0.01;

/** The shape of a model. */
export interface ModelConfig {
  /** Residual connection kind. */
  mode: ConnectionMode;
  /** Transformer blocks (two residual sites each). */
  layers: number;
  /** Width `C`. */
  width: number;
  /** Attention heads (must divide the width). */
  heads: number;
  /** Context length `T` (also the size of the position table). */
  context: number;
  /** Streams `n` (forced to 1 for `residual`). */
  streams: number;
  /** Sinkhorn-Knopp iterations of mHC. */
  sinkhornIters: number;
}

/** One named tensor inside the flat parameter array. */
export interface TensorSpec {
  /** Name, also used in checkpoints. */
  name: string;
  /** Shape (row-major). */
  shape: number[];
  /** Offset in the flat array. */
  offset: number;
  /** Number of elements. */
  size: number;
  /** Whether AdamW applies weight decay (matrices only). */
  decay: boolean;
}

/** Streams used by a config: `n` for HC/mHC, 1 for residual. */
export function streamsOf(cfg: ModelConfig): number {
  return cfg.mode === "residual" ? 1 : cfg.streams;
}

/**
 * Lists the model's tensors in their flat-array order: the dense network
 * first (the same for every mode), then the connection parameters of every
 * site.
 *
 * @param cfg Model shape.
 * @returns Tensor specs with offsets.
 */
export function parameterLayout(cfg: ModelConfig): TensorSpec[] {
  const C = cfg.width, n = streamsOf(cfg), K = n * n + 2 * n;
  const specs: TensorSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], decay: boolean) => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, size, decay });
    offset += size;
  };
  add("wte.weight", [VOCAB, C], true);
  add("wpe.weight", [cfg.context, C], true);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `blocks.${l}`;
    add(`${p}.attn_norm.weight`, [C], false);
    add(`${p}.attn.qkv.weight`, [3 * C, C], true);
    add(`${p}.attn.proj.weight`, [C, C], true);
    add(`${p}.mlp_norm.weight`, [C], false);
    add(`${p}.mlp.fc.weight`, [4 * C, C], true);
    add(`${p}.mlp.proj.weight`, [C, 4 * C], true);
  }
  add("norm_f.weight", [C], false);
  add("lm_head.weight", [VOCAB, C], true);
  if (cfg.mode !== "residual") {
    for (let s = 0; s < 2 * cfg.layers; s++) {
      const p = siteName(s);
      if (cfg.mode === "mhc") add(`${p}.phi`, [n * C, K], true);
      else add(`${p}.theta`, [n + 2, C], true);
      add(`${p}.bias`, [K], false);
      add(`${p}.alpha`, [3], false);
    }
  }
  return specs;
}

/** Name prefix of the connection parameters of site `s`. */
export function siteName(s: number): string {
  return `blocks.${s >> 1}.${s % 2 === 0 ? "attn" : "mlp"}_conn`;
}

type Ctor<A extends FloatArray> = new (length: number) => A;

interface BlockViews<A> {
  attnNorm: A;
  qkv: A;
  attnProj: A;
  mlpNorm: A;
  fc: A;
  mlpProj: A;
}

interface BlockActs<A> {
  attnLn: A;
  attnRstd: A;
  qkv: A;
  att: A;
  attY: A;
  mlpLn: A;
  mlpRstd: A;
  fch: A;
  fchGelu: A;
}

/** Options of {@linkcode Model}. */
export interface ModelOptions {
  /** Dense kernels (default: plain TypeScript). */
  dense?: DenseOps;
  /** Per-op timer. */
  profiler?: Profiler;
}

/** The model: parameters, gradients, activations, forward and backward. */
export class Model<A extends FloatArray> {
  /** Shape. */
  readonly cfg: ModelConfig;
  /** Largest batch the buffers hold. */
  readonly maxBatch: number;
  /** Tensor layout of `params` and `grads`. */
  readonly layout: TensorSpec[];
  /** All parameters, flat. */
  readonly params: A;
  /** All gradients, same layout. */
  readonly grads: A;
  /** The site ops. */
  readonly connection: ConnectionOps<A>;
  /** Streams per token. */
  readonly n: number;

  readonly #ctor: Ctor<A>;
  readonly #ops: DenseOps;
  readonly #prof?: Profiler;
  readonly #p: BlockViews<A>[];
  readonly #g: BlockViews<A>[];
  readonly #views = new Map<string, [A, A]>();
  // Activations.
  readonly #inputs: Uint8Array;
  readonly #targets: Uint8Array;
  readonly #emb: A;
  readonly #xs: A[];
  readonly #u: A[];
  readonly #y: A[];
  readonly #acts: BlockActs<A>[];
  readonly #red: A;
  readonly #lnf: A;
  readonly #lnfRstd: A;
  readonly #logits: A;
  readonly #probs: A;
  // Gradient scratch.
  readonly #dxA: A;
  readonly #dxB: A;
  readonly #du: A;
  readonly #dy: A;
  readonly #dln: A;
  readonly #dqkv: A;
  readonly #dattY: A;
  readonly #dfch: A;
  readonly #dfchGelu: A;
  readonly #dlogits: A;
  readonly #dlnf: A;
  readonly #dred: A;
  readonly #demb: A;
  readonly #scratch: A;
  #B = 0;
  #T = 0;
  #hasTargets = false;

  /**
   * Allocates a model with zero parameters (call {@linkcode init}).
   *
   * @param cfg Shape.
   * @param maxBatch Largest batch a forward will get.
   * @param ctor `Float32Array` or `Float64Array`.
   * @param options Kernels and profiler.
   */
  constructor(
    cfg: ModelConfig,
    maxBatch: number,
    ctor: Ctor<A>,
    options: ModelOptions = {},
  ) {
    this.cfg = cfg;
    this.maxBatch = maxBatch;
    this.#ctor = ctor;
    this.#ops = options.dense ?? cpuDenseOps;
    this.#prof = options.profiler;
    const n = this.n = streamsOf(cfg);
    const { layers: L, width: C, heads: H, context: T } = cfg;
    this.layout = parameterLayout(cfg);
    const total = this.layout.reduce((a, s) => a + s.size, 0);
    this.params = new ctor(total);
    this.grads = new ctor(total);
    for (const s of this.layout) {
      this.#views.set(s.name, [
        this.params.subarray(s.offset, s.offset + s.size) as A,
        this.grads.subarray(s.offset, s.offset + s.size) as A,
      ]);
    }
    const block = (which: 0 | 1) =>
      Array.from({ length: L }, (_, l) => {
        const v = (name: string) =>
          this.#views.get(`blocks.${l}.${name}`)![which];
        return {
          attnNorm: v("attn_norm.weight"),
          qkv: v("attn.qkv.weight"),
          attnProj: v("attn.proj.weight"),
          mlpNorm: v("mlp_norm.weight"),
          fc: v("mlp.fc.weight"),
          mlpProj: v("mlp.proj.weight"),
        };
      });
    this.#p = block(0);
    this.#g = block(1);
    if (cfg.mode === "residual") {
      this.connection = new ResidualConnection<A>(C, this.#prof);
    } else {
      const w = cfg.mode === "mhc" ? "phi" : "theta";
      const sites: SiteTensors<A>[] = Array.from(
        { length: 2 * L },
        (_, s) => {
          const v = (name: string) =>
            this.#views.get(`${siteName(s)}.${name}`)!;
          return {
            weight: v(w)[0],
            bias: v("bias")[0],
            alpha: v("alpha")[0],
            gradWeight: v(w)[1],
            gradBias: v("bias")[1],
            gradAlpha: v("alpha")[1],
          };
        },
      );
      this.connection = new ReferenceStreamConnection<A>(
        cfg.mode,
        n,
        C,
        sites,
        cfg.sinkhornIters,
        this.#prof,
        maxBatch * T,
      );
    }
    const BT = maxBatch * T;
    const a = (len: number) => new ctor(len);
    this.#inputs = new Uint8Array(BT);
    this.#targets = new Uint8Array(BT);
    this.#emb = a(BT * C);
    this.#xs = Array.from({ length: 2 * L + 1 }, () => a(BT * n * C));
    this.#u = Array.from({ length: 2 * L }, () => a(BT * C));
    this.#y = Array.from({ length: 2 * L }, () => a(BT * C));
    this.#acts = Array.from({ length: L }, () => ({
      attnLn: a(BT * C),
      attnRstd: a(BT),
      qkv: a(BT * 3 * C),
      att: a(maxBatch * H * T * T),
      attY: a(BT * C),
      mlpLn: a(BT * C),
      mlpRstd: a(BT),
      fch: a(BT * 4 * C),
      fchGelu: a(BT * 4 * C),
    }));
    this.#red = a(BT * C);
    this.#lnf = a(BT * C);
    this.#lnfRstd = a(BT);
    this.#logits = a(BT * VOCAB);
    this.#probs = a(BT * VOCAB);
    this.#dxA = a(BT * n * C);
    this.#dxB = a(BT * n * C);
    this.#du = a(BT * C);
    this.#dy = a(BT * C);
    this.#dln = a(BT * C);
    this.#dqkv = a(BT * 3 * C);
    this.#dattY = a(BT * C);
    this.#dfch = a(BT * 4 * C);
    this.#dfchGelu = a(BT * 4 * C);
    this.#dlogits = a(BT * VOCAB);
    this.#dlnf = a(BT * C);
    this.#dred = a(BT * C);
    this.#demb = a(BT * C);
    this.#scratch = a(T);
  }

  /**
   * @param name A tensor name from the layout.
   * @returns The parameter view of that tensor.
   */
  param(name: string): A {
    const v = this.#views.get(name);
    if (!v) throw new RangeError(`no tensor named ${name}`);
    return v[0];
  }

  /**
   * @param name A tensor name from the layout.
   * @returns The gradient view of that tensor.
   */
  grad(name: string): A {
    const v = this.#views.get(name);
    if (!v) throw new RangeError(`no tensor named ${name}`);
    return v[1];
  }

  /**
   * Initialises the parameters: GPT-2 style normals for the dense network
   * (drawn in the same order for every mode, so that one seed gives the same
   * dense weights to residual, HC and mHC), then the connection parameters
   * of SPEC §6 (HC) or §7 (mHC).
   *
   * @param rng Generator for the normals.
   */
  init(rng: Rng): void {
    const { layers: L } = this.cfg, n = this.n;
    const normal = (name: string, std: number) => {
      const p = this.param(name);
      for (let i = 0; i < p.length; i++) p[i] = std * rng.normal();
    };
    const ones = (name: string) => this.param(name).fill(1);
    const projStd = 0.02 / Math.sqrt(2 * L);
    normal("wte.weight", 0.02);
    normal("wpe.weight", 0.01);
    for (let l = 0; l < L; l++) {
      const p = `blocks.${l}`;
      ones(`${p}.attn_norm.weight`);
      normal(`${p}.attn.qkv.weight`, 0.02);
      normal(`${p}.attn.proj.weight`, projStd);
      ones(`${p}.mlp_norm.weight`);
      normal(`${p}.mlp.fc.weight`, 0.02);
      normal(`${p}.mlp.proj.weight`, projStd);
    }
    ones("norm_f.weight");
    normal("lm_head.weight", 0.02);
    if (this.cfg.mode === "residual") return;
    for (let s = 0; s < 2 * L; s++) {
      const p = siteName(s);
      const bias = this.param(`${p}.bias`);
      this.param(`${p}.alpha`).fill(ALPHA_INIT);
      this.param(`${p}.${this.cfg.mode === "mhc" ? "phi" : "theta"}`).fill(0);
      const own = s % n;
      for (let i = 0; i < n; i++) {
        if (this.cfg.mode === "mhc") {
          bias[i] = i === own ? MHC_PRE_BIAS : -MHC_PRE_BIAS; // H_pre ≈ (0.95, 0.05, …)
          bias[n + i] = 0; // H_post = 2·sigmoid(0) = 1
          for (let j = 0; j < n; j++) {
            bias[2 * n + i * n + j] = i === j ? MHC_RES_DIAG : 0;
          }
        } else {
          bias[i] = i === own ? 1 : 0; // one-hot b_pre
          bias[n + i] = 1; // b_post = 1
          for (let j = 0; j < n; j++) bias[2 * n + i * n + j] = i === j ? 1 : 0;
        }
      }
    }
  }

  /**
   * Runs the network on `B` windows of `T` bytes.
   *
   * @param inputs Input bytes `[B·T]`.
   * @param targets Next bytes `[B·T]`, or `null` (then only `probs` is useful).
   * @param B Windows (at most `maxBatch`).
   * @param T Window length (at most `context`).
   * @returns The mean cross-entropy in nats, or `NaN` without targets.
   */
  forward(
    inputs: ArrayLike<number>,
    targets: ArrayLike<number> | null,
    B: number,
    T: number,
  ): number {
    if (B > this.maxBatch || T > this.cfg.context || B < 1 || T < 1) {
      throw new RangeError(
        `batch ${B}×${T} exceeds the model's buffers (${this.maxBatch}×${this.cfg.context})`,
      );
    }
    const ops = this.#ops, prof = this.#prof, conn = this.connection;
    const { layers: L, width: C, heads: H } = this.cfg, n = this.n;
    const BT = B * T;
    this.#B = B;
    this.#T = T;
    for (let i = 0; i < BT; i++) this.#inputs[i] = inputs[i];
    this.#hasTargets = targets !== null;
    if (targets) { for (let i = 0; i < BT; i++) this.#targets[i] = targets[i]; }
    let t0 = prof?.start() ?? 0;
    ops.embeddingForward(
      this.#emb,
      this.#inputs,
      this.param("wte.weight"),
      this.param("wpe.weight"),
      B,
      T,
      C,
    );
    prof?.add("embedding", t0);
    t0 = prof?.start() ?? 0;
    expandStreams(prefix(this.#emb, BT * C), {
      n,
      C,
      T: BT,
      out: prefix(this.#xs[0], BT * n * C),
    });
    prof?.add("stream expand/reduce", t0);
    for (let l = 0; l < L; l++) {
      const p = this.#p[l], a = this.#acts[l];
      // Attention site.
      let s = 2 * l;
      conn.pre(s, this.#xs[s], this.#u[s], BT);
      t0 = prof?.start() ?? 0;
      ops.rmsnormForward(a.attnLn, a.attnRstd, this.#u[s], p.attnNorm, BT, C);
      prof?.add("rmsnorm", t0);
      t0 = prof?.start() ?? 0;
      ops.matmulForward(a.qkv, a.attnLn, p.qkv, BT, C, 3 * C);
      prof?.add("matmul", t0);
      t0 = prof?.start() ?? 0;
      ops.attentionForward(a.attY, a.att, a.qkv, B, T, C, H);
      prof?.add("attention", t0);
      t0 = prof?.start() ?? 0;
      ops.matmulForward(this.#y[s], a.attY, p.attnProj, BT, C, C);
      prof?.add("matmul", t0);
      conn.post(s, this.#xs[s], this.#y[s], this.#xs[s + 1], BT);
      // MLP site.
      s = 2 * l + 1;
      conn.pre(s, this.#xs[s], this.#u[s], BT);
      t0 = prof?.start() ?? 0;
      ops.rmsnormForward(a.mlpLn, a.mlpRstd, this.#u[s], p.mlpNorm, BT, C);
      prof?.add("rmsnorm", t0);
      t0 = prof?.start() ?? 0;
      ops.matmulForward(a.fch, a.mlpLn, p.fc, BT, C, 4 * C);
      prof?.add("matmul", t0);
      t0 = prof?.start() ?? 0;
      ops.geluForward(a.fchGelu, a.fch, BT * 4 * C);
      prof?.add("gelu", t0);
      t0 = prof?.start() ?? 0;
      ops.matmulForward(this.#y[s], a.fchGelu, p.mlpProj, BT, 4 * C, C);
      prof?.add("matmul", t0);
      conn.post(s, this.#xs[s], this.#y[s], this.#xs[s + 1], BT);
    }
    t0 = prof?.start() ?? 0;
    reduceStreams(prefix(this.#xs[2 * L], BT * n * C), {
      n,
      C,
      T: BT,
      out: prefix(this.#red, BT * C),
    });
    prof?.add("stream expand/reduce", t0);
    t0 = prof?.start() ?? 0;
    ops.rmsnormForward(
      this.#lnf,
      this.#lnfRstd,
      this.#red,
      this.param("norm_f.weight"),
      BT,
      C,
    );
    prof?.add("rmsnorm", t0);
    t0 = prof?.start() ?? 0;
    ops.matmulForward(
      this.#logits,
      this.#lnf,
      this.param("lm_head.weight"),
      BT,
      C,
      VOCAB,
    );
    prof?.add("matmul", t0);
    t0 = prof?.start() ?? 0;
    const loss = ops.crossEntropyForward(
      this.#probs,
      this.#logits,
      targets ? this.#targets : null,
      BT,
      VOCAB,
    );
    prof?.add("cross-entropy", t0);
    return loss;
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    this.grads.fill(0);
  }

  /**
   * Backpropagates the mean loss of the last forward (which needs targets)
   * and adds the gradients to `grads`.
   */
  backward(): void {
    if (!this.#hasTargets) {
      throw new RangeError("backward needs a forward with targets");
    }
    const ops = this.#ops, prof = this.#prof, conn = this.connection;
    const { layers: L, width: C, heads: H } = this.cfg, n = this.n;
    const B = this.#B, T = this.#T, BT = B * T;
    let t0 = prof?.start() ?? 0;
    ops.crossEntropyBackward(
      this.#dlogits,
      this.#probs,
      this.#targets,
      BT,
      VOCAB,
    );
    prof?.add("cross-entropy", t0);
    t0 = prof?.start() ?? 0;
    this.#dlnf.fill(0);
    ops.matmulBackward(
      this.#dlnf,
      this.grad("lm_head.weight"),
      this.#dlogits,
      this.#lnf,
      this.param("lm_head.weight"),
      BT,
      C,
      VOCAB,
    );
    prof?.add("matmul backward", t0);
    t0 = prof?.start() ?? 0;
    this.#dred.fill(0);
    ops.rmsnormBackward(
      this.#dred,
      this.grad("norm_f.weight"),
      this.#dlnf,
      this.#red,
      this.param("norm_f.weight"),
      this.#lnfRstd,
      BT,
      C,
    );
    prof?.add("rmsnorm backward", t0);
    t0 = prof?.start() ?? 0;
    let dOut = this.#dxA, dIn = this.#dxB;
    reduceStreamsBackward(prefix(this.#dred, BT * C), {
      n,
      C,
      T: BT,
      out: prefix(dOut, BT * n * C),
    });
    prof?.add("stream expand/reduce", t0);
    for (let l = L - 1; l >= 0; l--) {
      const p = this.#p[l], g = this.#g[l], a = this.#acts[l];
      const du = this.#du, dy = this.#dy, dln = this.#dln;
      // MLP site.
      let s = 2 * l + 1;
      conn.postBackward(s, this.#xs[s], this.#y[s], dOut, dIn, dy, BT);
      t0 = prof?.start() ?? 0;
      this.#dfchGelu.fill(0);
      ops.matmulBackward(
        this.#dfchGelu,
        g.mlpProj,
        dy,
        a.fchGelu,
        p.mlpProj,
        BT,
        4 * C,
        C,
      );
      prof?.add("matmul backward", t0);
      t0 = prof?.start() ?? 0;
      this.#dfch.fill(0);
      ops.geluBackward(this.#dfch, a.fch, this.#dfchGelu, BT * 4 * C);
      prof?.add("gelu backward", t0);
      t0 = prof?.start() ?? 0;
      dln.fill(0);
      ops.matmulBackward(dln, g.fc, this.#dfch, a.mlpLn, p.fc, BT, C, 4 * C);
      prof?.add("matmul backward", t0);
      t0 = prof?.start() ?? 0;
      du.fill(0);
      ops.rmsnormBackward(
        du,
        g.mlpNorm,
        dln,
        this.#u[s],
        p.mlpNorm,
        a.mlpRstd,
        BT,
        C,
      );
      prof?.add("rmsnorm backward", t0);
      conn.preBackward(s, this.#xs[s], du, dIn, BT);
      [dOut, dIn] = [dIn, dOut];
      // Attention site.
      s = 2 * l;
      conn.postBackward(s, this.#xs[s], this.#y[s], dOut, dIn, dy, BT);
      t0 = prof?.start() ?? 0;
      this.#dattY.fill(0);
      ops.matmulBackward(
        this.#dattY,
        g.attnProj,
        dy,
        a.attY,
        p.attnProj,
        BT,
        C,
        C,
      );
      prof?.add("matmul backward", t0);
      t0 = prof?.start() ?? 0;
      this.#dqkv.fill(0);
      ops.attentionBackward(
        this.#dqkv,
        this.#scratch,
        this.#dattY,
        a.qkv,
        a.att,
        B,
        T,
        C,
        H,
      );
      prof?.add("attention backward", t0);
      t0 = prof?.start() ?? 0;
      dln.fill(0);
      ops.matmulBackward(dln, g.qkv, this.#dqkv, a.attnLn, p.qkv, BT, C, 3 * C);
      prof?.add("matmul backward", t0);
      t0 = prof?.start() ?? 0;
      du.fill(0);
      ops.rmsnormBackward(
        du,
        g.attnNorm,
        dln,
        this.#u[s],
        p.attnNorm,
        a.attnRstd,
        BT,
        C,
      );
      prof?.add("rmsnorm backward", t0);
      conn.preBackward(s, this.#xs[s], du, dIn, BT);
      [dOut, dIn] = [dIn, dOut];
    }
    t0 = prof?.start() ?? 0;
    const demb = expandStreamsBackward(prefix(dOut, BT * n * C), {
      n,
      C,
      T: BT,
      out: prefix(this.#demb, BT * C),
    });
    prof?.add("stream expand/reduce", t0);
    t0 = prof?.start() ?? 0;
    ops.embeddingBackward(
      this.grad("wte.weight"),
      this.grad("wpe.weight"),
      demb,
      this.#inputs,
      B,
      T,
      C,
    );
    prof?.add("embedding backward", t0);
  }

  /**
   * @returns Next-byte probabilities `[B·T, 256]` of the last forward.
   */
  probabilities(): A {
    return this.#probs.subarray(0, this.#B * this.#T * VOCAB) as A;
  }

  /**
   * @param index State index: 0 is the expanded embedding, `s + 1` the
   * output of site `s`, `2·layers` the state the streams are summed from.
   * @returns That residual state `[B·T, n, C]` of the last forward.
   */
  streamState(index: number): A {
    const C = this.cfg.width;
    return this.#xs[index].subarray(0, this.#B * this.#T * this.n * C) as A;
  }

  /** @returns Tokens `B·T` of the last forward. */
  lastTokens(): number {
    return this.#B * this.#T;
  }

  /**
   * Runs `fn` with the per-op profiler paused (for evaluation and sampling,
   * so that the breakdown covers training steps only).
   *
   * @param fn Work to run.
   * @returns What `fn` returns.
   */
  profilerPaused<R>(fn: () => R): R {
    const p = this.#prof;
    if (!p) return fn();
    const was = p.enabled;
    p.enabled = false;
    try {
      return fn();
    } finally {
      p.enabled = was;
    }
  }

  /**
   * @param length Number of elements.
   * @returns A new zeroed array of this model's element type.
   */
  alloc(length: number): A {
    return new this.#ctor(length);
  }
}
