// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The compute yardstick of the roofline: the multiply-add throughput of a
 * WGSL microkernel (bench/kernels/fma.wgsl, independent vec4 fma() chains
 * in registers), measured in the same run as the kernels. Multiply-adds
 * count 2 FLOP.
 *
 * @module
 */

import type { BenchEnv } from "./_env.ts";
import { SMOKE } from "./_env.ts";
import type { Recorder } from "./_timing.ts";

const fmaWgsl = await Deno.readTextFile(
  new URL("./kernels/fma.wgsl", import.meta.url),
);

/** Invocations per workgroup of fma.wgsl (its `WG`). */
const WG = 64;
/** vec4 fma() per loop trip in each entry point of fma.wgsl. */
const FMA_PER_TRIP = 32;

/** One microkernel, ready to time. */
export interface FmaWork {
  /** `fma_2` or `fma_4`: independent chains per invocation. */
  entry: "fma_2" | "fma_4";
  /** Records one call. */
  record: Recorder;
  /** FLOP of one call. */
  flops: number;
  /** Frees the output buffer. */
  dispose(): void;
}

/**
 * The FMA microkernels, each sized to a few hundred million multiply-adds
 * per call (tiny under `MHC_BENCH_SMOKE=1`).
 *
 * @param env The bench environment.
 * @returns One work per entry point.
 */
export async function shaderFma(env: BenchEnv): Promise<FmaWork[]> {
  const count = SMOKE ? WG : 65536, iterations = SMOKE ? 4 : 128;
  const sink = env.device.createBuffer({
    label: "fma sink",
    size: count * 16,
    usage: GPUBufferUsage.STORAGE,
  });
  const out: FmaWork[] = [];
  for (const entry of ["fma_2", "fma_4"] as const) {
    const pipeline = await env.gpu.pipeline({
      label: `bench ${entry}`,
      code: fmaWgsl,
      entryPoint: entry,
      key: `bench|${entry}`,
    });
    out.push({
      entry,
      flops: count * iterations * FMA_PER_TRIP * 4 * 2,
      record: (encoder) =>
        env.gpu.encodeTokens(encoder, {
          label: `fma kernel ${entry}`,
          pipeline,
          T: count,
          buffers: [{ name: "sink", ref: sink, bytesPerToken: 16 }],
          workgroups: (t) => Math.ceil(t / WG),
          params: (t) => new Uint32Array([t, iterations]),
        }),
      dispose: () => {},
    });
  }
  out[out.length - 1].dispose = () => sink.destroy();
  return out;
}
