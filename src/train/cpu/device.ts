// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The CPU trainer: the model's op-by-op forward and backward on the
 * library's TypeScript reference, global-norm clipping and AdamW, behind
 * the {@linkcode StepDevice} interface.
 *
 * @module
 */

import { AdamW, gradNorm } from "../adamw.ts";
import type {
  EvalNumbers,
  ModelState,
  StepDevice,
  StepHyper,
  StepNumbers,
} from "../device.ts";
import type { TrainConfig } from "../config.ts";
import { streamSpread } from "../metrics.ts";
import { Model } from "../model.ts";
import { Profiler } from "../profiler.ts";
import { Rng } from "../rng.ts";

/** How the CPU trainer describes itself. */
export const CPU_DESCRIPTION = "cpu (TypeScript reference, one thread)";

/** The CPU implementation of {@linkcode StepDevice}. */
export class CpuDevice implements StepDevice {
  /** Always `"cpu"`. */
  readonly kind = "cpu" as const;
  /** What the progress line says. */
  readonly description = CPU_DESCRIPTION;
  /** The model (float32). */
  readonly model: Model<Float32Array>;
  /** The optimiser. */
  readonly opt: AdamW<Float32Array>;
  /** Per-op wall times. */
  readonly profiler: Profiler = new Profiler();
  /** Always 0: nothing lives on a device. */
  readonly bufferBytes = 0;
  readonly #cfg: TrainConfig;

  /**
   * Builds the model and initialises it from `cfg.seed`.
   *
   * @param cfg The run's configuration.
   */
  constructor(cfg: TrainConfig) {
    this.#cfg = cfg;
    this.model = new Model(cfg, cfg.batch, Float32Array, {
      profiler: this.profiler,
    });
    this.model.init(new Rng(cfg.seed, 1));
    this.opt = new AdamW(
      this.model.layout,
      (n) => new Float32Array(n),
      this.model.params.length,
      { weightDecay: cfg.weightDecay },
    );
  }

  step(
    inputs: Uint8Array,
    targets: Uint8Array,
    hyper: StepHyper,
  ): Promise<StepNumbers> {
    const m = this.model, { batch: B, context: T } = this.#cfg;
    m.zeroGrad();
    const loss = m.forward(inputs, targets, B, T);
    m.backward();
    const p0 = this.profiler.start();
    const norm = gradNorm(m.grads);
    const scale = hyper.clip > 0 && norm > hyper.clip ? hyper.clip / norm : 1;
    // A non-finite gradient would poison the moments for good: skip it.
    const skipped = !Number.isFinite(norm);
    if (!skipped) this.opt.step(m.params, m.grads, hyper.lr, scale);
    this.profiler.add("adamw", p0);
    return Promise.resolve({ loss, gradNorm: norm, skipped });
  }

  evaluate(
    inputs: Uint8Array,
    targets: Uint8Array,
    B: number,
    diagnostics: boolean,
  ): Promise<EvalNumbers> {
    const m = this.model, { context: T, width: C, layers: L } = this.#cfg;
    return Promise.resolve(m.profilerPaused(() => {
      const loss = m.forward(inputs, targets, B, T);
      if (!diagnostics || m.connection.mode === "residual") return { loss };
      const tokens = B * T;
      return {
        loss,
        hRes: Array.from(
          { length: 2 * L },
          (_, s) => m.connection.mixing(s)!.slice(0, tokens * m.n * m.n),
        ),
        spread: Array.from(
          { length: 2 * L + 1 },
          (_, i) => streamSpread(m.streamState(i), m.n, C, tokens),
        ),
      };
    }));
  }

  readState(): Promise<ModelState> {
    return Promise.resolve({
      params: this.model.params.slice(),
      m: this.opt.m.slice(),
      v: this.opt.v.slice(),
      adamStep: this.opt.t,
    });
  }

  writeState(state: ModelState): Promise<void> {
    this.model.params.set(state.params);
    this.opt.m.set(state.m);
    this.opt.v.set(state.v);
    this.opt.t = state.adamStep;
    return Promise.resolve();
  }

  profile(): Record<string, number> {
    return this.profiler.totals();
  }

  loadProfile(totals: Record<string, number>): void {
    this.profiler.load(totals);
  }

  destroy(): void {}
}
