// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The WebGPU side of the library: the runtime, the kernels' encode and
 * convenience APIs, and the backend interface shared with the reference.
 *
 * @module
 */

export {
  bufferOf,
  type BufferRef,
  type ComputeContext,
  type GpuProvider,
  MhcGpu,
  type MhcGpuOptions,
  offsetOf,
  type PipelineSpec,
  type ReadRequest,
  roundUp4,
  type StreamPrecision,
  type TokenBinding,
  type TokenDispatch,
} from "./runtime.ts";
export {
  grid2d,
  type MhcGpuLimits,
  planTokenChunks,
  type TokenChunk,
} from "./tokens.ts";
export {
  GpuError,
  type GpuErrorKind,
  WgslCompileError,
  type WgslMessage,
} from "./errors.ts";
export { f16BitsToF32, f32ToF16Bits, roundToF16 } from "./f16.ts";
export type { GpuStreamOptions } from "./_streams.ts";
export {
  encodeMhcPre,
  encodeMhcPreBackward,
  type MhcPreBackwardBuffers,
  mhcPreBackwardGpu,
  type MhcPreBackwardGpuOptions,
  type MhcPreBuffers,
  mhcPreGpu,
} from "./pre.ts";
export {
  encodeMhcPost,
  encodeMhcPostBackward,
  type MhcPostBackwardBuffers,
  mhcPostBackwardGpu,
  type MhcPostBuffers,
  mhcPostGpu,
} from "./post.ts";
export {
  encodeSinkhornKnopp,
  encodeSinkhornKnoppBackward,
  MAX_SINKHORN_N,
  type SinkhornKnoppBackwardBuffers,
  sinkhornKnoppBackwardGpu,
  type SinkhornKnoppBuffers,
  sinkhornKnoppGpu,
} from "./sinkhorn.ts";
export type { MhcAlphas } from "./alphas.ts";
export {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  type MhcCoefficientsBackwardBuffers,
  mhcCoefficientsBackwardGpu,
  type MhcCoefficientsBackwardGpuOptions,
  type MhcCoefficientsBuffers,
  mhcCoefficientsGpu,
  type MhcCoefficientsGpuOptions,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
} from "./coefficients.ts";
export {
  encodeHcCoefficients,
  encodeHcCoefficientsBackward,
  type HcCoefficientsBackwardBuffers,
  hcCoefficientsBackwardGpu,
  type HcCoefficientsBackwardGpuOptions,
  type HcCoefficientsBuffers,
  hcCoefficientsGpu,
  type HcCoefficientsGpuOptions,
  hcCoefficientsSavedBytes,
  hcCoefficientsScratchBytes,
} from "./hc.ts";
export {
  createMhcBackend,
  type CreateMhcBackendOptions,
  type MhcBackend,
  referenceBackend,
  webgpuBackend,
  type WebgpuBackendOptions,
} from "./backend.ts";
