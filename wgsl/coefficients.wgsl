// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, forward (SPEC §3), after the projection blocks
// (coefficients_project.wgsl) have left each token's p = v·φ and Σ v² in its
// row of `saved`: one invocation per token (CO_WG per workgroup) computes
// the scale 1/r, α, bias, sigmoid and 2·sigmoid, and the Sinkhorn projection
// (sinkhorn_core.wgsl), all in registers. No workgroup memory, no barrier.
// Assembled as sinkhorn_core + this file + alphas.wgsl (α from the uniform)
// or alphas_buffer.wgsl (α from a storage buffer at binding 6).
//
// Per token, in elements: reads K + 1 (saved: p, Σ v²) + K (bias); writes
// n (H_pre) + n (H_post) + n² (H_res) + K + 1 (saved: the logits h and 1/r,
// for the backward).

struct CoefParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  iterations: u32,
  tolerance: f32,
  eps: f32,
  norm_eps: f32,
  /** The α, unless they come from a buffer (alphas_buffer.wgsl). */
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

/** Outputs of the projection: n² + 2n. */
const K: u32 = N * N + 2u * N;
/** Tokens (invocations) per workgroup (host-set). */
const CO_WG: u32 = 64u;
/** Row length of `saved` (host-set; a multiple of 8). */
const SAVED_W: u32 = 56u;
/** Offset of p in a row of `saved` (host-set). */
const P_OFF: u32 = 28u;
/** Offset of Σ v² in a row of `saved` (host-set). */
const SQ_OFF: u32 = 52u;
/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 6u;

@group(0) @binding(0) var<uniform> params: CoefParams;
/** Bias b, [K]. */
@group(0) @binding(1) var<storage, read> bias: array<f32>;
/** H_pre, [T, n]. */
@group(0) @binding(2) var<storage, read_write> h_pre: array<f32>;
/** H_post, [T, n]. */
@group(0) @binding(3) var<storage, read_write> h_post: array<f32>;
/** H_res, [T, n, n]. */
@group(0) @binding(4) var<storage, read_write> h_res: array<f32>;
/**
 * Per token [SAVED_W]: the logits h (K, written here), 1/r (written here),
 * the projection p (K, from P_OFF) and Σ v² (at SQ_OFF) from the projection
 * blocks, padding (rows of a multiple of 8 floats keep token chunks
 * aligned).
 */
@group(0) @binding(5) var<storage, read_write> saved: array<f32>;

/** sigmoid(z) without overflow: every exp() argument is <= 0. */
fn co_sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

/**
 * α of the segment that logit k belongs to: [pre (n), post (n), res (n²)];
 * `a` = site_alphas().
 */
fn co_alpha(a: vec3f, k: u32) -> f32 {
  if (k < N) {
    return a.x;
  }
  return select(a.z, a.y, k < 2u * N);
}

@compute @workgroup_size(CO_WG)
fn coefficients_forward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let tokens = params.tokens;
  let t_in = (wg.x + wg.y * nwg.x) * CO_WG + w;
  let t = min(t_in, tokens - 1u); // past the end: compute, store nothing
  let sr = t * SAVED_W;
  let ir = inverseSqrt(saved[sr + SQ_OFF] / f32(params.nc) + params.norm_eps);
  let alphas = site_alphas();
  var h: array<f32, K>;
  for (var k = 0u; k < K; k++) {
    h[k] = co_alpha(alphas, k) * (saved[sr + P_OFF + k] * ir) + bias[k];
  }
  var l: SkMat;
  for (var q = 0u; q < NN; q++) {
    l[q] = h[2u * N + q];
  }
  sk_forward(&l, SkConfig(params.iterations, params.eps, params.tolerance));
  if (t_in < tokens) {
    for (var k = 0u; k < K; k++) {
      saved[sr + k] = h[k];
    }
    saved[sr + K] = ir;
    for (var i = 0u; i < N; i++) {
      h_pre[t * N + i] = co_sigmoid(h[i]);
      h_post[t * N + i] = 2.0 * co_sigmoid(h[N + i]);
    }
    for (var q = 0u; q < NN; q++) {
      h_res[t * NN + q] = l[q];
    }
  }
}
