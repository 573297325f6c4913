// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Token plus position embedding on WebGPU, forward and backward; the CPU
 * twin is `src/train/ops/embedding.ts`. Token ids are `u32`, one per token.
 * Kernels: `wgsl/train/embedding_forward.wgsl`,
 * `wgsl/train/embedding_backward.wgsl`.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { embeddingBackwardWgsl } from "../kernels/embedding_backward.ts";
import { embeddingForwardWgsl } from "../kernels/embedding_forward.ts";
import { checkBinding, checkSize } from "./_check.ts";
import { scalarVariant } from "./_specialize.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/**
 * Records `out[b·T + t] = wte[tokens[b·T + t]] + wpe[t]`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `out` `[B·T, C]` (overwritten), `tokens` `[B·T]` u32, `wte`
 * `[V, C]`, `wpe` `[maxT, C]` with `maxT ≥ T`.
 * @param s Sizes: `B` sequences of `T` tokens, width `C`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer or a binding is
 * too small.
 */
export async function encodeEmbeddingForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { out: Binding; tokens: Binding; wte: Binding; wpe: Binding },
  s: { B: number; T: number; C: number },
): Promise<void> {
  const op = "embedding forward";
  checkSize(op, "B", s.B);
  checkSize(op, "T", s.T);
  checkSize(op, "C", s.C);
  const rows = s.B * s.T;
  checkBinding(op, "out", b.out, rows * s.C);
  checkBinding(op, "tokens", b.tokens, rows);
  checkBinding(op, "wte", b.wte, s.C);
  checkBinding(op, "wpe", b.wpe, s.T * s.C);
  await dispatch(gpu, encoder, {
    label: "train embedding forward",
    code: embeddingForwardWgsl,
    key: "embedding_forward",
    params: [rows, s.T, s.C],
    buffers: [b.out, b.tokens, b.wte, b.wpe],
    workgroups: Math.ceil((rows * s.C) / 256),
  });
}

const backwardSources = new Map<string, string>();

/**
 * The backward kernel's source: 16-byte dout loads when `C` is a multiple
 * of 4 (else the `// @scalar ` lines), 16-byte id loads when the row count
 * is (else the `// @ids1 ` lines, which replace the `// @ids4` ones).
 */
function backwardSource(vec4: boolean, ids4: boolean): string {
  const key = `${vec4}|${ids4}`;
  let s = backwardSources.get(key);
  if (s === undefined) {
    s = vec4 ? embeddingBackwardWgsl : scalarVariant(embeddingBackwardWgsl);
    if (!ids4) {
      s = s.split("\n").map((line) =>
        line.endsWith("// @ids4")
          ? ""
          : line.startsWith("// @ids1 ")
          ? line.slice("// @ids1 ".length)
          : line
      ).join("\n");
    }
    backwardSources.set(key, s);
  }
  return s;
}

/**
 * Records the backward of {@linkcode encodeEmbeddingForward}, without
 * atomics: `dwte[v] = Σ_{r: tokens[r] = v} dout[r]` (rows in increasing
 * order) and `dwpe[t] = Σ_b dout[b·T + t]`. Both tables are OVERWRITTEN:
 * vocabulary rows never used get 0, position rows `t ≥ T` get 0. One
 * launch: an invocation owns 64 channels of a vocabulary row (scanning all
 * ids in order, 4 at a time) or 4 elements of a position row.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b `dwte` `[V, C]`, `dwpe` `[maxT, C]` (both overwritten), `dout`
 * `[B·T, C]`, `tokens` `[B·T]` u32 (ids ≥ V contribute nothing).
 * @param s Sizes: `B`, `T`, `C`, vocabulary `V`, table rows `maxT ≥ T`.
 * @returns When the pass is recorded.
 * @throws {RangeError} When a size is not a positive integer, `maxT < T`, or
 * a binding is too small.
 */
export async function encodeEmbeddingBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { dwte: Binding; dwpe: Binding; dout: Binding; tokens: Binding },
  s: { B: number; T: number; C: number; V: number; maxT: number },
): Promise<void> {
  const op = "embedding backward";
  for (const k of ["B", "T", "C", "V"] as const) checkSize(op, k, s[k]);
  checkSize(op, "maxT", s.maxT, s.T);
  const rows = s.B * s.T, cb = Math.ceil(s.C / 64);
  checkBinding(op, "dwte", b.dwte, s.V * s.C);
  checkBinding(op, "dwpe", b.dwpe, s.maxT * s.C);
  checkBinding(op, "dout", b.dout, rows * s.C);
  checkBinding(op, "tokens", b.tokens, rows);
  const vec4 = s.C % 4 === 0, ids4 = rows % 4 === 0;
  const teGroups = Math.ceil((s.V * cb) / 64);
  await dispatch(gpu, encoder, {
    label: "train embedding backward",
    code: backwardSource(vec4, ids4),
    key: `embedding_backward|${vec4 ? "vec4" : "scalar"}|ids${ids4 ? 4 : 1}`,
    params: [rows, s.T, s.C, s.V, s.maxT, cb, s.B, teGroups],
    buffers: [b.dwte, b.dwpe, b.dout, b.tokens],
    workgroups: teGroups + Math.ceil((s.maxT * Math.ceil(s.C / 4)) / 64),
  });
}
