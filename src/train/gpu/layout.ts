// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The parameter layout on the GPU: the tensors of {@linkcode parameterLayout}
 * in the same order, each starting at a multiple of 64 floats (256 bytes,
 * the usual `minStorageBufferOffsetAlignment`), so that every tensor can be
 * bound on its own while parameters, gradients and moments stay one flat
 * buffer each (one dispatch for the gradient norm, one for AdamW). Padding
 * stays zero. Portable: no Deno API.
 *
 * @module
 */

import type { TensorSpec } from "../model.ts";
import { DECAY_BLOCK, decayMask } from "./optimizer.ts";

/** Floats per alignment block of the GPU layout (AdamW's decay-mask block). */
export const BLOCK_FLOATS = DECAY_BLOCK;

/** A tensor's place in both layouts. */
export interface GpuTensor extends TensorSpec {
  /** Offset in floats in the GPU layout (a multiple of {@linkcode BLOCK_FLOATS}). */
  gpuOffset: number;
}

/** The GPU layout of a model's parameters. */
export interface GpuLayout {
  /** Every tensor, in the order of the CPU layout. */
  tensors: GpuTensor[];
  /** The same, by name. */
  byName: Map<string, GpuTensor>;
  /** Floats of the GPU layout (a multiple of {@linkcode BLOCK_FLOATS}). */
  floats: number;
  /** Floats of the CPU layout. */
  cpuFloats: number;
  /** AdamW weight-decay flag per block of {@linkcode BLOCK_FLOATS} floats. */
  decayMask: Uint32Array;
}

/**
 * Lays out `specs` for the GPU.
 *
 * @param specs The CPU layout.
 * @returns The GPU layout.
 */
export function gpuLayout(specs: TensorSpec[]): GpuLayout {
  let offset = 0, cpuFloats = 0;
  const tensors = specs.map((s) => {
    const t = { ...s, gpuOffset: offset };
    offset += Math.ceil(s.size / BLOCK_FLOATS) * BLOCK_FLOATS;
    cpuFloats = Math.max(cpuFloats, s.offset + s.size);
    return t;
  });
  const floats = Math.max(offset, BLOCK_FLOATS);
  return {
    tensors,
    byName: new Map(tensors.map((t) => [t.name, t])),
    floats,
    cpuFloats,
    decayMask: decayMask(
      tensors.map((t) => ({
        offset: t.gpuOffset,
        size: t.size,
        decay: t.decay,
      })),
      floats,
    ),
  };
}

/**
 * Copies a flat array from the CPU layout into a new GPU-layout array.
 *
 * @param layout The GPU layout.
 * @param cpu Values in the CPU layout.
 * @returns The values in the GPU layout, padding zero.
 */
export function toGpuLayout(
  layout: GpuLayout,
  cpu: Float32Array,
): Float32Array {
  const out = new Float32Array(layout.floats);
  for (const t of layout.tensors) {
    out.set(cpu.subarray(t.offset, t.offset + t.size), t.gpuOffset);
  }
  return out;
}

/**
 * Copies a flat array from the GPU layout into a new CPU-layout array.
 *
 * @param layout The GPU layout.
 * @param gpu Values in the GPU layout.
 * @returns The values in the CPU layout.
 */
export function fromGpuLayout(
  layout: GpuLayout,
  gpu: Float32Array,
): Float32Array {
  const out = new Float32Array(layout.cpuFloats);
  for (const t of layout.tensors) {
    out.set(gpu.subarray(t.gpuOffset, t.gpuOffset + t.size), t.offset);
  }
  return out;
}
