// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The stream spread of a residual state on the GPU (the per-token part of
 * `streamSpread` (metrics.ts)); the trainer averages it over tokens with a
 * deterministic sum, so that an evaluation reads back one number per state
 * instead of the state.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { streamSpreadWgsl } from "../kernels/stream_spread.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/**
 * Records `perToken[t]` = the spread of token `t`'s `n` streams.
 *
 * @param gpu The runtime.
 * @param encoder The encoder.
 * @param b `perToken` `[T]` (written) and the state `x` `[T, n, C]`.
 * @param s Sizes.
 * @returns When recorded.
 */
export function encodeStreamSpread(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: { perToken: Binding; x: Binding },
  s: { n: number; C: number; T: number },
): Promise<void> {
  return dispatch(gpu, encoder, {
    label: "stream spread",
    code: streamSpreadWgsl,
    key: "stream_spread",
    params: [s.T, s.n, s.C],
    buffers: [b.x, b.perToken],
    workgroups: Math.ceil(s.T / 64),
  });
}
