// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Bench copy (issue 11, bench/coefficient_variants.ts): the library kernel
// as it was before the vec4 rewrite (scalar loads of x and of the running
// sums), with only the offsets of p and Σ v² in `saved` (g_p and coef in
// the scratch) moved to the library's current row layout (host-set).
//
// g_x = φ·g_p + coef·v of the mHC coefficient backward (SPEC §3), one block
// of rows of φ per dispatch: the host binds rows c0 … c0 + CO_CB − 1 of φ
// (the last block may be shorter: `rows`) and dispatches the blocks; each
// writes the block's columns of g_x. g_p and coef come from the token's
// scratch row (coefficients_backward.wgsl).
//
// One invocation per token (CO_WG per workgroup), its K values of g_p in
// registers. The loops marked `@unroll` are unrolled by the host, so every
// φ index is a constant: one uniform load for the whole workgroup (see
// coefficients_project.wgsl). No workgroup memory, no barrier.
// With CB_ACCUMULATE = 1 (host-set) g_x is added to the buffer's values
// (read, add in f32, store) instead of overwriting them.
// Assembled as this file alone; the host sets N, CO_WG, CO_CB and
// CB_ACCUMULATE and unrolls.
//
// Per token and block, in elements: reads CO_CB (x) + K + 1 (scratch) +
// CO_CB·K / CO_WG (φ), + CO_CB (g_x) when accumulating; writes CO_CB (g_x).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Streams n (host-set). */
const N: u32 = 4u;
/** Outputs of the projection: n² + 2n. */
const K: u32 = N * N + 2u * N;
/** Tokens (invocations) per workgroup (host-set). */
const CO_WG: u32 = 64u;
/** Rows of φ per block (host-set). */
const CO_CB: u32 = 64u;
/** 1: add g_x to the buffer's values; 0: overwrite them (host-set). */
const CB_ACCUMULATE: u32 = 0u;
/** Row length of `scratch`: 2K + 4 rounded up to a multiple of 8. */
const SCRATCH_W: u32 = 56u; // set by the host (n = 4)
/** Offset of g_p in a scratch row (host-set). */
const G_OFF: u32 = 28u;
/** Offset of the coefficient of v in a scratch row (host-set). */
const COEF_OFF: u32 = 52u;

struct GradXParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  /** First row of φ of this block. */
  c0: u32,
  /** Rows in this block (CO_CB, or fewer for the last block). */
  rows: u32,
}

@group(0) @binding(0) var<uniform> params: GradXParams;
/** Residual states [T, n, C] of this dispatch's tokens. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Rows c0 … c0 + rows − 1 of φ, [rows, K] row-major. */
@group(0) @binding(2) var<storage, read> phi: array<f32>;
/** Backward scratch [T, SCRATCH_W]: g_p at K + 3 … 2K + 2, coef at 2K + 3. */
@group(0) @binding(3) var<storage, read> scratch: array<f32>;
/** Gradient of x, [T, n, C]. */
@group(0) @binding(4) var<storage, read_write> g_x: array<XT>;

@compute @workgroup_size(CO_WG)
fn coefficients_grad_x(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let tokens = params.tokens;
  let t_in = (wg.x + wg.y * nwg.x) * CO_WG + w;
  let t = min(t_in, tokens - 1u); // past the end: compute, store nothing
  let live = t_in < tokens;
  let rows = params.rows;
  let sr = t * SCRATCH_W;
  let row = t * params.nc + params.c0;
  var gp: array<f32, K>;
  // @unroll
  for (var ku = 0u; ku < K; ku++) {
    gp[ku] = scratch[sr + G_OFF + ku];
  }
  let coef = scratch[sr + COEF_OFF];
  // @unroll
  for (var cu = 0u; cu < CO_CB; cu++) {
    var s = 0.0;
    // @unroll
    for (var ku = 0u; ku < K; ku++) {
      s = fma(phi[cu * K + ku], gp[ku], s);
    }
    let idx = row + cu;
    var gx = fma(coef, select(0.0, f32(x[idx]), cu < rows), s);
    if (live && cu < rows) {
      if (CB_ACCUMULATE != 0u) {
        gx += f32(g_x[idx]);
      }
      g_x[idx] = XT(gx);
    }
  }
}
