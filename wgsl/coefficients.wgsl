// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, forward (SPEC §3), fused: one workgroup per token
// reads the token's state once (coefficients_dot.wgsl) for both v·φ and
// Σ v², then the scale 1/r, α, bias, sigmoid, 2·sigmoid and the Sinkhorn
// projection (sinkhorn_core.wgsl) run in registers and workgroup memory.
// Assembled as sinkhorn_core + coefficients_dot + this file.
//
// Per token, in elements: reads nC (x) + K (bias) (+ nC·K of φ from cache);
// writes n (H_pre) + n (H_post) + n² (H_res) + K + 1 (saved: the logits h
// and 1/r, for the backward; rows padded to a multiple of 8).

struct CoefParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  iterations: u32,
  eps: f32,
  hist_cap: u32,
  norm_eps: f32,
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

/** Row length of `saved`: K + 1 rounded up to a multiple of 8. */
override SAVED_W: u32 = (K + 8u) / 8u * 8u;

@group(0) @binding(0) var<uniform> params: CoefParams;
// Bindings 1 (x) and 2 (φ) are declared in coefficients_dot.wgsl.
/** Bias b, [K]. */
@group(0) @binding(3) var<storage, read> bias: array<f32>;
/** H_pre, [T, n]. */
@group(0) @binding(4) var<storage, read_write> h_pre: array<f32>;
/** H_post, [T, n]. */
@group(0) @binding(5) var<storage, read_write> h_post: array<f32>;
/** H_res, [T, n, n]. */
@group(0) @binding(6) var<storage, read_write> h_res: array<f32>;
/**
 * Saved for the backward, [T, SAVED_W]: per token the logits h (K), 1/r, then
 * padding (rows of a multiple of 8 floats keep token chunks aligned).
 */
@group(0) @binding(7) var<storage, read_write> saved: array<f32>;

/** sigmoid(z) without overflow: every exp() argument is <= 0. */
fn co_sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

/** α of the segment that logit k belongs to: [pre (n), post (n), res (n²)]. */
fn co_alpha(k: u32) -> f32 {
  if (k < N) {
    return params.alpha_pre;
  }
  return select(params.alpha_res, params.alpha_post, k < 2u * N);
}

@compute @workgroup_size(WG)
fn coefficients_forward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t = wg.x + wg.y * nwg.x;
  if (t >= params.tokens) {
    return; // the whole workgroup: uniform
  }
  co_project(t * params.nc, params.nc, true, w);
  let ir = inverseSqrt(co_sum[K] / f32(params.nc) + params.norm_eps);
  let s0 = t * SAVED_W;
  for (var k = w; k < K; k += WG) {
    let h = co_alpha(k) * (co_sum[k] * ir) + bias[k];
    saved[s0 + k] = h;
    if (k < N) {
      h_pre[t * N + k] = co_sigmoid(h);
    } else if (k < 2u * N) {
      h_post[t * N + k - N] = 2.0 * co_sigmoid(h);
    }
    co_sum[k] = h; // only invocation k touches entry k
  }
  if (w == 0u) {
    saved[s0 + K] = ir;
  }
  workgroupBarrier();
  let lane = sk_lane(w, 0u, w < N * N);
  var logit = 0.0;
  if (lane.live) {
    logit = co_sum[2u * N + w];
  }
  let cfg = SkConfig(params.iterations, params.eps, params.hist_cap);
  let hr = sk_forward(logit, lane, cfg);
  if (lane.live) {
    h_res[t * N * N + w] = hr;
  }
}
