// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Bench copy (issue 11, bench/coefficient_variants.ts): the library kernel
// as it was before the vec4 rewrite (scalar loads of x and of the running
// sums), with only the offsets of p and Σ v² in `saved` (g_p and coef in
// the scratch) moved to the library's current row layout (host-set).
//
// The projection p = v·φ of the mHC coefficient pass (SPEC §3), one block
// of rows of φ per dispatch: v = vec(x) of a token (length nC), φ [nC, K]
// row-major, K = n² + 2n. The host binds rows c0 … c0 + CO_CB − 1 of φ (the
// last block may be shorter: `rows`) and dispatches the blocks in order;
// each adds its share to the token's running p and Σ v², kept in the
// token's row of `saved`. The first block overwrites them.
//
// One invocation per token (CO_WG per workgroup), its K sums in registers.
// The loops marked `@unroll` are unrolled by the host, so every φ index is
// a constant: the same φ element for the whole workgroup, one uniform load
// (a CPU adapter such as lavapipe loads it once and broadcasts it to the
// SIMD lanes; a per-invocation load would cost a loop over the lanes). No
// workgroup memory, no barrier. The sums are blocked: a sub-block's partial
// sum (CO_CH terms) is added to the running total, in order: deterministic,
// and the float32 error stays small for large nC.
// In the last block, which may be shorter, rows past `rows` contribute
// zeros: their x values are replaced by 0 with select() (their φ reads fall
// outside the bound rows: zero, or a bound φ value, times 0).
// Assembled as this file alone; the host sets N, CO_WG, CO_CB and CO_CH and
// unrolls.
//
// Per token and block, in elements: reads CO_CB (x) + K + 1 (the running
// sums, except for the first block) + CO_CB·K / CO_WG (φ, shared by the
// workgroup); writes K + 1.

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Streams n (host-set). */
const N: u32 = 4u;
/** Outputs of the projection: n² + 2n. */
const K: u32 = N * N + 2u * N;
/** Tokens (invocations) per workgroup (host-set). */
const CO_WG: u32 = 64u;
/** Rows of φ per block (host-set; a multiple of CO_CH). */
const CO_CB: u32 = 64u;
/** Terms per sub-block of the blocked sums (host-set). */
const CO_CH: u32 = 32u;
/** Sub-blocks per block. */
const CO_SB: u32 = CO_CB / CO_CH;
/** Row length of `saved`: 2K + 1 rounded up to a multiple of 8. */
const SAVED_W: u32 = 56u; // set by the host (n = 4)
/** Offset of p in a row of `saved` (host-set). */
const P_OFF: u32 = 28u;
/** Offset of Σ v² in a row of `saved` (host-set). */
const SQ_OFF: u32 = 52u;

struct ProjectParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  /** First row of φ of this block. */
  c0: u32,
  /** Rows in this block (CO_CB, or fewer for the last block). */
  rows: u32,
  /** 1: the first block (overwrite the running sums). */
  first: u32,
}

@group(0) @binding(0) var<uniform> params: ProjectParams;
/** Residual states [T, n, C] of this dispatch's tokens. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Rows c0 … c0 + rows − 1 of φ, [rows, K] row-major. */
@group(0) @binding(2) var<storage, read> phi: array<f32>;
/**
 * Per token [SAVED_W]: the logits h (K, not touched here), 1/r (not touched
 * here), the running p (K), the running Σ v², padding.
 */
@group(0) @binding(3) var<storage, read_write> saved: array<f32>;

@compute @workgroup_size(CO_WG)
fn coefficients_project(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let tokens = params.tokens;
  let t_in = (wg.x + wg.y * nwg.x) * CO_WG + w;
  // Tokens past the end compute on the last token and store nothing, so
  // that no load sits in divergent control flow.
  let t = min(t_in, tokens - 1u);
  let row = t * params.nc + params.c0;
  let rows = params.rows;
  let sr = t * SAVED_W;
  let first = params.first != 0u;
  var p: array<f32, K>;
  // @unroll
  for (var ku = 0u; ku < K; ku++) {
    p[ku] = select(saved[sr + P_OFF + ku], 0.0, first);
  }
  var sq = select(saved[sr + SQ_OFF], 0.0, first);
  // @unroll
  for (var sb = 0u; sb < CO_SB; sb++) {
    var part = array<f32, K>(); // explicit: zeroed on every sub-block
    var psq = 0.0;
    // @unroll
    for (var cu = 0u; cu < CO_CH; cu++) {
      let ci = sb * CO_CH + cu;
      let v = select(0.0, f32(x[row + ci]), ci < rows);
      psq = fma(v, v, psq);
      // @unroll
      for (var ku = 0u; ku < K; ku++) {
        part[ku] = fma(v, phi[ci * K + ku], part[ku]);
      }
    }
    // @unroll
    for (var ku = 0u; ku < K; ku++) {
      p[ku] += part[ku];
    }
    sq += psq;
  }
  if (t_in < tokens) {
    // @unroll
    for (var ku = 0u; ku < K; ku++) {
      saved[sr + P_OFF + ku] = p[ku];
    }
    saved[sr + SQ_OFF] = sq;
  }
}
