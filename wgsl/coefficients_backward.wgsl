// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, backward, per token (SPEC §3), one invocation per
// token (CO_WG per workgroup), all in registers:
//   1. the gradients g_h of the logits: through sigmoid and 2·sigmoid, and
//      the exact Sinkhorn backward (sinkhorn_core.wgsl, iterates recomputed
//      in registers);
//   2. with the forward's projection p and 1/r (from `saved`): g_p =
//      g_h·α·(1/r), the sum Σ_k g_h·α·p (gradient of 1/r) and the sums
//      Σ_k g_h·p·(1/r) per segment (gradients of the α);
// and writes them to the token's scratch row: g_h (K), the three α partial
// sums, g_p (K, from G_OFF), and the coefficient of v in g_x,
// −(Σ_k g_h·α·p)·(1/r)³/nC (at COEF_OFF).
// coefficients_grad_x.wgsl then forms g_x = φ·g_p + coef·v, and
// coefficients_grad_phi.wgsl / column_sums.wgsl sum the parameter
// gradients over tokens in a fixed order (deterministic, no atomics).
// No workgroup memory, no barrier.
// Assembled as sinkhorn_core + this file + alphas.wgsl (α from the uniform)
// or alphas_buffer.wgsl (α from a storage buffer at binding 6).
//
// Per token, in elements: reads 2K + 1 (saved: h, 1/r, p) + 2n + n²
// (upstream gradients); writes 2K + 4 (scratch, rows padded to a multiple
// of 8).

struct CoefBackParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  iterations: u32,
  tolerance: f32,
  eps: f32,
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
/** Row length of `scratch` (host-set; a multiple of 8). */
const SCRATCH_W: u32 = 56u;
/** Offset of g_p in a scratch row (host-set). */
const G_OFF: u32 = 28u;
/** Offset of the coefficient of v in a scratch row (host-set). */
const COEF_OFF: u32 = 52u;
/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 6u;

@group(0) @binding(0) var<uniform> params: CoefBackParams;
/** Saved by the forward, [T, SAVED_W]: the logits h (K), 1/r, p (K, from P_OFF). */
@group(0) @binding(1) var<storage, read> saved: array<f32>;
/** Upstream gradient of H_pre, [T, n]. */
@group(0) @binding(2) var<storage, read> g_pre: array<f32>;
/** Upstream gradient of H_post, [T, n]. */
@group(0) @binding(3) var<storage, read> g_post: array<f32>;
/** Upstream gradient of H_res, [T, n, n]. */
@group(0) @binding(4) var<storage, read> g_res: array<f32>;
/**
 * Scratch, [T, SCRATCH_W]: per token g_h (K), the α partial sums Σ g_h·m
 * over the pre, post and res segments (3), g_p (K, from G_OFF), the
 * coefficient of v in g_x (at COEF_OFF), padding.
 */
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>;

/** σ(z)·(1 − σ(z)) without overflow. */
fn cb_dsigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  let d = 1.0 + e;
  return e / (d * d);
}

/** α of the segment of logit k; `a` = site_alphas(). */
fn cb_alpha(a: vec3f, k: u32) -> f32 {
  if (k < N) {
    return a.x;
  }
  return select(a.z, a.y, k < 2u * N);
}

@compute @workgroup_size(CO_WG)
fn coefficients_backward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let tokens = params.tokens;
  let t_in = (wg.x + wg.y * nwg.x) * CO_WG + w;
  let t = min(t_in, tokens - 1u); // past the end: compute, store nothing
  let sr = t * SAVED_W;
  // 1. Gradients of the res logits (exact Sinkhorn backward).
  var l: SkMat;
  var g: SkMat;
  for (var q = 0u; q < NN; q++) {
    l[q] = saved[sr + 2u * N + q];
    g[q] = g_res[t * NN + q];
  }
  let gl = sk_backward(l, g, SkConfig(params.iterations, params.eps, params.tolerance));
  // 2. g_p and the sums for 1/r and the α.
  let ir = saved[sr + K];
  let alphas = site_alphas();
  var gh: array<f32, K>;
  var gp: array<f32, K>;
  var r = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    if (k < N) {
      gh[k] = g_pre[t * N + k] * cb_dsigmoid(saved[sr + k]);
    } else if (k < 2u * N) {
      gh[k] = g_post[t * N + k - N] * 2.0 * cb_dsigmoid(saved[sr + k]);
    } else {
      gh[k] = gl[k - 2u * N];
    }
    let pk = saved[sr + P_OFF + k];
    let gm = gh[k] * cb_alpha(alphas, k);
    gp[k] = gm * ir;
    r.x += gm * pk; // → gradient of 1/r
    let ga = gh[k] * (pk * ir); // → gradient of α
    if (k < N) {
      r.y += ga;
    } else if (k < 2u * N) {
      r.z += ga;
    } else {
      r.w += ga;
    }
  }
  if (t_in < tokens) {
    let row = t * SCRATCH_W;
    for (var k = 0u; k < K; k++) {
      scratch[row + k] = gh[k];
      scratch[row + G_OFF + k] = gp[k];
    }
    scratch[row + K] = r.y;
    scratch[row + K + 1u] = r.z;
    scratch[row + K + 2u] = r.w;
    scratch[row + COEF_OFF] = -r.x * ir * ir * ir / f32(params.nc);
  }
}
