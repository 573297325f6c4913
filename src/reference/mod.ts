// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The pure-TypeScript reference of every mHC op, forward and backward. It is
 * the ground truth that the WGSL kernels are tested against.
 *
 * @module
 */

export type { FloatArray, SinkhornOptions, StreamShape } from "./types.ts";
export {
  DEFAULT_SINKHORN_ITERATIONS,
  sinkhornIterationCounts,
  sinkhornKnopp,
  sinkhornKnoppBackward,
  type SinkhornKnoppBackwardOptions,
  type SinkhornKnoppOptions,
  type SinkhornKnoppOutputOptions,
} from "./sinkhorn.ts";
export {
  DEFAULT_NORM_EPS,
  type MhcCoefficientGrads,
  type MhcCoefficients,
  mhcCoefficients,
  mhcCoefficientsBackward,
  type MhcCoefficientsBackwardOptions,
  type MhcCoefficientsOptions,
  type MhcCoefficientsOutputOptions,
  type MhcParamGradArrays,
  type MhcParamGrads,
  type MhcParams,
} from "./coefficients.ts";
export {
  mhcPre,
  mhcPreBackward,
  type MhcPreBackwardOptions,
  type MhcPreGrads,
  type MhcPreOptions,
} from "./pre.ts";
export {
  mhcPost,
  mhcPostBackward,
  type MhcPostBackwardOptions,
  type MhcPostGrads,
  type MhcPostOptions,
} from "./post.ts";
export {
  type HcCoefficients,
  hcCoefficients,
  hcCoefficientsBackward,
  type HcCoefficientsBackwardOptions,
  type HcCoefficientsOptions,
  type HcCoefficientsOutputOptions,
  type HcParamGradArrays,
  type HcParamGrads,
  type HcParams,
} from "./hc.ts";
export {
  expandStreams,
  expandStreamsBackward,
  reduceStreams,
  reduceStreamsBackward,
  type StreamsOptions,
} from "./streams.ts";
export {
  type AmaxGain,
  amaxGain,
  type AmaxGainOptions,
} from "./diagnostics.ts";
