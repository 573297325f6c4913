// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// The projection p = v·φ of the mHC coefficient pass (SPEC §3), one block
// of rows of φ per dispatch: v = vec(x) of a token (length nC), φ [nC, K]
// row-major, K = n² + 2n. The host binds rows c0 … c0 + CO_CB − 1 of φ (the
// last block may be shorter: `rows`) and dispatches the blocks in order;
// each adds its share to the token's running p and Σ v², kept in the
// token's row of `saved`. The first block overwrites them.
//
// One invocation per token (CO_WG per workgroup), its sums in registers:
// CO_KG of the K outputs per pass over the block (host-set), K / CO_KG
// passes.
// The workgroup first copies the block of φ into workgroup memory (each
// invocation CO_SQ loads of PW values, zeros past `rows`), then every loop
// marked `@unroll` is unrolled by the host, so every read of that copy is
// at a constant index, outside control flow: the same element for the
// whole workgroup. On a CPU adapter such as lavapipe such a read is one
// load broadcast to the SIMD lanes (an operand of the multiply itself),
// with no bounds check; a per-invocation load would cost a loop over the
// lanes, and a constant-index read of a storage buffer costs a bounds
// check and a branch per value (bench/RESULTS.md, "Where the time goes").
// The sums are blocked: a sub-block's partial sum (CO_CH terms) is added
// to the running total, in order: deterministic, and the float32 error
// stays small for large nC.
// Per-invocation loads are few and wide: x is read XW channels at a time
// (vec4 when C % 4 == 0, host-set; scalar otherwise), the running sums as
// vec4 (p starts at a multiple of 4 in the row, padded to whole vec4), and
// φ PW values at a time (vec4 when K % 4 == 0, host-set).
// In the last block, which may be shorter, rows past `rows` contribute
// zeros: their x values are replaced by 0 with select(), and their copy of
// φ is zero.
// Assembled as this file alone; the host sets N, CO_WG, CO_CB, CO_CH,
// CO_KG, the layout of `saved` and the widths of x and φ, and unrolls.
//
// Per token and block, in elements: reads CO_CB (x) + 4·KQ + 4 (the running
// sums, except for the first block) + CO_CB·K / CO_WG (φ, copied once per
// workgroup); writes 4·KQ + 4.

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
/** Values per load of φ into workgroup memory: 1, or 4 when K % 4 == 0 (host-set). */
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
/** Rows of φ per block (host-set; a multiple of CO_CH). */
const CO_CB: u32 = 64u;
/** Terms per sub-block of the blocked sums (host-set; a multiple of XW). */
const CO_CH: u32 = 32u;
/** Sub-blocks per block. */
const CO_SB: u32 = CO_CB / CO_CH;
/**
 * Outputs summed per pass over the block (host-set; divides K): fewer
 * running sums than registers, at the price of reading x K / CO_KG times.
 */
const CO_KG: u32 = 24u;
/** Passes over the block. */
const CO_GN: u32 = K / CO_KG;
/** Outputs per pass, in loads of PW. */
const CO_PQ: u32 = CO_KG / PW;
/** Loads of φ (PW values each) per block. */
const CO_PV: u32 = CO_CB * K / PW;
/** Loads of φ per invocation to copy the block into workgroup memory. */
const CO_SQ: u32 = (CO_PV + CO_WG - 1u) / CO_WG;
/** Loads of x per sub-block. */
const CO_CQ: u32 = CO_CH / XW;
/** Row length of `saved` (host-set; a multiple of 8). */
const SAVED_W: u32 = 56u;
/** Offset of p in a row of `saved` (host-set; a multiple of 4). */
const P_OFF: u32 = 28u;
/** Offset of Σ v² in a row of `saved` (host-set; a multiple of 4). */
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
/** Residual states [T, n, C] of this dispatch's tokens, XW per element. */
@group(0) @binding(1) var<storage, read> x: array<XV>;
/** Rows c0 … c0 + rows − 1 of φ, [rows, K] row-major, PW per element. */
@group(0) @binding(2) var<storage, read> phi: array<PV>;
/**
 * Per token [SAVED_W / 4] vec4: the logits h and 1/r (not touched here),
 * the running p (from P_OFF, K values padded to KQ vec4), the running Σ v²
 * (at SQ_OFF), padding.
 */
@group(0) @binding(3) var<storage, read_write> saved: array<vec4<f32>>;

/** The block of φ, [CO_CB, K] row-major, PW per element; zeros past `rows`. */
var<workgroup> phi_w: array<PV, CO_SQ * CO_WG>;

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
  // nC and c0 are multiples of XW (the host picks XW = 4 only then).
  let row = (t * params.nc + params.c0) / XW;
  let rows = params.rows;
  let sr = t * (SAVED_W / 4u);
  let first = params.first != 0u;
  // The copy of φ: load i of the block (rows·K / PW loads are bound).
  // @unroll
  for (var su = 0u; su < CO_SQ; su++) {
    let i = su * CO_WG + w;
    let ok = i < rows * K / PW;
    phi_w[i] = select(PV(0.0), phi[select(0u, i, ok)], ok);
  }
  workgroupBarrier();
  var p: array<f32, KQ * 4u>;
  // @unroll
  for (var qu = 0u; qu < KQ; qu++) {
    let q = select(saved[sr + P_OFF / 4u + qu], vec4f(0.0), first);
    p[qu * 4u] = q.x;
    p[qu * 4u + 1u] = q.y;
    p[qu * 4u + 2u] = q.z;
    p[qu * 4u + 3u] = q.w;
  }
  var sq = select(saved[sr + SQ_OFF / 4u].x, 0.0, first);
  // @unroll
  for (var gu = 0u; gu < CO_GN; gu++) {
    // @unroll
    for (var sb = 0u; sb < CO_SB; sb++) {
      var part = array<f32, CO_KG>(); // explicit: zeroed on every sub-block
      var psq = 0.0;
      // @unroll
      for (var cq = 0u; cq < CO_CQ; cq++) {
        let xv = FV(x[row + sb * CO_CQ + cq]);
        // @unroll
        for (var eu = 0u; eu < XW; eu++) {
          let ci = (sb * CO_CQ + cq) * XW + eu;
          let v = select(0.0, fv_at(xv, eu), ci < rows);
          if (gu == 0u) {
            psq = fma(v, v, psq);
          }
          // @unroll
          for (var pq = 0u; pq < CO_PQ; pq++) {
            // @unroll
            for (var pe = 0u; pe < PW; pe++) {
              let ku = pq * PW + pe;
              // Read in place at a constant index: on lavapipe a
              // broadcast operand of the multiply.
              let f = pv_at(phi_w[(ci * K + gu * CO_KG) / PW + pq], pe);
              part[ku] = fma(v, f, part[ku]);
            }
          }
        }
      }
      // @unroll
      for (var ku = 0u; ku < CO_KG; ku++) {
        p[gu * CO_KG + ku] += part[ku];
      }
      if (gu == 0u) {
        sq += psq;
      }
    }
  }
  if (t_in < tokens) {
    // @unroll
    for (var qu = 0u; qu < KQ; qu++) {
      saved[sr + P_OFF / 4u + qu] = vec4f(
        p[qu * 4u],
        p[qu * 4u + 1u],
        p[qu * 4u + 2u],
        p[qu * 4u + 3u],
      );
    }
    saved[sr + SQ_OFF / 4u] = vec4f(sq, 0.0, 0.0, 0.0);
  }
}
