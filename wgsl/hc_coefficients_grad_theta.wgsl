// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// g_θ[r, c] = Σ_t Σ_j G'[t, j, r] · x[t, j, c]: the θ gradient of the HC
// coefficient pass, with G' = G·(1/r_j) from the backward's scratch rows (at
// columns K + 3 + j·(n + 2) + r). Summed over tokens in a fixed order
// (deterministic, no atomics). One workgroup of 64 invocations per block of
// GT_CL channels (all n + 2 rows of θ): GT_CL channel lanes × GT_TL token
// lanes. The dispatch's tokens are walked in chunks of GT_TC: the chunk's
// G' rows are loaded into workgroup memory, then token lane l takes the
// chunk's tokens l, l + GT_TL, … and accumulates n + 2 sums for its channel
// (consecutive channel lanes read consecutive elements of x). A chunk's
// partial is added to the running total (blocked summation); at the end the
// GT_TL lanes are added in order. When the host splits the tokens into
// chunks, the chunks run in order and each after the first adds to the sum
// so far (`accumulate`).
// Assembled as hc_coefficients_core + this file.
//
// Per token, in elements: reads nC (x, once over all workgroups) +
// n·(n + 2)·C / GT_CL (G'); writes nothing per token ((n + 2)·C once per
// dispatch).

struct GradThetaParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** Channels per stream, C. */
  c: u32,
  /** 1: add to g_θ (a later chunk); 0: overwrite it. */
  accumulate: u32,
  /** Row length of the scratch buffer. */
  width: u32,
}

/** Channels per workgroup. */
const GT_CL: u32 = 16u;
/** Token lanes: 64 / GT_CL. */
const GT_TL: u32 = 64u / GT_CL;
/** Tokens per chunk. */
const GT_TC: u32 = 16u;
/** G' values per token: n·(n + 2). */
const GT_G: u32 = N * NR;

@group(0) @binding(0) var<uniform> params: GradThetaParams;
/** Residual states [T, n, C]. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Backward scratch [T, width]; G' is at columns K + 3 … K + 2 + n·(n + 2). */
@group(0) @binding(2) var<storage, read> scratch: array<f32>;
/** g_θ, [n + 2, C]. */
@group(0) @binding(3) var<storage, read_write> g_theta: array<f32>;

/** The chunk's G' rows, [GT_TC][GT_G]. */
var<workgroup> gt_g: array<f32, GT_TC * GT_G>;
/** Each lane's sums, [GT_TL][NR][GT_CL], for the final in-order addition. */
var<workgroup> gt_red: array<f32, GT_TL * NR * GT_CL>;

@compute @workgroup_size(64)
fn hc_coefficients_grad_theta(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let a0 = (wg.x + wg.y * nwg.x) * GT_CL;
  let cc = params.c;
  let tokens = params.tokens;
  let width = params.width;
  let cl = w % GT_CL;
  let tl = w / GT_CL;
  let a = a0 + cl;
  let live = a < cc;
  var acc = array<f32, NR>();
  for (var t0 = 0u; t0 < tokens; t0 += GT_TC) {
    for (var e = w; e < GT_TC * GT_G; e += 64u) {
      let t = e / GT_G;
      let q = e % GT_G;
      var v = 0.0;
      if (t0 + t < tokens) {
        v = scratch[(t0 + t) * width + K + 3u + q];
      }
      gt_g[e] = v;
    }
    workgroupBarrier();
    var part = array<f32, NR>(); // explicit: zeroed on every chunk
    if (live) {
      for (var t = tl; t < GT_TC && t0 + t < tokens; t += GT_TL) {
        for (var j = 0u; j < N; j++) {
          let xv = f32(x[((t0 + t) * N + j) * cc + a]);
          for (var r = 0u; r < NR; r++) {
            part[r] = fma(xv, gt_g[t * GT_G + j * NR + r], part[r]);
          }
        }
      }
    }
    for (var r = 0u; r < NR; r++) {
      acc[r] += part[r];
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < NR; r++) {
    gt_red[(tl * NR + r) * GT_CL + cl] = acc[r];
  }
  workgroupBarrier();
  // Lanes added in order, one (row, channel) at a time per invocation.
  for (var e = w; e < NR * GT_CL; e += 64u) {
    let r = e / GT_CL;
    let c = e % GT_CL;
    if (a0 + c < cc) {
      var s = 0.0;
      for (var l = 0u; l < GT_TL; l++) {
        s += gt_red[(l * NR + r) * GT_CL + c];
      }
      let idx = r * cc + a0 + c;
      if (params.accumulate != 0u) {
        s += g_theta[idx];
      }
      g_theta[idx] = s;
    }
  }
}
