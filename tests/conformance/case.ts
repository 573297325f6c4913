// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: what a case is, and how to build one for an op whose
 * outputs are multilinear in its inputs. A case draws its own seeded
 * inputs, runs ONE backend op on float32 copies, and is checked against the
 * float64 reference run on the same values.
 *
 * @module
 */

import type { MhcBackend, MhcGpuLimits } from "@birkhoff/mhc";
import type { SplitExpectation } from "../_dispatches.ts";
import { rng } from "../_rand.ts";
import {
  multilinearTolerance,
  type Precision,
  type Tolerance,
} from "./tolerance.ts";

/** Named outputs of a backend op. */
export type Outputs = Record<string, ArrayLike<number>>;

/** One conformance case: run on every backend, compared with float64. */
export interface ConformanceCase {
  /** Shown in the test name, e.g. `"mhcPost n=4 C=64 T=19"`. */
  name: string;
  /** Runs the case on `backend` (float32 inputs); returns named outputs. */
  run(backend: MhcBackend): Promise<Outputs>;
  /** The float64 reference outputs, under the same names. */
  truth(): Outputs;
  /**
   * The tolerance of output `name` for a backend of `precision`.
   * @param name Output name.
   * @param precision The backend's stream precision.
   */
  tolerance(name: string, precision: Precision): Tolerance;
  /**
   * What the case must exercise on the `webgpu-split` backend: launches that
   * must be cut into chunks (and, where asked, use 2D grids), checked on the
   * grids really dispatched. Absent for cases that fit one chunk.
   */
  split?: SplitCheck;
}

/** The split paths a case covers; see {@linkcode ConformanceCase.split}. */
export interface SplitCheck {
  /**
   * Limits for this case instead of the `webgpu-split` backend's, when those
   * cannot reach a path (each only stricter than the device's).
   */
  limits?: Partial<MhcGpuLimits>;
  /** The launches, by label, and whether each must use a 2D grid. */
  launches: readonly SplitExpectation[];
}

/** Inputs of a case: named float32 arrays. */
export type Inputs = Record<string, Float32Array>;

/** How to draw one input: `[length, kind]`. */
export type InputSpec = readonly [
  length: number,
  kind: "normal" | "unit" | "two",
];

/**
 * Draws seeded float32 inputs. `normal`: standard normal (signs both ways,
 * so upstream gradients are random, never all ones); `unit`: uniform in
 * (0, 1), like `H_pre` and the entries of `H_res`; `two`: uniform in (0, 2),
 * like `H_post`.
 *
 * @param seed PRNG seed.
 * @param specs Length and kind of each input.
 * @returns The inputs.
 */
export function drawInputs(
  seed: number,
  specs: Record<string, InputSpec>,
): Inputs {
  const r = rng(seed);
  const out: Inputs = {};
  for (const [name, [length, kind]] of Object.entries(specs)) {
    const a = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      a[i] = kind === "normal"
        ? r.normal()
        : kind === "unit"
        ? r.uniform()
        : 2 * r.uniform();
    }
    out[name] = a;
  }
  return out;
}

function map64(
  inputs: Inputs,
  f: (v: number) => number,
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(inputs)) out[k] = Float64Array.from(v, f);
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Builds a case for an op whose every output is a sum of products of its
 * inputs (pre, post and their backwards). Its tolerance comes from
 * `Σ|terms|`, computed exactly by running the float64 reference on the
 * absolute values of the inputs (see `multilinearTolerance`).
 *
 * @param def Name, seeded inputs, the backend call and the reference call.
 * @returns The case.
 */
export function multilinearCase(def: {
  name: string;
  seed: number;
  inputs: Record<string, InputSpec>;
  run(backend: MhcBackend, inputs: Inputs): Promise<Outputs>;
  reference(inputs: Record<string, Float64Array>): Outputs;
}): ConformanceCase {
  let inputs: Inputs | undefined;
  let scales: Record<string, number> | undefined;
  const get = () => inputs ??= drawInputs(def.seed, def.inputs);
  return {
    name: def.name,
    run: (backend) => def.run(backend, get()),
    truth: () => def.reference(map64(get(), (v) => v)),
    tolerance(name, precision) {
      if (!scales) {
        const abs = def.reference(map64(get(), Math.abs));
        scales = {};
        for (const [k, v] of Object.entries(abs)) scales[k] = maxAbs(v);
      }
      return multilinearTolerance(precision, scales[name]);
    },
  };
}
