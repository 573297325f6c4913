// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The unfused post mixing, kept in bench/ as the baseline for the fusion
 * claim of SPEC §9: three passes (`z = H_res·x`, `w = H_post·y`,
 * `x' = z + w`) with two `[T, n, C]` temporaries, so per token it reads
 * `(3n+1)·C` and writes `3n·C` stream values where the fused kernel reads
 * `(n+1)·C` and writes `n·C`. Each pass uses the flat layout of the fused
 * kernel before issue 11 (one thread per vector, `WG_ELEMENTWISE` threads
 * per workgroup) and the same vector width; the fused kernel now walks each
 * token with L lanes (wgsl/post.wgsl), so the comparison is fusion plus
 * that layout.
 *
 * @module
 */

import type { BufferRef, GpuStreamOptions, MhcGpu } from "../mod.ts";
import type { MhcPostBuffers } from "../mod.ts";
import {
  elementwiseGroups,
  streamLayout,
  streamParams,
  WG_ELEMENTWISE,
} from "../src/gpu/_streams.ts";
import { specializeStreams, variantKey } from "../src/gpu/specialize.ts";
import { tnc } from "../src/_validate.ts";

const source = (name: string) =>
  Deno.readTextFile(new URL(`./kernels/${name}.wgsl`, import.meta.url));
const KERNELS = {
  res: await source("unfused_res"),
  scale: await source("unfused_scale"),
  merge: await source("unfused_merge"),
};

/** Buffers of {@linkcode encodeUnfusedPost}: the fused kernel's, plus two temporaries. */
export interface UnfusedPostBuffers extends MhcPostBuffers {
  /** Temporary `H_res·x`, `[T, n, C]` in the stream precision. */
  z: BufferRef;
  /** Temporary `H_post·y`, `[T, n, C]` in the stream precision. */
  w: BufferRef;
}

/**
 * Records the unfused post mixing (three passes) into `encoder`; same
 * semantics and options as `encodeMhcPost`.
 *
 * @param gpu The runtime.
 * @param encoder The caller's command encoder.
 * @param b Inputs, output and the two temporaries.
 * @param options Sizes and stream precision.
 * @returns When the three passes are recorded.
 */
export async function encodeUnfusedPost(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: UnfusedPostBuffers,
  options: GpuStreamOptions,
): Promise<void> {
  const s = streamLayout(gpu, options);
  const v = { n: s.n, width: s.width, precision: s.precision };
  const pipe = (name: keyof typeof KERNELS) =>
    gpu.pipeline({
      label: `unfused ${name}`,
      key: variantKey(`bench-unfused-${name}`, v),
      code: specializeStreams(KERNELS[name], v),
    });
  const [res, scale, merge] = await Promise.all([
    pipe("res"),
    pipe("scale"),
    pipe("merge"),
  ]);
  const { n, C, es } = s;
  const shape = tnc(s) + s.as;
  const stream = (name: string, ref: BufferRef) => ({
    name,
    ref,
    bytesPerToken: n * C * es,
    shape,
  });
  const params = streamParams(s);
  const perVector = elementwiseGroups(s);
  gpu.encodeTokens(encoder, {
    label: "unfused post: z = H_res·x",
    pipeline: res,
    T: s.T,
    buffers: [
      stream("x", b.x),
      { name: "hRes", ref: b.hRes, bytesPerToken: n * n * 4 },
      stream("z", b.z),
    ],
    workgroups: perVector,
    params,
  });
  gpu.encodeTokens(encoder, {
    label: "unfused post: w = H_post·y",
    pipeline: scale,
    T: s.T,
    buffers: [
      { name: "y", ref: b.y, bytesPerToken: C * es },
      { name: "hPost", ref: b.hPost, bytesPerToken: n * 4 },
      stream("w", b.w),
    ],
    workgroups: perVector,
    params,
  });
  gpu.encodeTokens(encoder, {
    label: "unfused post: x' = z + w",
    pipeline: merge,
    T: s.T,
    buffers: [stream("z", b.z), stream("w", b.w), stream("out", b.out)],
    workgroups: (tokens) => Math.ceil(tokens * n * s.cv / WG_ELEMENTWISE),
    params,
  });
}
