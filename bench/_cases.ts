// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Every benchmarked kernel, forward and backward, each on its backends: the
 * TypeScript reference, the WGSL kernel with f32 and (when the device has
 * `shader-f16`) f16 streams, and for the post mixing the unfused WGSL path
 * of `unfused_post.ts`. Used by the `*_bench.ts` suites and by
 * `report.ts`, so both run exactly the same work.
 *
 * FLOP per call (for the compute roofline of the report) count a
 * multiply-add as 2 and an `exp`, `log` or division as 1, as
 * src/train/flops.ts does; the unfused post counts the fused op's
 * arithmetic (the same work, done in three passes).
 *
 * Bytes moved per call follow SPEC §9: each input read once and each output
 * written once (streams in their storage precision, coefficients f32); `φ`
 * (and `g_φ`) count once per call. Backward kernels, which §9 does not list,
 * are counted the same way from their inputs and outputs.
 *
 * @module
 */

import {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  encodeMhcPost,
  encodeMhcPostBackward,
  encodeMhcPre,
  encodeMhcPreBackward,
  encodeSinkhornKnopp,
  encodeSinkhornKnoppBackward,
  mhcCoefficients,
  mhcCoefficientsBackward,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  type MhcParams,
  mhcPost,
  mhcPostBackward,
  mhcPre,
  mhcPreBackward,
  sinkhornKnopp,
  sinkhornKnoppBackward,
  type StreamPrecision,
} from "../mod.ts";
import { type BenchEnv, ITERATIONS, N } from "./_env.ts";
import {
  BufferSet,
  elementBytes,
  randomArray,
  readF64,
  readValues,
  relError,
} from "./_data.ts";
import { type Recorder, runBatch } from "./_timing.ts";
import { encodeUnfusedPost } from "./unfused_post.ts";

/** How a case runs. */
export type Backend =
  | "reference"
  | "wgsl"
  | "wgsl f16"
  | "wgsl unfused"
  | "wgsl unfused f16";

/** The kernel families, one bench file each. */
export type Family = "pre" | "post" | "sinkhorn" | "coefficients";

/** A prepared case: buffers allocated and filled, ready to time. */
export interface Instance {
  /** Tokens per call. */
  T: number;
  /** Records one call (GPU backends). */
  record?: Recorder;
  /** Runs one call (reference). */
  run?: () => unknown;
  /**
   * Compares the outputs of the first tokens with the reference in float64
   * and returns the largest error relative to the largest reference value
   * (GPU backends; call after at least one call ran).
   */
  check?: () => Promise<number>;
  /** Frees the buffers. */
  dispose(): void;
}

/** One row of the benchmark: an op on one backend at one width. */
export interface BenchCase {
  /** Kernel family (bench file). */
  family: Family;
  /** Op, e.g. `"post"` or `"post backward"`. */
  op: string;
  /** Backend. */
  backend: Backend;
  /** Streams. */
  n: number;
  /** Channels, or 0 for Sinkhorn. */
  C: number;
  /** Bytes moved by one call on `T` tokens. */
  bytes(T: number): number;
  /** Floating-point operations of one call on `T` tokens. */
  flops(T: number): number;
  /** Allocates and fills inputs for `T` tokens. */
  setup(env: BenchEnv, T: number): Promise<Instance>;
}

const K = N * N + 2 * N;
/** FLOP of one Sinkhorn forward (log domain) per matrix, as src/train/flops.ts. */
const SINKHORN_FLOPS = 2 * ITERATIONS * (3 * N * N + 2 * N);
const ALPHAS = { alphaPre: 0.01, alphaPost: 0.01, alphaRes: 0.01 };
/** Tokens compared with the reference after a GPU run. */
const CHECK_TOKENS = 8;

const X: [number, number] = [-1, 1];
const H_PRE: [number, number] = [0, 1];
const H_POST: [number, number] = [0, 2];
const H_RES: [number, number] = [0, 0.5];
const GRAD: [number, number] = [-1, 1];
const LOGITS: [number, number] = [-4, 4];
const PHI: [number, number] = [-0.05, 0.05];

function precisionOf(backend: Backend): StreamPrecision {
  return backend.endsWith("f16") ? "f16" : "f32";
}

/** The backends of the stream ops on this device. */
function streamBackends(env: BenchEnv, unfused: boolean): Backend[] {
  const out: Backend[] = ["reference", "wgsl"];
  if (env.gpu.f16) out.push("wgsl f16");
  if (unfused) {
    out.push("wgsl unfused");
    if (env.gpu.f16) out.push("wgsl unfused f16");
  }
  return out;
}

function instance(
  T: number,
  set: BufferSet | undefined,
  parts: Omit<Instance, "T" | "dispose">,
): Instance {
  return { T, ...parts, dispose: () => set?.destroy() };
}

// ---------------------------------------------------------------- pre

function preCase(C: number, backend: Backend, backward: boolean): BenchCase {
  const p = precisionOf(backend), es = elementBytes(p), n = N;
  return {
    family: "pre",
    op: backward ? "pre backward" : "pre",
    backend,
    n,
    C,
    bytes: (T) =>
      T *
      (backward ? (2 * n * C + C) * es + 2 * n * 4 : (n * C + C) * es + n * 4),
    // u = Σ_j h_j·x_j; backward: g_x = h_j·g_u (multiplies), g_h = Σ x·g_u.
    flops: (T) => T * (backward ? 3 : 2) * n * C,
    async setup(env, T) {
      const shape = { n, C, T };
      if (backend === "reference") {
        const x = randomArray(T * n * C, X, 1);
        const hPre = randomArray(T * n, H_PRE, 2);
        const gradU = randomArray(T * C, GRAD, 3);
        return instance(T, undefined, {
          run: backward
            ? () => mhcPreBackward(x, hPre, gradU, shape)
            : () => mhcPre(x, hPre, shape),
        });
      }
      const { gpu } = env;
      const s = new BufferSet(env);
      const opts = { ...shape, precision: p };
      const x = await s.random("x", T * n * C, X, 1, p);
      const hPre = await s.random("hPre", T * n, H_PRE, 2);
      const k = Math.min(T, CHECK_TOKENS), ks = { n, C, T: k };
      if (!backward) {
        const out = s.empty("u", T * C * es);
        return instance(T, s, {
          record: (enc) => encodeMhcPre(gpu, enc, { x, hPre, out }, opts),
          check: async () =>
            relError([[
              await readValues(env, out, k * C, p),
              mhcPre(
                await readF64(env, x, k * n * C, p),
                await readF64(env, hPre, k * n),
                ks,
              ),
            ]]),
        });
      }
      const gradU = await s.random("gradU", T * C, GRAD, 3, p);
      const gradX = s.empty("gradX", T * n * C * es);
      const gradHPre = s.empty("gradHPre", T * n * 4);
      return instance(T, s, {
        record: (enc) =>
          encodeMhcPreBackward(gpu, enc, {
            x,
            hPre,
            gradU,
            gradX,
            gradHPre,
          }, opts),
        check: async () => {
          const ref = mhcPreBackward(
            await readF64(env, x, k * n * C, p),
            await readF64(env, hPre, k * n),
            await readF64(env, gradU, k * C, p),
            ks,
          );
          return relError([
            [await readValues(env, gradX, k * n * C, p), ref.x],
            [await readValues(env, gradHPre, k * n), ref.hPre],
          ]);
        },
      });
    },
  };
}

// ---------------------------------------------------------------- post

function postCase(C: number, backend: Backend, backward: boolean): BenchCase {
  const p = precisionOf(backend), es = elementBytes(p), n = N;
  const unfused = backend.startsWith("wgsl unfused");
  const coef = (n * n + n) * 4;
  return {
    family: "post",
    op: backward ? "post backward" : "post",
    backend,
    n,
    C,
    bytes: (T) =>
      T *
      (backward
        ? (2 * n + 1) * C * es + (n + 1) * C * es + 2 * coef
        : unfused
        ? ((3 * n + 1) * C + 3 * n * C) * es + coef
        : ((n + 1) * C + n * C) * es + coef),
    // x' = H_res·x + H_post·y; backward: g_x, g_y, g_H_post and g_H_res.
    flops: (T) => T * (backward ? 4 : 2) * (n * n + n) * C,
    async setup(env, T) {
      const shape = { n, C, T };
      if (backend === "reference") {
        const x = randomArray(T * n * C, X, 1);
        const y = randomArray(T * C, X, 2);
        const hPost = randomArray(T * n, H_POST, 3);
        const hRes = randomArray(T * n * n, H_RES, 4);
        const g = randomArray(T * n * C, GRAD, 5);
        return instance(T, undefined, {
          run: backward
            ? () => mhcPostBackward(x, y, hPost, hRes, g, shape)
            : () => mhcPost(x, y, hPost, hRes, shape),
        });
      }
      const { gpu } = env;
      const s = new BufferSet(env);
      const opts = { ...shape, precision: p };
      const x = await s.random("x", T * n * C, X, 1, p);
      const y = await s.random("y", T * C, X, 2, p);
      const hPost = await s.random("hPost", T * n, H_POST, 3);
      const hRes = await s.random("hRes", T * n * n, H_RES, 4);
      const k = Math.min(T, CHECK_TOKENS), ks = { n, C, T: k };
      const inputs = async () =>
        [
          await readF64(env, x, k * n * C, p),
          await readF64(env, y, k * C, p),
          await readF64(env, hPost, k * n),
          await readF64(env, hRes, k * n * n),
        ] as const;
      if (!backward) {
        const out = s.empty("out", T * n * C * es);
        const b = { x, y, hPost, hRes, out };
        const record: Recorder = unfused
          ? (() => {
            const z = s.empty("z", T * n * C * es);
            const w = s.empty("w", T * n * C * es);
            return (enc) => encodeUnfusedPost(gpu, enc, { ...b, z, w }, opts);
          })()
          : (enc) => encodeMhcPost(gpu, enc, b, opts);
        return instance(T, s, {
          record,
          check: async () =>
            relError([[
              await readValues(env, out, k * n * C, p),
              mhcPost(...await inputs(), ks),
            ]]),
        });
      }
      const gradOut = await s.random("gradOut", T * n * C, GRAD, 5, p);
      const o = {
        gradX: s.empty("gradX", T * n * C * es),
        gradY: s.empty("gradY", T * C * es),
        gradHPost: s.empty("gradHPost", T * n * 4),
        gradHRes: s.empty("gradHRes", T * n * n * 4),
      };
      return instance(T, s, {
        record: (enc) =>
          encodeMhcPostBackward(gpu, enc, {
            x,
            y,
            hPost,
            hRes,
            gradOut,
            ...o,
          }, opts),
        check: async () => {
          const ref = mhcPostBackward(
            ...await inputs(),
            await readF64(env, gradOut, k * n * C, p),
            ks,
          );
          return relError([
            [await readValues(env, o.gradX, k * n * C, p), ref.x],
            [await readValues(env, o.gradY, k * C, p), ref.y],
            [await readValues(env, o.gradHPost, k * n), ref.hPost],
            [await readValues(env, o.gradHRes, k * n * n), ref.hRes],
          ]);
        },
      });
    },
  };
}

// ---------------------------------------------------------------- sinkhorn

function sinkhornCase(backend: Backend, backward: boolean): BenchCase {
  const n = N, nn = n * n;
  return {
    family: "sinkhorn",
    op: backward ? "sinkhorn backward" : "sinkhorn",
    backend,
    n,
    C: 0,
    bytes: (T) => T * (backward ? 3 : 2) * nn * 4,
    // The backward recomputes the forward and runs it in reverse: 3×.
    flops: (T) => T * (backward ? 3 : 1) * SINKHORN_FLOPS,
    async setup(env, T) {
      const opts = { n, T, iterations: ITERATIONS };
      if (backend === "reference") {
        const logits = randomArray(T * nn, LOGITS, 1);
        const g = randomArray(T * nn, GRAD, 2);
        return instance(T, undefined, {
          run: backward
            ? () => sinkhornKnoppBackward(logits, g, opts)
            : () => sinkhornKnopp(logits, opts),
        });
      }
      const { gpu } = env;
      const s = new BufferSet(env);
      const logits = await s.random("logits", T * nn, LOGITS, 1);
      const out = s.empty("out", T * nn * 4);
      const k = Math.min(T, CHECK_TOKENS), ks = { ...opts, T: k };
      const read = (b: GPUBuffer) => readF64(env, b, k * nn);
      if (!backward) {
        return instance(T, s, {
          record: (enc) =>
            encodeSinkhornKnopp(gpu, enc, { logits, output: out }, opts),
          check: async () =>
            relError([[
              await readValues(env, out, k * nn),
              sinkhornKnopp(await read(logits), ks),
            ]]),
        });
      }
      const gradOutput = await s.random("gradOutput", T * nn, GRAD, 2);
      return instance(T, s, {
        record: (enc) =>
          encodeSinkhornKnoppBackward(gpu, enc, {
            logits,
            gradOutput,
            gradLogits: out,
          }, opts),
        check: async () =>
          relError([[
            await readValues(env, out, k * nn),
            sinkhornKnoppBackward(
              await read(logits),
              await read(gradOutput),
              ks,
            ),
          ]]),
      });
    },
  };
}

// ---------------------------------------------------------------- coefficients

function coefficientsCase(
  C: number,
  backend: Backend,
  backward: boolean,
): BenchCase {
  const p = precisionOf(backend), es = elementBytes(p), n = N;
  const phiBytes = n * C * K * 4;
  return {
    family: "coefficients",
    op: backward ? "coefficients backward" : "coefficients",
    backend,
    n,
    C,
    bytes: (T) =>
      backward
        // x, saved (h, 1/r, v·φ), g_H in; g_x out; φ in and g_φ out once.
        ? T * (2 * n * C * es + (3 * K + 1) * 4) + 2 * phiBytes
        // x in, H_pre, H_post, H_res out; φ once.
        : T * (n * C * es + K * 4) + phiBytes,
    // Forward: v·φ and Σv², the epilogue and Sinkhorn. Backward: g_x = φ·g_p
    // (+ the 1/r term) and g_φ = Σ v ⊗ g_p, and the Sinkhorn backward.
    flops: (T) =>
      T *
      (backward
        ? 4 * n * C * K + 2 * n * C + 3 * SINKHORN_FLOPS
        : 2 * n * C * K + 2 * n * C + 3 * K + 8 * n + SINKHORN_FLOPS),
    async setup(env, T) {
      const shape = { n, C, T, iterations: ITERATIONS };
      if (backend === "reference") {
        const x = randomArray(T * n * C, X, 1);
        const params: MhcParams<Float32Array> = {
          phi: randomArray(n * C * K, PHI, 2),
          bias: randomArray(K, X, 3),
          ...ALPHAS,
        };
        if (!backward) {
          return instance(T, undefined, {
            run: () => mhcCoefficients(x, params, shape),
          });
        }
        const forward = mhcCoefficients(x, params, shape);
        const grads = {
          hPre: randomArray(T * n, GRAD, 4),
          hPost: randomArray(T * n, GRAD, 5),
          hRes: randomArray(T * n * n, GRAD, 6),
        };
        return instance(T, undefined, {
          run: () => mhcCoefficientsBackward(x, params, forward, grads, shape),
        });
      }
      const { gpu } = env;
      const s = new BufferSet(env);
      const opts = { ...shape, precision: p };
      const x = await s.random("x", T * n * C, X, 1, p);
      const phi = await s.random("phi", n * C * K, PHI, 2);
      const bias = await s.random("bias", K, X, 3);
      const fwd = {
        x,
        phi,
        bias,
        hPre: s.empty("hPre", T * n * 4),
        hPost: s.empty("hPost", T * n * 4),
        hRes: s.empty("hRes", T * n * n * 4),
        saved: s.empty("saved", mhcCoefficientsSavedBytes({ n, T })),
      };
      const k = Math.min(T, CHECK_TOKENS), ks = { ...shape, T: k };
      const refInputs = async () => {
        const params: MhcParams<Float64Array> = {
          phi: await readF64(env, phi, n * C * K),
          bias: await readF64(env, bias, K),
          ...ALPHAS,
        };
        return { x: await readF64(env, x, k * n * C, p), params };
      };
      const recordForward: Recorder = (enc) =>
        encodeMhcCoefficients(gpu, enc, fwd, ALPHAS, opts);
      if (!backward) {
        return instance(T, s, {
          record: recordForward,
          check: async () => {
            const { x, params } = await refInputs();
            const ref = mhcCoefficients(x, params, ks);
            return relError([
              [await readValues(env, fwd.hPre, k * n), ref.hPre],
              [await readValues(env, fwd.hPost, k * n), ref.hPost],
              [await readValues(env, fwd.hRes, k * n * n), ref.hRes],
            ]);
          },
        });
      }
      // The backward reads what the forward saved: run the forward once.
      await runBatch(env, "coefficients forward", recordForward, 1);
      const grads = {
        gradHPre: await s.random("gradHPre", T * n, GRAD, 4),
        gradHPost: await s.random("gradHPost", T * n, GRAD, 5),
        gradHRes: await s.random("gradHRes", T * n * n, GRAD, 6),
      };
      const out = {
        gradX: s.empty("gradX", T * n * C * es),
        gradPhi: s.empty("gradPhi", phiBytes),
        gradBias: s.empty("gradBias", K * 4),
        gradAlpha: s.empty("gradAlpha", 12),
        scratch: s.empty("scratch", mhcCoefficientsScratchBytes({ n, T })),
      };
      return instance(T, s, {
        record: (enc) =>
          encodeMhcCoefficientsBackward(
            gpu,
            enc,
            {
              x,
              phi,
              saved: fwd.saved,
              ...grads,
              ...out,
            },
            ALPHAS,
            opts,
          ),
        // g_x of each token depends on that token only; g_φ, g_b and g_α
        // are sums over all T tokens and are not compared here.
        check: async () => {
          const { x, params } = await refInputs();
          const forward = mhcCoefficients(x, params, ks);
          const ref = mhcCoefficientsBackward(x, params, forward, {
            hPre: await readF64(env, grads.gradHPre, k * n),
            hPost: await readF64(env, grads.gradHPost, k * n),
            hRes: await readF64(env, grads.gradHRes, k * n * n),
          }, ks);
          return relError([
            [await readValues(env, out.gradX, k * n * C, p), ref.x],
          ]);
        },
      });
    },
  };
}

/**
 * Every case of `family` on this device: forward and backward, at each
 * width (Sinkhorn has none), on each backend.
 *
 * @param env The bench environment (decides whether f16 runs).
 * @param family The kernel family.
 * @param widths Widths `C` for the stream ops.
 * @returns The cases, forward before backward, reference first.
 */
export function benchCases(
  env: BenchEnv,
  family: Family,
  widths: readonly number[],
): BenchCase[] {
  const out: BenchCase[] = [];
  for (const backward of [false, true]) {
    if (family === "sinkhorn") {
      out.push(sinkhornCase("reference", backward));
      out.push(sinkhornCase("wgsl", backward));
      continue;
    }
    for (const C of widths) {
      const unfused = family === "post" && !backward;
      for (const b of streamBackends(env, unfused)) {
        if (family === "pre") out.push(preCase(C, b, backward));
        if (family === "post") out.push(postCase(C, b, backward));
        if (family === "coefficients") {
          out.push(coefficientsCase(C, b, backward));
        }
      }
    }
  }
  return out;
}
