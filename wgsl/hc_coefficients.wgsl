// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// HC coefficient pass, forward (SPEC §6). For each token t and stream j,
// with the per-stream RMS-normalised state x̃_j = x_j / r_j,
// r_j = sqrt(mean(x_j²) + ε_norm):
//   z[r]          = θ_r·x̃_j = (θ_r·x_j)·(1/r_j)      for the n + 2 rows r of θ
//   H_pre[j]      = α_pre ·tanh(z[0])     + b_pre[j]
//   H_post[j]     = α_post·tanh(z[1])     + b_post[j]
//   H_res[i][j]   = α_res ·tanh(z[2 + i]) + b_res[i][j]
// One invocation per (token, stream) row of x: a workgroup of 64 takes 64
// consecutive rows (x is [T, n, C], so they are one contiguous block) and
// walks the channels in chunks of HF_CH through workgroup memory: the rows'
// chunk [64, HF_CH] (consecutive invocations load consecutive elements) and
// θ's columns [HF_CH, n + 2], each θ element serving 64 rows. One read of x
// gives both the n + 2 dot products and Σ x². Sums are blocked: a chunk's
// partial (HF_CH terms) is added to the running total.
// Assembled as hc_coefficients_core + this file + alphas.wgsl (α from the
// uniform) or alphas_buffer.wgsl (α from a storage buffer at binding 8).
//
// Per token, in elements: reads nC (x) + K (bias) + (n + 2)·C·n / 64 (θ);
// writes n (H_pre) + n (H_post) + n² (H_res) + K + n (saved: the logits z
// in the segment layout and 1/r of each stream, for the backward; rows
// padded to a multiple of 8).

struct HcParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** Channels per stream, C. */
  c: u32,
  norm_eps: f32,
  /** The α, unless they come from a buffer (alphas_buffer.wgsl). */
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 8u;
/** Rows of x per workgroup: one per invocation. */
const HF_RT: u32 = 64u;
/** Channels per chunk. */
const HF_CH: u32 = 32u;
/** Row stride of the shared x chunk (odd: no bank conflicts). */
const HF_XS: u32 = HF_CH + 1u;

@group(0) @binding(0) var<uniform> params: HcParams;
/** Residual states [T, n, C] of this dispatch's tokens. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** θ, [n + 2, C] row-major. */
@group(0) @binding(2) var<storage, read> theta: array<f32>;
/** Bias b, [K]. */
@group(0) @binding(3) var<storage, read> bias: array<f32>;
/** H_pre, [T, n]. */
@group(0) @binding(4) var<storage, read_write> h_pre: array<f32>;
/** H_post, [T, n]. */
@group(0) @binding(5) var<storage, read_write> h_post: array<f32>;
/** H_res, [T, n, n]. */
@group(0) @binding(6) var<storage, read_write> h_res: array<f32>;
/** Saved for the backward, [T, SAVED_W]: the logits z (K), then 1/r (n). */
@group(0) @binding(7) var<storage, read_write> saved: array<f32>;

/** The rows' x chunk, [HF_RT][HF_XS]. */
var<workgroup> hf_x: array<f32, HF_RT * HF_XS>;
/** θ's chunk, [HF_CH][NR] (columns past C are 0). */
var<workgroup> hf_th: array<f32, HF_CH * NR>;

@compute @workgroup_size(64)
fn hc_coefficients_forward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r0 = (wg.x + wg.y * nwg.x) * HF_RT;
  let rows = params.tokens * N;
  let cc = params.c;
  var acc = array<f32, NR>();
  var sq = 0.0;
  for (var c0 = 0u; c0 < cc; c0 += HF_CH) {
    for (var i = 0u; i < HF_RT * HF_CH / 64u; i++) {
      let e = w + 64u * i;
      let rl = e / HF_CH;
      let c = e % HF_CH;
      var v = 0.0;
      if (r0 + rl < rows && c0 + c < cc) {
        v = f32(x[(r0 + rl) * cc + c0 + c]);
      }
      hf_x[rl * HF_XS + c] = v;
    }
    for (var e = w; e < HF_CH * NR; e += 64u) {
      let r = e / HF_CH;
      let c = e % HF_CH;
      var v = 0.0;
      if (c0 + c < cc) {
        v = theta[r * cc + c0 + c];
      }
      hf_th[c * NR + r] = v;
    }
    workgroupBarrier();
    var part = array<f32, NR>(); // explicit: zeroed on every chunk
    var psq = 0.0;
    for (var c = 0u; c < HF_CH; c++) {
      let xv = hf_x[w * HF_XS + c];
      psq = fma(xv, xv, psq);
      for (var r = 0u; r < NR; r++) {
        part[r] = fma(xv, hf_th[c * NR + r], part[r]);
      }
    }
    for (var r = 0u; r < NR; r++) {
      acc[r] += part[r];
    }
    sq += psq;
    workgroupBarrier();
  }
  let row = r0 + w;
  if (row < rows) {
    let t = row / N;
    let j = row % N;
    let ir = inverseSqrt(sq / f32(cc) + params.norm_eps);
    saved[t * SAVED_W + K + j] = ir;
    let a = site_alphas();
    for (var r = 0u; r < NR; r++) {
      let z = acc[r] * ir;
      let k = hc_slot(r, j);
      saved[t * SAVED_W + k] = z;
      let h = hc_alpha(a, r) * hc_tanh(z) + bias[k];
      if (r == 0u) {
        h_pre[t * N + j] = h;
      } else if (r == 1u) {
        h_post[t * N + j] = h;
      } else {
        h_res[t * N * N + (r - 2u) * N + j] = h;
      }
    }
  }
}
