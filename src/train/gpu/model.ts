// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The model of `model.ts` on WebGPU: every buffer allocated once, the
 * forward, backward, gradient norm, clipping and AdamW of a step recorded
 * into one command buffer, with nothing read back but the loss, the
 * gradient norm and (where the adapter has timestamps) the per-op GPU times.
 *
 * The residual sites go through the library's public encode API, as a user
 * would: `encodeMhcCoefficients`, `encodeMhcPre`, `encodeMhcPost` and their
 * backwards for mHC (α read from the parameter buffer, the three paths of
 * `∂x` summed in place with `accumulate`), `encodeHcCoefficients` and its
 * backward for HC. The dense ops are the trainer's own kernels
 * (`wgsl/train/`). Portable: no Deno API.
 *
 * @module
 */

import {
  encodeHcCoefficients,
  encodeHcCoefficientsBackward,
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  encodeMhcPost,
  encodeMhcPostBackward,
  encodeMhcPre,
  encodeMhcPreBackward,
  hcCoefficientsSavedBytes,
  hcCoefficientsScratchBytes,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  type MhcGpu,
} from "../../../mod.ts";
import {
  type ModelConfig,
  parameterLayout,
  siteName,
  VOCAB,
} from "../model.ts";
import { type GpuLayout, gpuLayout } from "./layout.ts";
import type { GpuTimer } from "./timer.ts";
import {
  encodeEmbeddingBackward,
  encodeEmbeddingForward,
} from "./embedding.ts";
import { encodeRmsnormBackward, encodeRmsnormForward } from "./rmsnorm.ts";
import { encodeMatmulBackward, encodeMatmulForward } from "./matmul.ts";
import {
  encodeAttentionBackward,
  encodeAttentionForward,
} from "./attention.ts";
import { encodeGeluBackward, encodeGeluForward } from "./gelu.ts";
import { encodeCrossEntropy, encodeSum } from "./cross_entropy.ts";
import {
  encodeAdd,
  encodeExpandStreams,
  encodeExpandStreamsBackward,
  encodeReduceStreams,
  encodeReduceStreamsBackward,
} from "./streams.ts";
import {
  encodeAdamW,
  encodeGradNorm,
  gradNormPartialsBytes,
  HYPER_FLOATS,
  hyperWords,
  STAT_ADAM_STEP,
  STATS_FLOATS,
} from "./optimizer.ts";
import { ADAMW_DEFAULTS } from "../adamw.ts";
import { encodeStreamSpread } from "./spread.ts";

const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08;

/** Options of {@linkcode GpuModel}. */
export interface GpuModelOptions {
  /**
   * Drop each HC/mHC site's coefficients and sub-layer input after the
   * forward and recompute them in the backward (one shared set of buffers
   * instead of one per site).
   */
  recompute?: boolean;
  /** Per-op GPU timer (markers before each op). */
  timer?: GpuTimer;
  /** AdamW's decoupled weight decay. Default 0.1. */
  weightDecay?: number;
}

interface SiteBuffers {
  hPre: GPUBuffer;
  hPost: GPUBuffer;
  hRes: GPUBuffer;
  saved: GPUBuffer;
}

interface LayerActs {
  attnLn: GPUBuffer;
  attnRstd: GPUBuffer;
  qkv: GPUBuffer;
  att: GPUBuffer;
  attY: GPUBuffer;
  mlpLn: GPUBuffer;
  mlpRstd: GPUBuffer;
  fch: GPUBuffer;
  fchGelu: GPUBuffer;
}

/** Where the diagnostics of an evaluation forward are copied. */
export interface Diagnostics {
  /** A `COPY_DST` buffer that receives every site's `H_res`, then the spreads. */
  dst: GPUBuffer;
  /** Byte offset of site `s`'s `H_res` is `s · hResBytes`. */
  hResBytes: number;
  /** Byte offset of the `2L + 1` spreads (f32). */
  spreadOffset: number;
}

/** The model's buffers on one device, and the encoders of its passes. */
export class GpuModel {
  /** The runtime. */
  readonly gpu: MhcGpu;
  /** Shape. */
  readonly cfg: ModelConfig;
  /** Largest batch. */
  readonly maxBatch: number;
  /** Streams per token (1 for residual). */
  readonly n: number;
  /** Parameter layout on the GPU. */
  readonly layout: GpuLayout;
  /** Parameters, GPU layout. */
  readonly params: GPUBuffer;
  /** Gradients, GPU layout. */
  readonly grads: GPUBuffer;
  /** AdamW first moments, GPU layout. */
  readonly m: GPUBuffer;
  /** AdamW second moments, GPU layout. */
  readonly v: GPUBuffer;
  /** Loss, gradient norm, clip scale, skipped flag (see optimizer.ts). */
  readonly stats: GPUBuffer;
  /** Per-step hyper-parameters, written before each step. */
  readonly hyper: GPUBuffer;
  /** Input token ids, u32 `[maxBatch·context]`. */
  readonly tokens: GPUBuffer;
  /** Target token ids, u32 `[maxBatch·context]`. */
  readonly targets: GPUBuffer;
  /** Bytes of every buffer this model created. */
  bufferBytes = 0;
  /** Whether the sites recompute their intermediates in the backward. */
  readonly recompute: boolean;

  readonly #timer?: GpuTimer;
  readonly #adam: {
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
  };
  readonly #buffers: GPUBuffer[] = [];
  readonly #decay: GPUBuffer;
  readonly #partials: GPUBuffer;
  readonly #emb: GPUBuffer;
  readonly #xs: GPUBuffer[];
  readonly #u: GPUBuffer[];
  readonly #y: GPUBuffer[];
  readonly #sites: SiteBuffers[];
  readonly #acts: LayerActs[];
  readonly #red: GPUBuffer;
  readonly #lnf: GPUBuffer;
  readonly #lnfRstd: GPUBuffer;
  readonly #logits: GPUBuffer;
  readonly #dlogits: GPUBuffer;
  readonly #losses: GPUBuffer;
  readonly #dxA: GPUBuffer;
  readonly #dxB: GPUBuffer;
  readonly #du: GPUBuffer;
  readonly #dy: GPUBuffer;
  readonly #dln: GPUBuffer;
  readonly #dqkv: GPUBuffer;
  readonly #datt: GPUBuffer;
  readonly #dattY: GPUBuffer;
  readonly #dfch: GPUBuffer;
  readonly #dfchGelu: GPUBuffer;
  readonly #dlnf: GPUBuffer;
  readonly #dred: GPUBuffer;
  readonly #demb: GPUBuffer;
  readonly #gHPre?: GPUBuffer;
  readonly #gHPost?: GPUBuffer;
  readonly #gHRes?: GPUBuffer;
  readonly #coefScratch?: GPUBuffer;
  readonly #spreadTokens?: GPUBuffer;
  readonly #spreads?: GPUBuffer;

  /**
   * Allocates every buffer of the model (parameters zero: call
   * {@linkcode writeParams}).
   *
   * @param gpu The runtime.
   * @param cfg Shape.
   * @param maxBatch Largest batch.
   * @param options Recompute and timer.
   */
  constructor(
    gpu: MhcGpu,
    cfg: ModelConfig,
    maxBatch: number,
    options: GpuModelOptions = {},
  ) {
    this.gpu = gpu;
    this.cfg = cfg;
    this.maxBatch = maxBatch;
    this.#timer = options.timer;
    const n = this.n = cfg.mode === "residual" ? 1 : cfg.streams;
    const { layers: L, width: C, heads: H, context: T } = cfg;
    const stream = cfg.mode !== "residual";
    this.recompute = stream && (options.recompute ?? false);
    this.layout = gpuLayout(parameterLayout(cfg));
    const BT = maxBatch * T, f = (floats: number) => floats * 4;
    const P = this.layout.floats;
    this.params = this.#make("params", f(P));
    this.grads = this.#make("grads", f(P));
    this.m = this.#make("adam m", f(P));
    this.v = this.#make("adam v", f(P));
    this.#decay = this.#make("decay mask", this.layout.decayMask.byteLength);
    gpu.device.queue.writeBuffer(this.#decay, 0, this.layout.decayMask);
    this.#partials = this.#make("grad norm partials", gradNormPartialsBytes(P));
    this.stats = this.#make("stats", f(STATS_FLOATS));
    this.#adam = { ...ADAMW_DEFAULTS, weightDecay: options.weightDecay ?? 0.1 };
    const hyperAll = hyperWords({ ...this.#adam, lr: 0, clip: 0 });
    this.hyper = this.#make("hyper", hyperAll.byteLength);
    gpu.device.queue.writeBuffer(this.hyper, 0, hyperAll);
    this.tokens = this.#make("tokens", f(BT));
    this.targets = this.#make("targets", f(BT));
    this.#emb = n === 1 ? this.#none() : this.#make("emb", f(BT * C));
    this.#xs = Array.from(
      { length: 2 * L + 1 },
      (_, i) => this.#make(`x${i}`, f(BT * n * C)),
    );
    const sets = this.recompute ? 1 : 2 * L;
    const uSets = Array.from(
      { length: stream ? sets : 0 },
      (_, i) => this.#make(`u${i}`, f(BT * C)),
    );
    // Residual: the sub-layer reads the state itself.
    this.#u = Array.from(
      { length: 2 * L },
      (_, s) => stream ? uSets[this.recompute ? 0 : s] : this.#xs[s],
    );
    this.#y = Array.from(
      { length: 2 * L },
      (_, s) => this.#make(`y${s}`, f(BT * C)),
    );
    const savedBytes = cfg.mode === "mhc"
      ? mhcCoefficientsSavedBytes({ n, T: BT })
      : cfg.mode === "hc"
      ? hcCoefficientsSavedBytes({ n, T: BT })
      : 0;
    const siteSets = Array.from({ length: stream ? sets : 0 }, (_, i) => ({
      hPre: this.#make(`hPre${i}`, f(BT * n)),
      hPost: this.#make(`hPost${i}`, f(BT * n)),
      hRes: this.#make(`hRes${i}`, f(BT * n * n)),
      saved: this.#make(`saved${i}`, savedBytes),
    }));
    this.#sites = Array.from(
      { length: stream ? 2 * L : 0 },
      (_, s) => siteSets[this.recompute ? 0 : s],
    );
    this.#acts = Array.from({ length: L }, (_, l) => ({
      attnLn: this.#make(`attnLn${l}`, f(BT * C)),
      attnRstd: this.#make(`attnRstd${l}`, f(BT)),
      qkv: this.#make(`qkv${l}`, f(BT * 3 * C)),
      att: this.#make(`att${l}`, f(maxBatch * H * T * T)),
      attY: this.#make(`attY${l}`, f(BT * C)),
      mlpLn: this.#make(`mlpLn${l}`, f(BT * C)),
      mlpRstd: this.#make(`mlpRstd${l}`, f(BT)),
      fch: this.#make(`fch${l}`, f(BT * 4 * C)),
      fchGelu: this.#make(`fchGelu${l}`, f(BT * 4 * C)),
    }));
    this.#red = n === 1 ? this.#xs[2 * L] : this.#make("red", f(BT * C));
    this.#lnf = this.#make("lnf", f(BT * C));
    this.#lnfRstd = this.#make("lnfRstd", f(BT));
    this.#logits = this.#make("logits", f(BT * VOCAB));
    this.#dlogits = this.#make("dlogits", f(BT * VOCAB));
    this.#losses = this.#make("losses", f(BT));
    this.#dxA = this.#make("dxA", f(BT * n * C));
    this.#dxB = this.#make("dxB", f(BT * n * C));
    this.#du = this.#make("du", f(BT * C));
    this.#dy = stream ? this.#make("dy", f(BT * C)) : this.#none();
    this.#dln = this.#make("dln", f(BT * C));
    this.#dqkv = this.#make("dqkv", f(BT * 3 * C));
    this.#datt = this.#make("datt", f(maxBatch * H * T * T));
    this.#dattY = this.#make("dattY", f(BT * C));
    this.#dfch = this.#make("dfch", f(BT * 4 * C));
    this.#dfchGelu = this.#make("dfchGelu", f(BT * 4 * C));
    this.#dlnf = this.#make("dlnf", f(BT * C));
    this.#dred = n === 1 ? this.#none() : this.#make("dred", f(BT * C));
    this.#demb = n === 1 ? this.#none() : this.#make("demb", f(BT * C));
    if (stream) {
      this.#gHPre = this.#make("gHPre", f(BT * n));
      this.#gHPost = this.#make("gHPost", f(BT * n));
      this.#gHRes = this.#make("gHRes", f(BT * n * n));
      this.#coefScratch = this.#make(
        "coefficient scratch",
        cfg.mode === "mhc"
          ? mhcCoefficientsScratchBytes({ n, T: BT })
          : hcCoefficientsScratchBytes({ n, T: BT }),
      );
      this.#spreadTokens = this.#make("spread per token", f(BT));
      this.#spreads = this.#make("spreads", f(2 * L + 1));
    }
  }

  #make(label: string, bytes: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.gpu.device.createBuffer({
      label,
      size,
      usage: STORAGE | COPY_SRC | COPY_DST,
    });
    this.#buffers.push(b);
    this.bufferBytes += size;
    return b;
  }

  /** A placeholder for a buffer a mode does not use (never bound). */
  #none(): GPUBuffer {
    return undefined as unknown as GPUBuffer;
  }

  /**
   * @param name A tensor name.
   * @returns Its binding in the parameter buffer.
   */
  param(name: string): { buffer: GPUBuffer; offset: number; size: number } {
    return this.#view(this.params, name);
  }

  /**
   * @param name A tensor name.
   * @returns Its binding in the gradient buffer.
   */
  grad(name: string): { buffer: GPUBuffer; offset: number; size: number } {
    return this.#view(this.grads, name);
  }

  #view(buffer: GPUBuffer, name: string) {
    const t = this.layout.byName.get(name);
    if (!t) throw new RangeError(`no tensor named ${name}`);
    return { buffer, offset: t.gpuOffset * 4, size: t.size * 4 };
  }

  /** True while a training step is recorded: markers go to the timer. */
  timing = false;

  #mark(encoder: GPUCommandEncoder, name: string): void {
    if (this.timing) this.#timer?.mark(encoder, name);
  }

  /**
   * Records the forward on `B` windows whose tokens and targets are in
   * {@linkcode tokens} and {@linkcode targets}: the per-token losses, the
   * mean loss into `stats[0]` (or `lossOut`), and the logits' gradient.
   *
   * @param encoder The encoder.
   * @param B Windows (at most `maxBatch`).
   * @param diagnostics Where to copy `H_res` and the spreads, if wanted.
   * @param lossOut Where the mean loss goes: `[buffer, float index]`.
   */
  async encodeForward(
    encoder: GPUCommandEncoder,
    B: number,
    diagnostics?: Diagnostics,
    lossOut: [GPUBuffer, number] = [this.stats, 0],
  ): Promise<void> {
    const gpu = this.gpu, cfg = this.cfg, n = this.n;
    const { layers: L, width: C, heads: H, context: T } = cfg;
    const BT = B * T;
    this.#mark(encoder, "embedding");
    await encodeEmbeddingForward(gpu, encoder, {
      out: n === 1 ? this.#xs[0] : this.#emb,
      tokens: this.tokens,
      wte: this.param("wte.weight"),
      wpe: this.param("wpe.weight"),
    }, { B, T, C });
    if (n > 1) {
      this.#mark(encoder, "stream expand/reduce");
      await encodeExpandStreams(gpu, encoder, {
        out: this.#xs[0],
        x: this.#emb,
      }, { n, C, T: BT });
    }
    for (let l = 0; l < L; l++) {
      const a = this.#acts[l], p = `blocks.${l}`;
      let s = 2 * l;
      await this.#sitePre(encoder, s, BT);
      this.#mark(encoder, "rmsnorm");
      await encodeRmsnormForward(gpu, encoder, {
        out: a.attnLn,
        rstd: a.attnRstd,
        x: this.#u[s],
        w: this.param(`${p}.attn_norm.weight`),
      }, { N: BT, C });
      this.#mark(encoder, "matmul");
      await encodeMatmulForward(gpu, encoder, {
        out: a.qkv,
        inp: a.attnLn,
        w: this.param(`${p}.attn.qkv.weight`),
      }, { N: BT, C, OC: 3 * C });
      this.#mark(encoder, "attention");
      await encodeAttentionForward(gpu, encoder, {
        out: a.attY,
        att: a.att,
        qkv: a.qkv,
      }, { B, T, C, H });
      this.#mark(encoder, "matmul");
      await encodeMatmulForward(gpu, encoder, {
        out: this.#y[s],
        inp: a.attY,
        w: this.param(`${p}.attn.proj.weight`),
      }, { N: BT, C, OC: C });
      await this.#sitePost(encoder, s, BT, diagnostics);
      s = 2 * l + 1;
      await this.#sitePre(encoder, s, BT);
      this.#mark(encoder, "rmsnorm");
      await encodeRmsnormForward(gpu, encoder, {
        out: a.mlpLn,
        rstd: a.mlpRstd,
        x: this.#u[s],
        w: this.param(`${p}.mlp_norm.weight`),
      }, { N: BT, C });
      this.#mark(encoder, "matmul");
      await encodeMatmulForward(gpu, encoder, {
        out: a.fch,
        inp: a.mlpLn,
        w: this.param(`${p}.mlp.fc.weight`),
      }, { N: BT, C, OC: 4 * C });
      this.#mark(encoder, "gelu");
      await encodeGeluForward(gpu, encoder, {
        out: a.fchGelu,
        x: a.fch,
      }, { N: BT * 4 * C });
      this.#mark(encoder, "matmul");
      await encodeMatmulForward(gpu, encoder, {
        out: this.#y[s],
        inp: a.fchGelu,
        w: this.param(`${p}.mlp.proj.weight`),
      }, { N: BT, C: 4 * C, OC: C });
      await this.#sitePost(encoder, s, BT, diagnostics);
    }
    if (n > 1) {
      this.#mark(encoder, "stream expand/reduce");
      await encodeReduceStreams(gpu, encoder, {
        out: this.#red,
        x: this.#xs[2 * L],
      }, { n, C, T: BT });
    }
    this.#mark(encoder, "rmsnorm");
    await encodeRmsnormForward(gpu, encoder, {
      out: this.#lnf,
      rstd: this.#lnfRstd,
      x: this.#red,
      w: this.param("norm_f.weight"),
    }, { N: BT, C });
    this.#mark(encoder, "matmul");
    await encodeMatmulForward(gpu, encoder, {
      out: this.#logits,
      inp: this.#lnf,
      w: this.param("lm_head.weight"),
    }, { N: BT, C, OC: VOCAB });
    this.#mark(encoder, "cross-entropy");
    await encodeCrossEntropy(gpu, encoder, {
      dlogits: this.#dlogits,
      losses: this.#losses,
      logits: this.#logits,
      targets: this.targets,
    }, { N: BT, V: VOCAB });
    await encodeSum(gpu, encoder, {
      out: lossOut[0],
      values: this.#losses,
    }, { N: BT, scale: 1 / BT, index: lossOut[1] });
    if (diagnostics && n > 1) {
      this.#mark(encoder, "diagnostics");
      for (let i = 0; i <= 2 * L; i++) {
        await encodeStreamSpread(gpu, encoder, {
          perToken: this.#spreadTokens!,
          x: this.#xs[i],
        }, { n, C, T: BT });
        await encodeSum(gpu, encoder, {
          out: this.#spreads!,
          values: this.#spreadTokens!,
        }, { N: BT, scale: 1 / BT, index: i });
      }
      encoder.copyBufferToBuffer(
        this.#spreads!,
        0,
        diagnostics.dst,
        diagnostics.spreadOffset,
        (2 * L + 1) * 4,
      );
    }
  }

  /**
   * Records the backward of the last {@linkcode encodeForward} (full batch):
   * every gradient of {@linkcode grads} is overwritten.
   *
   * @param encoder The encoder.
   */
  async encodeBackward(encoder: GPUCommandEncoder): Promise<void> {
    const gpu = this.gpu, cfg = this.cfg, n = this.n, B = this.maxBatch;
    const { layers: L, width: C, heads: H, context: T } = cfg;
    const BT = B * T;
    this.#mark(encoder, "matmul backward");
    await encodeMatmulBackward(gpu, encoder, {
      dinp: this.#dlnf,
      dw: this.grad("lm_head.weight"),
      dout: this.#dlogits,
      inp: this.#lnf,
      w: this.param("lm_head.weight"),
    }, { N: BT, C, OC: VOCAB });
    this.#mark(encoder, "rmsnorm backward");
    await encodeRmsnormBackward(gpu, encoder, {
      dx: n === 1 ? this.#dxA : this.#dred,
      dw: this.grad("norm_f.weight"),
      dout: this.#dlnf,
      x: this.#red,
      w: this.param("norm_f.weight"),
      rstd: this.#lnfRstd,
    }, { N: BT, C });
    if (n > 1) {
      this.#mark(encoder, "stream expand/reduce");
      await encodeReduceStreamsBackward(gpu, encoder, {
        dx: this.#dxA,
        dout: this.#dred,
      }, { n, C, T: BT });
    }
    let dOut = this.#dxA, dIn = this.#dxB;
    for (let l = L - 1; l >= 0; l--) {
      const a = this.#acts[l], p = `blocks.${l}`;
      // MLP site.
      let s = 2 * l + 1;
      if (this.recompute) await this.#sitePre(encoder, s, BT);
      const dyM = await this.#sitePostBackward(encoder, s, BT, dOut, dIn);
      this.#mark(encoder, "matmul backward");
      await encodeMatmulBackward(gpu, encoder, {
        dinp: this.#dfchGelu,
        dw: this.grad(`${p}.mlp.proj.weight`),
        dout: dyM,
        inp: a.fchGelu,
        w: this.param(`${p}.mlp.proj.weight`),
      }, { N: BT, C: 4 * C, OC: C });
      this.#mark(encoder, "gelu backward");
      await encodeGeluBackward(gpu, encoder, {
        dx: this.#dfch,
        x: a.fch,
        dout: this.#dfchGelu,
      }, { N: BT * 4 * C });
      this.#mark(encoder, "matmul backward");
      await encodeMatmulBackward(gpu, encoder, {
        dinp: this.#dln,
        dw: this.grad(`${p}.mlp.fc.weight`),
        dout: this.#dfch,
        inp: a.mlpLn,
        w: this.param(`${p}.mlp.fc.weight`),
      }, { N: BT, C, OC: 4 * C });
      this.#mark(encoder, "rmsnorm backward");
      await encodeRmsnormBackward(gpu, encoder, {
        dx: this.#du,
        dw: this.grad(`${p}.mlp_norm.weight`),
        dout: this.#dln,
        x: this.#u[s],
        w: this.param(`${p}.mlp_norm.weight`),
        rstd: a.mlpRstd,
      }, { N: BT, C });
      await this.#sitePreBackward(encoder, s, BT, dOut, dIn);
      [dOut, dIn] = [dIn, dOut];
      // Attention site.
      s = 2 * l;
      if (this.recompute) await this.#sitePre(encoder, s, BT);
      const dyA = await this.#sitePostBackward(encoder, s, BT, dOut, dIn);
      this.#mark(encoder, "matmul backward");
      await encodeMatmulBackward(gpu, encoder, {
        dinp: this.#dattY,
        dw: this.grad(`${p}.attn.proj.weight`),
        dout: dyA,
        inp: a.attY,
        w: this.param(`${p}.attn.proj.weight`),
      }, { N: BT, C, OC: C });
      this.#mark(encoder, "attention backward");
      await encodeAttentionBackward(gpu, encoder, {
        dqkv: this.#dqkv,
        datt: this.#datt,
        dout: this.#dattY,
        qkv: a.qkv,
        att: a.att,
      }, { B, T, C, H });
      this.#mark(encoder, "matmul backward");
      await encodeMatmulBackward(gpu, encoder, {
        dinp: this.#dln,
        dw: this.grad(`${p}.attn.qkv.weight`),
        dout: this.#dqkv,
        inp: a.attnLn,
        w: this.param(`${p}.attn.qkv.weight`),
      }, { N: BT, C, OC: 3 * C });
      this.#mark(encoder, "rmsnorm backward");
      await encodeRmsnormBackward(gpu, encoder, {
        dx: this.#du,
        dw: this.grad(`${p}.attn_norm.weight`),
        dout: this.#dln,
        x: this.#u[s],
        w: this.param(`${p}.attn_norm.weight`),
        rstd: a.attnRstd,
      }, { N: BT, C });
      await this.#sitePreBackward(encoder, s, BT, dOut, dIn);
      [dOut, dIn] = [dIn, dOut];
    }
    let demb = dOut;
    if (n > 1) {
      this.#mark(encoder, "stream expand/reduce");
      await encodeExpandStreamsBackward(gpu, encoder, {
        dx: this.#demb,
        dout: dOut,
      }, { n, C, T: BT });
      demb = this.#demb;
    }
    this.#mark(encoder, "embedding backward");
    await encodeEmbeddingBackward(gpu, encoder, {
      dwte: this.grad("wte.weight"),
      dwpe: this.grad("wpe.weight"),
      dout: demb,
      tokens: this.tokens,
    }, { B, T, C, V: VOCAB, maxT: T });
  }

  /**
   * Records the gradient norm, clipping and the AdamW update (skipped on
   * the GPU when the norm is not finite).
   *
   * @param encoder The encoder.
   */
  async encodeUpdate(encoder: GPUCommandEncoder): Promise<void> {
    const N = this.layout.floats;
    this.#mark(encoder, "grad norm");
    await encodeGradNorm(this.gpu, encoder, {
      stats: this.stats,
      grads: this.grads,
      partials: this.#partials,
      hyper: this.hyper,
    }, { N });
    this.#mark(encoder, "adamw");
    await encodeAdamW(this.gpu, encoder, {
      params: this.params,
      grads: this.grads,
      m: this.m,
      v: this.v,
      decay: this.#decay,
      stats: this.stats,
      hyper: this.hyper,
    }, { N, beta1: this.#adam.beta1, beta2: this.#adam.beta2 });
  }

  // ---- the residual sites --------------------------------------------

  #alpha(s: number): { buffer: GPUBuffer; offset: number } {
    const { buffer, offset } = this.param(`${siteName(s)}.alpha`);
    return { buffer, offset };
  }

  async #sitePre(
    encoder: GPUCommandEncoder,
    s: number,
    BT: number,
  ): Promise<void> {
    const mode = this.cfg.mode;
    if (mode === "residual") return;
    const gpu = this.gpu, n = this.n, C = this.cfg.width, c = this.#sites[s];
    const p = siteName(s);
    this.#mark(encoder, `${mode} coefficients`);
    if (mode === "mhc") {
      await encodeMhcCoefficients(
        gpu,
        encoder,
        {
          x: this.#xs[s],
          phi: this.param(`${p}.phi`),
          bias: this.param(`${p}.bias`),
          hPre: c.hPre,
          hPost: c.hPost,
          hRes: c.hRes,
          saved: c.saved,
        },
        this.#alpha(s),
        { n, C, T: BT, iterations: this.cfg.sinkhornIters },
      );
    } else {
      await encodeHcCoefficients(
        gpu,
        encoder,
        {
          x: this.#xs[s],
          theta: this.param(`${p}.theta`),
          bias: this.param(`${p}.bias`),
          hPre: c.hPre,
          hPost: c.hPost,
          hRes: c.hRes,
          saved: c.saved,
        },
        this.#alpha(s),
        { n, C, T: BT },
      );
    }
    this.#mark(encoder, "stream pre");
    await encodeMhcPre(gpu, encoder, {
      x: this.#xs[s],
      hPre: c.hPre,
      out: this.#u[s],
    }, { n, C, T: BT });
  }

  async #sitePost(
    encoder: GPUCommandEncoder,
    s: number,
    BT: number,
    diagnostics?: Diagnostics,
  ): Promise<void> {
    const gpu = this.gpu, n = this.n, C = this.cfg.width;
    if (this.cfg.mode === "residual") {
      this.#mark(encoder, "residual add");
      await encodeAdd(gpu, encoder, {
        out: this.#xs[s + 1],
        a: this.#xs[s],
        b: this.#y[s],
      }, { N: BT * C });
      return;
    }
    const c = this.#sites[s];
    this.#mark(encoder, "stream post");
    await encodeMhcPost(gpu, encoder, {
      x: this.#xs[s],
      y: this.#y[s],
      hPost: c.hPost,
      hRes: c.hRes,
      out: this.#xs[s + 1],
    }, { n, C, T: BT });
    if (diagnostics) {
      encoder.copyBufferToBuffer(
        c.hRes,
        0,
        diagnostics.dst,
        s * diagnostics.hResBytes,
        BT * n * n * 4,
      );
    }
  }

  /** Returns the buffer that holds `∂y` of the site. */
  async #sitePostBackward(
    encoder: GPUCommandEncoder,
    s: number,
    BT: number,
    dOut: GPUBuffer,
    dIn: GPUBuffer,
  ): Promise<GPUBuffer> {
    // Residual: ∂y = ∂x' and ∂x = ∂x' + ∂u (added in #sitePreBackward).
    if (this.cfg.mode === "residual") return dOut;
    const gpu = this.gpu, n = this.n, C = this.cfg.width, c = this.#sites[s];
    this.#mark(encoder, "stream post backward");
    await encodeMhcPostBackward(gpu, encoder, {
      x: this.#xs[s],
      y: this.#y[s],
      hPost: c.hPost,
      hRes: c.hRes,
      gradOut: dOut,
      gradX: dIn,
      gradY: this.#dy,
      gradHPost: this.#gHPost!,
      gradHRes: this.#gHRes!,
    }, { n, C, T: BT });
    return this.#dy;
  }

  async #sitePreBackward(
    encoder: GPUCommandEncoder,
    s: number,
    BT: number,
    dOut: GPUBuffer,
    dIn: GPUBuffer,
  ): Promise<void> {
    const gpu = this.gpu, n = this.n, C = this.cfg.width, mode = this.cfg.mode;
    if (mode === "residual") {
      this.#mark(encoder, "residual add");
      await encodeAdd(gpu, encoder, {
        out: dIn,
        a: dOut,
        b: this.#du,
      }, { N: BT * C });
      return;
    }
    const c = this.#sites[s], p = siteName(s);
    this.#mark(encoder, "stream pre backward");
    await encodeMhcPreBackward(gpu, encoder, {
      x: this.#xs[s],
      hPre: c.hPre,
      gradU: this.#du,
      gradX: dIn,
      gradHPre: this.#gHPre!,
    }, { n, C, T: BT, accumulate: true });
    this.#mark(encoder, `${mode} coefficients backward`);
    const common = {
      x: this.#xs[s],
      saved: c.saved,
      gradHPre: this.#gHPre!,
      gradHPost: this.#gHPost!,
      gradHRes: this.#gHRes!,
      gradX: dIn,
      gradBias: this.grad(`${p}.bias`),
      gradAlpha: this.grad(`${p}.alpha`),
      scratch: this.#coefScratch!,
    };
    if (mode === "mhc") {
      await encodeMhcCoefficientsBackward(
        gpu,
        encoder,
        {
          ...common,
          phi: this.param(`${p}.phi`),
          gradPhi: this.grad(`${p}.phi`),
        },
        this.#alpha(s),
        {
          n,
          C,
          T: BT,
          iterations: this.cfg.sinkhornIters,
          accumulate: true,
        },
      );
    } else {
      await encodeHcCoefficientsBackward(
        gpu,
        encoder,
        {
          ...common,
          theta: this.param(`${p}.theta`),
          gradTheta: this.grad(`${p}.theta`),
        },
        this.#alpha(s),
        { n, C, T: BT, accumulate: true },
      );
    }
  }

  /**
   * Uploads parameters and moments (GPU layout) and AdamW's step count.
   *
   * @param params Parameters, GPU layout.
   * @param m First moments, GPU layout.
   * @param v Second moments, GPU layout.
   * @param adamStep AdamW updates applied so far.
   */
  writeParams(
    params: Float32Array,
    m: Float32Array,
    v: Float32Array,
    adamStep = 0,
  ): void {
    const q = this.gpu.device.queue;
    q.writeBuffer(this.params, 0, params);
    q.writeBuffer(this.m, 0, m);
    q.writeBuffer(this.v, 0, v);
    const stats = new Float32Array(STATS_FLOATS);
    stats[STAT_ADAM_STEP] = adamStep;
    q.writeBuffer(this.stats, 0, stats);
  }

  /**
   * The per-step header of the `hyper` buffer (the rest, AdamW's
   * bias-correction tables, is written once at creation).
   *
   * @param h This step's learning rate and clip.
   * @returns The header's floats.
   */
  hyperHeader(h: { lr: number; clip: number }): Float32Array {
    return hyperWords({ ...this.#adam, lr: h.lr, clip: h.clip })
      .subarray(0, HYPER_FLOATS);
  }

  /** Frees every buffer. */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
  }
}
