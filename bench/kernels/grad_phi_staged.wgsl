// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Bench probe (issue 11, bench/coefficient_variants.ts): the library's g_φ
// block with its tokens' g_p first copied into workgroup memory (GP_SB·KQ
// vec4 per invocation, one barrier) and read there at constant indices, as
// the projection does. n = 4 only: it assumes K % 4 == 0 and sub-blocks of
// GP_WG tokens. The rest of this header is the library kernel's own, and
// its "uniform load" of g_p and "no workgroup memory, no barrier" do not
// hold here.
//
// g_φ[a, k] = Σ_t v_t[a] · g_p[t, k]: the φ gradient of the mHC coefficient
// pass, a tall outer-product sum ([nC, T] × [T, K]), summed over tokens in a
// fixed order (deterministic, no atomics). One block of at most GP_TB
// tokens per dispatch: the host binds the block's x rows and scratch rows
// and dispatches the blocks in token order; each adds its sums to g_φ (the
// first block overwrites it).
//
// One invocation per row a of g_φ (GP_WG per workgroup), its K sums in
// registers. The loops marked `@unroll` are unrolled by the host, so every
// g_p index is a constant: one uniform load for the whole workgroup (see
// coefficients_project.wgsl), while the invocations read neighbouring
// elements of each token's row of x (g_p read GPW values per load, host-set:
// it starts at a multiple of 4 in the scratch row). The sums are blocked: a sub-block's
// partial sum (GP_TC tokens) is added to the running total, in order.
// Tokens past `tokens` (a short last block) contribute zeros: their x values
// are replaced by 0 with select(). No workgroup memory, no barrier. g_φ
// rows are read and written GW values at a time (vec4 when K % 4 == 0,
// i.e. n even; host-set).
// Assembled as this file alone; the host sets N, GP_WG, GP_TB, GP_TC, the
// scratch layout and GW, and unrolls.
//
// Per token, in elements: reads nC (x, once over all workgroups) +
// K · nC / GP_WG (g_p); writes nothing per token (nC·K per block).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;
// @vector GW begin
/** Values per access of g_φ: 1, or 4 when K % 4 == 0 (host-set). */
const GW: u32 = 1u;
alias GV = f32;
fn gv_pack(s: array<f32, GW>) -> GV { return s[0]; }
// @vector GW end
// @vector GPW begin
/** Values per uniform load of g_p: 1, or 4 (host-set). */
const GPW: u32 = 1u;
alias GPV = f32;
fn gpv_at(v: GPV, e: u32) -> f32 { return v; }
// @vector GPW end

/** Streams n (host-set). */
const N: u32 = 4u;
const K: u32 = N * N + 2u * N;
/** vec4 that hold K values. */
const KQ: u32 = (K + 3u) / 4u;
/** Accesses of a g_φ row. */
const GQ: u32 = K / GW;
/** Loads of g_p per token (K padded to KQ vec4). */
const GPQ: u32 = KQ * 4u / GPW;
/** Rows of g_φ (invocations) per workgroup (host-set). */
const GP_WG: u32 = 32u;
/** Tokens per block (host-set; a multiple of GP_TC). */
const GP_TB: u32 = 64u;
/** Tokens per sub-block of the blocked sums (host-set). */
const GP_TC: u32 = 32u;
/** Sub-blocks per block. */
const GP_SB: u32 = GP_TB / GP_TC;
/** Row length of `scratch` (host-set; a multiple of 8). */
const SCRATCH_W: u32 = 56u;
/** Offset of g_p in a scratch row (host-set; a multiple of 4). */
const G_OFF: u32 = 28u;

struct GradPhiParams {
  /** Tokens of this block (at most GP_TB). */
  tokens: u32,
  /** n·C. */
  nc: u32,
  /** 1: add to g_φ (a later block); 0: overwrite it. */
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> params: GradPhiParams;
/** Residual states of the block's tokens, [tokens, n, C]. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/**
 * Backward scratch of the block's tokens, [tokens, SCRATCH_W], GPW values
 * per element; g_p from G_OFF (K values padded to KQ vec4).
 */
@group(0) @binding(2) var<storage, read> scratch: array<vec4<f32>>;
/** g_φ, [nC, K], GW values per element. */
@group(0) @binding(3) var<storage, read_write> g_phi: array<GV>;

/** g_p of the block's tokens, [GP_TB, KQ] vec4, zero past `tokens`. */
var<workgroup> gp_s: array<vec4<f32>, GP_TB * KQ>;

@compute @workgroup_size(GP_WG)
fn coefficients_grad_phi(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let nc = params.nc;
  let tokens = params.tokens;
  let a_in = (wg.x + wg.y * nwg.x) * GP_WG + w;
  // Rows past nC compute on the last row (loads in bounds) and store nothing.
  let a = min(a_in, nc - 1u);
  // @unroll
  for (var sb = 0u; sb < GP_SB; sb++) {
    // @unroll
    for (var qu = 0u; qu < KQ; qu++) {
      let i = (sb * KQ + qu) * GP_WG + w;
      let j = i / KQ;
      let ok = j < tokens;
      gp_s[i] = select(vec4f(0.0), scratch[select(0u, j * (SCRATCH_W / 4u) + G_OFF / 4u + i % KQ, ok)], ok);
    }
  }
  workgroupBarrier();
  var acc: array<f32, KQ * 4u>;
  // @unroll
  for (var sb = 0u; sb < GP_SB; sb++) {
    var part = array<f32, KQ * 4u>(); // explicit: zeroed on every sub-block
    // @unroll
    for (var tu = 0u; tu < GP_TC; tu++) {
      let j = sb * GP_TC + tu;
      let v = select(0.0, f32(x[min(j, tokens - 1u) * nc + a]), j < tokens);
      // @unroll
      for (var qu = 0u; qu < GPQ; qu++) {
        // @unroll
        for (var pe = 0u; pe < GPW; pe++) {
          let ku = qu * GPW + pe;
          part[ku] = fma(v, gp_s[(j * KQ * 4u + ku) / 4u][(j * KQ * 4u + ku) % 4u], part[ku]);
        }
      }
    }
    // @unroll
    for (var ku = 0u; ku < K; ku++) {
      acc[ku] += part[ku];
    }
  }
  if (a_in < nc) {
    // @unroll
    for (var gq = 0u; gq < GQ; gq++) {
      let idx = a * GQ + gq;
      var s: array<f32, GW>;
      // @unroll
      for (var eu = 0u; eu < GW; eu++) {
        s[eu] = acc[gq * GW + eu];
      }
      var o = gv_pack(s);
      if (params.accumulate != 0u) {
        o += g_phi[idx];
      }
      g_phi[idx] = o;
    }
  }
}
