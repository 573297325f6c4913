// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Bench probe (issue 11, bench/coefficient_variants.ts): the library's g_x
// block with its block of φ first copied into workgroup memory (KQ vec4
// per invocation, one barrier) and read there at constant indices, as the
// projection does. n = 4 only: it assumes K % 4 == 0 and blocks of CO_WG
// rows. The rest of this header is the library kernel's own, and its
// "uniform load" of φ is the copy's read here.
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
// Per-invocation loads and stores are few and wide: x and g_x move XW
// channels at a time (vec4 when C % 4 == 0, host-set; scalar otherwise),
// g_p is read as vec4 (it starts at a multiple of 4 in the scratch row),
// φ PW values per uniform load (vec4 when K % 4 == 0, host-set).
// With CB_ACCUMULATE = 1 (host-set) g_x is added to the buffer's values
// (read, add in f32, store) instead of overwriting them.
// Assembled as this file alone; the host sets N, CO_WG, CO_CB,
// CB_ACCUMULATE, the scratch layout and the width of x, and unrolls.
//
// Per token and block, in elements: reads CO_CB (x) + 4·KQ + 4 (scratch) +
// CO_CB·K / CO_WG (φ), + CO_CB (g_x) when accumulating; writes CO_CB (g_x).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;
// @vector XW begin
/** Channels per load of x: 1, or 4 when C % 4 == 0 (host-set). */
const XW: u32 = 1u;
alias XV = XT;
alias FV = f32;
fn fv_at(v: FV, e: u32) -> f32 { return v; }
fn fv_pack(s: array<f32, XW>) -> FV { return s[0]; }
// @vector XW end
// @vector PW begin
/** Values per load of φ: 1, or 4 when K % 4 == 0 (host-set). */
const PW: u32 = 1u;
alias PV = f32;
fn pv_at(v: PV, e: u32) -> f32 { return v; }
// @vector PW end

/** Streams n (host-set). */
const N: u32 = 4u;
/** Outputs of the projection: n² + 2n. */
const K: u32 = N * N + 2u * N;
/** vec4 that hold K values. */
const KQ: u32 = (K + 3u) / 4u;
/** Tokens (invocations) per workgroup (host-set). */
const CO_WG: u32 = 64u;
/** Rows of φ per block (host-set; a multiple of XW). */
const CO_CB: u32 = 64u;
/** Loads of x per block. */
const CO_CQ: u32 = CO_CB / XW;
/** Loads of φ per row. */
const CB_PQ: u32 = K / PW;
/** 1: add g_x to the buffer's values; 0: overwrite them (host-set). */
const CB_ACCUMULATE: u32 = 0u;
/** Row length of `scratch` (host-set; a multiple of 8). */
const SCRATCH_W: u32 = 56u;
/** Offset of g_p in a scratch row (host-set; a multiple of 4). */
const G_OFF: u32 = 28u;
/** Offset of the coefficient of v in a scratch row (host-set; a multiple of 4). */
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
/** Residual states [T, n, C] of this dispatch's tokens, XW per element. */
@group(0) @binding(1) var<storage, read> x: array<XV>;
/** Rows c0 … c0 + rows − 1 of φ, [rows, K] row-major, PW per element. */
@group(0) @binding(2) var<storage, read> phi_v: array<vec4<f32>>;
/**
 * Backward scratch [T, SCRATCH_W / 4] vec4: g_p from G_OFF (K values
 * padded to KQ vec4), coef at COEF_OFF.
 */
@group(0) @binding(3) var<storage, read> scratch: array<vec4<f32>>;
/** Gradient of x, [T, n, C], XW per element. */
@group(0) @binding(4) var<storage, read_write> g_x: array<XV>;

/** The block of φ, zero past `rows`. */
var<workgroup> phi_s: array<vec4<f32>, CO_CB * KQ>;

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
  let sr = t * (SCRATCH_W / 4u);
  // nC and c0 are multiples of XW (the host picks XW = 4 only then).
  let row = (t * params.nc + params.c0) / XW;
  // @unroll
  for (var s = 0u; s < KQ; s++) {
    let i = s * CO_WG + w;
    let ok = i < rows * KQ;
    phi_s[i] = select(vec4f(0.0), phi_v[select(0u, i, ok)], ok);
  }
  workgroupBarrier();
  var gp: array<f32, KQ * 4u>;
  // @unroll
  for (var qu = 0u; qu < KQ; qu++) {
    let q = scratch[sr + G_OFF / 4u + qu];
    gp[qu * 4u] = q.x;
    gp[qu * 4u + 1u] = q.y;
    gp[qu * 4u + 2u] = q.z;
    gp[qu * 4u + 3u] = q.w;
  }
  let coef = scratch[sr + COEF_OFF / 4u].x;
  // @unroll
  for (var cq = 0u; cq < CO_CQ; cq++) {
    var s: array<f32, XW>;
    // @unroll
    for (var eu = 0u; eu < XW; eu++) {
      var acc = 0.0;
      // @unroll
      for (var pq = 0u; pq < CB_PQ; pq++) {
        // @unroll
        for (var pe = 0u; pe < PW; pe++) {
          acc = fma(phi_s[((cq * XW + eu) * K + pq * PW + pe) / 4u][((cq * XW + eu) * K + pq * PW + pe) % 4u], gp[pq * PW + pe], acc);
        }
      }
      s[eu] = acc;
    }
    // Whole loads lie inside or past `rows` (a multiple of XW).
    let inside = cq * XW < rows;
    let idx = row + cq;
    var gx = fma(FV(coef), select(FV(0.0), FV(x[idx]), inside), fv_pack(s));
    if (live && inside) {
      if (CB_ACCUMULATE != 0u) {
        gx += FV(g_x[idx]);
      }
      g_x[idx] = XV(gx);
    }
  }
}
