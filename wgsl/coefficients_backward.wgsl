// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, backward, per token (SPEC §3). One workgroup per
// token: recomputes p = v·φ (one read of x, coefficients_dot.wgsl), takes the
// gradients of the logits h through sigmoid, 2·sigmoid and the exact
// Sinkhorn backward (sinkhorn_core.wgsl, iterates recomputed on chip), then
//   g_p = g_h·α·(1/r),   g_x = φ·g_p − (Σ_k g_h·α·p) · (1/r)³ / (nC) · v
// (a second read of x). Parameter gradients are not summed here: each token
// writes its g_h, its three α partial sums and its g_p to a scratch row, and
// coefficients_grad_phi.wgsl / column_sums.wgsl reduce them over tokens in a
// fixed order (deterministic, no atomics).
// Assembled as sinkhorn_core + coefficients_dot + this file.
//
// Per token, in elements: reads 2·nC (x, twice) + K + 1 (saved) + 2n + n²
// (upstream gradients) (+ 2·nC·K of φ from cache); writes nC (g_x) +
// 2K + 3 (scratch, rows padded to a multiple of 8).

struct CoefBackParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  iterations: u32,
  eps: f32,
  hist_cap: u32,
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

/** Row length of `saved`: K + 1 rounded up to a multiple of 8. */
override SAVED_W: u32 = (K + 8u) / 8u * 8u;
/** Row length of `scratch`: 2K + 3 rounded up to a multiple of 8. */
override SCRATCH_W: u32 = (2u * K + 10u) / 8u * 8u;

@group(0) @binding(0) var<uniform> params: CoefBackParams;
// Bindings 1 (x) and 2 (φ) are declared in coefficients_dot.wgsl.
/** Saved by the forward, [T, SAVED_W]: the logits h (K), then 1/r. */
@group(0) @binding(3) var<storage, read> saved: array<f32>;
/** Upstream gradient of H_pre, [T, n]. */
@group(0) @binding(4) var<storage, read> g_pre: array<f32>;
/** Upstream gradient of H_post, [T, n]. */
@group(0) @binding(5) var<storage, read> g_post: array<f32>;
/** Upstream gradient of H_res, [T, n, n]. */
@group(0) @binding(6) var<storage, read> g_res: array<f32>;
/** Gradient of x, [T, n, C]. */
@group(0) @binding(7) var<storage, read_write> g_x: array<XT>;
/**
 * Scratch, [T, SCRATCH_W]: per token g_h (K), the α partial sums Σ g_h·m
 * over the pre, post and res segments (3), then g_p (K), then padding.
 */
@group(0) @binding(8) var<storage, read_write> scratch: array<f32>;

/** Gradient of the logits h, then g_p. */
var<workgroup> cb_g: array<f32, 80>;
/** −(Σ_k g_h·α·p) · (1/r)³ / nC: the coefficient of v in g_x. */
var<workgroup> cb_coef: f32;

/** σ(z)·(1 − σ(z)) without overflow. */
fn cb_dsigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  let d = 1.0 + e;
  return e / (d * d);
}

fn cb_alpha(k: u32) -> f32 {
  if (k < N) {
    return params.alpha_pre;
  }
  return select(params.alpha_res, params.alpha_post, k < 2u * N);
}

@compute @workgroup_size(WG)
fn coefficients_backward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t = wg.x + wg.y * nwg.x;
  if (t >= params.tokens) {
    return; // the whole workgroup: uniform
  }
  let nc = params.nc;
  co_project(t * nc, nc, false, w); // co_sum[k] = p_k
  let s0 = t * SAVED_W;
  let ir = saved[s0 + K];
  // Gradients of the pre and post logits.
  for (var k = w; k < 2u * N; k += WG) {
    let z = saved[s0 + k];
    if (k < N) {
      cb_g[k] = g_pre[t * N + k] * cb_dsigmoid(z);
    } else {
      cb_g[k] = g_post[t * N + k - N] * 2.0 * cb_dsigmoid(z);
    }
  }
  // Gradients of the res logits: exact Sinkhorn backward.
  let lane = sk_lane(w, 0u, w < N * N);
  var logit = 0.0;
  var gh = 0.0;
  if (lane.live) {
    logit = saved[s0 + 2u * N + w];
    gh = g_res[t * N * N + w];
  }
  let cfg = SkConfig(params.iterations, params.eps, params.hist_cap);
  let gl = sk_backward(logit, gh, lane, cfg);
  if (lane.live) {
    cb_g[2u * N + w] = gl;
  }
  workgroupBarrier();
  // h = α·p·ir + b: per-logit terms, staged in co_red for fixed-order sums.
  let r0 = t * SCRATCH_W;
  for (var k = w; k < K; k += WG) {
    let g = cb_g[k];
    let p = co_sum[k];
    let gm = g * cb_alpha(k);
    let gp = gm * ir;
    scratch[r0 + k] = g;
    scratch[r0 + K + 3u + k] = gp;
    co_red[k] = gm * p; // → gradient of ir
    co_red[128u + k] = g * (p * ir); // → gradient of α
    cb_g[k] = gp;
  }
  workgroupBarrier();
  if (w == 0u) {
    var gr = 0.0;
    for (var k = 0u; k < K; k++) {
      gr += co_red[k];
    }
    cb_coef = -gr * ir * ir * ir / f32(nc);
    var ga = vec3f(0.0);
    for (var k = 0u; k < K; k++) {
      let v = co_red[128u + k];
      if (k < N) {
        ga.x += v;
      } else if (k < 2u * N) {
        ga.y += v;
      } else {
        ga.z += v;
      }
    }
    scratch[r0 + K] = ga.x;
    scratch[r0 + K + 1u] = ga.y;
    scratch[r0 + K + 2u] = ga.z;
  }
  workgroupBarrier();
  let coef = cb_coef;
  for (var a = w; a < nc; a += WG) {
    let row = a * K;
    var s = 0.0;
    for (var k = 0u; k < K; k++) {
      s = fma(phi[row + k], cb_g[k], s);
    }
    let i = t * nc + a;
    g_x[i] = XT(fma(coef, f32(x[i]), s));
  }
}
