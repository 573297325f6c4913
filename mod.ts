// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Manifold-Constrained Hyper-Connections (mHC) for TypeScript and WebGPU.
 *
 * mHC widens a network's residual stream into `n` parallel streams and mixes
 * them, per token, with a matrix projected onto the doubly stochastic
 * matrices by Sinkhorn-Knopp. This module gives every op of one mHC site,
 * forward and backward, as a pure-TypeScript reference that runs anywhere
 * (Deno, browsers, Node), and as WGSL kernels for WebGPU. The maths is
 * written out in `docs/SPEC.md`, published with this package; "SPEC §N" in
 * the documentation refers to its sections.
 *
 * Arrays are row-major: residual states are `[T, n, C]` (token, stream,
 * channel). Pass `Float32Array`s for float32 semantics, or `Float64Array`s
 * for a float64 path (used for finite-difference checks).
 *
 * @example One mHC sub-layer, forward and backward
 * ```ts
 * import {
 *   mhcCoefficients,
 *   mhcPost,
 *   mhcPre,
 * } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const n = 4, C = 8, T = 2, K = n * n + 2 * n;
 * const x = new Float32Array(T * n * C).map((_, i) => Math.sin(i));
 * const params = {
 *   phi: new Float32Array(n * C * K).map((_, i) => 0.01 * Math.cos(i)),
 *   bias: new Float32Array(K),
 *   alphaPre: 0.01,
 *   alphaPost: 0.01,
 *   alphaRes: 0.01,
 * };
 * const { hPre, hPost, hRes } = mhcCoefficients(x, params, { n, C, T });
 * const u = mhcPre(x, hPre, { n, C, T }); // the sub-layer input, [T, C]
 * const y = u.map(Math.tanh); // any sub-layer F
 * const next = mhcPost(x, y, hPost, hRes, { n, C, T }); // [T, n, C]
 * assertEquals(next.length, T * n * C);
 * ```
 *
 * @module
 */

export * from "./src/reference/mod.ts";
export * from "./src/gpu/mod.ts";
