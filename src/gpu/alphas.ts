// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Where the three `α` of a coefficient site come from on the GPU: numbers
 * (baked into the kernel's uniform) or a storage buffer holding
 * `[α_pre, α_post, α_res]` as f32 (read by the kernel, so that a trainer
 * can update `α` on the GPU without a new uniform per value). Shared by the
 * mHC (src/gpu/coefficients.ts) and HC (src/gpu/hc.ts) coefficient kernels.
 *
 * The kernel sources get one of two small WGSL files appended:
 * `wgsl/alphas.wgsl` (from the uniform) or `wgsl/alphas_buffer.wgsl` (from a
 * storage binding at the kernel's `ALPHA_BINDING`, the binding after its last
 * storage buffer). Both define `site_alphas() -> vec3f`.
 *
 * @module
 */

import { checkFinite, typeName } from "../reference/_validate.ts";
import { alphasWgsl } from "../kernels/alphas.ts";
import { alphasBufferWgsl } from "../kernels/alphas_buffer.ts";
import type { BufferRef, TokenBinding } from "./runtime.ts";
import { f32Bits } from "./specialize.ts";

/** The three `α` of one coefficient site (mHC or HC). */
export interface MhcAlphas {
  /** Scale of the dynamic part of the `H_pre` logits. */
  alphaPre: number;
  /** Scale of the dynamic part of the `H_post` logits. */
  alphaPost: number;
  /** Scale of the dynamic part of the `H_res` logits. */
  alphaRes: number;
}

/** A checked `α` argument. Internal. */
export type AlphaSource =
  | { kind: "numbers"; alphas: MhcAlphas }
  | { kind: "buffer"; ref: BufferRef };

const ALPHA_KEYS = ["alphaPre", "alphaPost", "alphaRes"] as const;

/** True for an object that looks like a `GPUBuffer`. */
function looksLikeGpuBuffer(value: unknown): boolean {
  return typeof value === "object" && value !== null && "usage" in value &&
    "size" in value && "mapAsync" in value;
}

/** True for a `GPUBuffer` or `{ buffer: GPUBuffer, offset? }` (duck-typed). */
function looksLikeBufferRef(value: object): boolean {
  return looksLikeGpuBuffer(value) ||
    ("buffer" in value && looksLikeGpuBuffer(value.buffer));
}

/**
 * Checks an `α` argument: `{ alphaPre, alphaPost, alphaRes }` of finite
 * numbers, or a buffer reference (its usage, alignment and size are checked
 * when it is bound). Internal.
 *
 * @param value The argument.
 * @param name Its name in messages.
 * @returns The checked source.
 * @throws {TypeError} When it is neither.
 * @throws {RangeError} When an `α` is not a finite number.
 */
export function checkAlphaSource(value: unknown, name: string): AlphaSource {
  if (typeof value === "object" && value !== null) {
    if (ALPHA_KEYS.some((k) => k in value)) {
      const a = value as MhcAlphas;
      for (const k of ALPHA_KEYS) checkFinite(`${name}.${k}`, a[k]);
      return { kind: "numbers", alphas: a };
    }
    if (looksLikeBufferRef(value)) {
      return { kind: "buffer", ref: value as BufferRef };
    }
  }
  throw new TypeError(
    `${name} must be { alphaPre, alphaPost, alphaRes } or a GPUBuffer / { buffer, offset } holding 3 f32, got ${
      typeName(value)
    }`,
  );
}

/**
 * Checks the three `α` of a parameter object (finite numbers). Internal.
 *
 * @param value An object with `alphaPre`, `alphaPost` and `alphaRes`.
 * @param name Its name in messages.
 * @returns The checked source.
 * @throws {RangeError} When an `α` is not a finite number.
 */
export function numberAlphas(value: MhcAlphas, name: string): AlphaSource {
  for (const k of ALPHA_KEYS) checkFinite(`${name}.${k}`, value[k]);
  return { kind: "numbers", alphas: value };
}

/**
 * The uniform words of the three `α` (zeros when they come from a buffer).
 * Internal.
 */
export function alphaWords(a: AlphaSource): number[] {
  return a.kind === "numbers"
    ? ALPHA_KEYS.map((k) => f32Bits(a.alphas[k]))
    : [0, 0, 0];
}

/**
 * The extra storage binding of the buffer variant (bound after the kernel's
 * other buffers), or none. Internal.
 */
export function alphaBindings(a: AlphaSource): TokenBinding[] {
  return a.kind === "buffer"
    ? [{
      name: "alphas",
      ref: a.ref,
      bytesPerToken: 0,
      size: 12,
      shape: "[3] as f32: α_pre, α_post, α_res",
    }]
    : [];
}

/** The WGSL that defines `site_alphas()` for this source. Internal. */
export function alphaSourceWgsl(a: AlphaSource): string {
  return a.kind === "buffer" ? alphasBufferWgsl : alphasWgsl;
}

/** The pipeline-key part of this source. Internal. */
export function alphaKey(a: AlphaSource): string {
  return a.kind === "buffer" ? "alpha=buffer" : "alpha=uniform";
}
