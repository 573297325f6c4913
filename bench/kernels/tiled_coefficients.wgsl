// Bench copy of wgsl/coefficients.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, forward (SPEC §3), fused: one workgroup per tile of
// CO_TT tokens reads the tile's states once (coefficients_dot.wgsl) for both
// v·φ and Σ v², then the scale 1/r, α, bias, sigmoid and 2·sigmoid run on
// the invocations' micro-tiles, and the Sinkhorn projection
// (sinkhorn_core.wgsl) with one invocation per token, its matrix in
// registers. H_res goes out through workgroup memory, so that consecutive
// invocations store consecutive floats.
// Assembled as sinkhorn_core + coefficients_dot + this file + alphas.wgsl
// (α from the uniform) or alphas_buffer.wgsl (α from a storage buffer at
// binding 8).
//
// Per token, in elements: reads nC (x) + K (bias) + nC·K / CO_TT (φ);
// writes n (H_pre) + n (H_post) + n² (H_res) + K + 1 (saved: the logits h
// and 1/r, for the backward; rows padded to a multiple of 8).

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

/** Row length of `saved`: K + 1 rounded up to a multiple of 8. */
const SAVED_W: u32 = (K + 8u) / 8u * 8u;
/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 8u;

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

/** 1/r of each tile token. */
var<workgroup> co_ir: array<f32, CO_TT>;

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

@compute @workgroup_size(64)
fn coefficients_forward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t0 = (wg.x + wg.y * nwg.x) * CO_TT;
  let tokens = params.tokens;
  if (t0 >= tokens) {
    return; // the whole workgroup: uniform
  }
  let nc = params.nc;
  var sq = CoSq();
  let p = co_project(t0, tokens, nc, w, &sq);
  co_put_squares(sq, w);
  workgroupBarrier();
  if (w < CO_TT) {
    let ir = inverseSqrt(co_sum_squares(w) / f32(nc) + params.norm_eps);
    co_ir[w] = ir;
    if (t0 + w < tokens) {
      saved[(t0 + w) * SAVED_W + K] = ir;
    }
  }
  workgroupBarrier();
  // h = α·p·(1/r) + b on the micro-tile; the logits are staged in co_phi.
  let tg = w / CO_KL;
  let kg = w % CO_KL;
  let alphas = site_alphas();
  for (var i = 0u; i < 4u; i++) {
    let tl = tg + CO_TG * i;
    let t = t0 + tl;
    let ir = co_ir[tl];
    for (var j = 0u; j < CO_KJ; j++) {
      let k = kg + CO_KL * j;
      if (k < K) {
        let h = co_alpha(alphas, k) * (p[j][i] * ir) + bias[k];
        co_phi[tl * CO_KS + k] = h;
        if (t < tokens) {
          saved[t * SAVED_W + k] = h;
          if (k < N) {
            h_pre[t * N + k] = co_sigmoid(h);
          } else if (k < 2u * N) {
            h_post[t * N + k - N] = 2.0 * co_sigmoid(h);
          }
        }
      }
    }
  }
  workgroupBarrier();
  // Sinkhorn: one invocation per token, its matrix in registers.
  if (w < CO_TT && t0 + w < tokens) {
    var l: SkMat;
    for (var q = 0u; q < NN; q++) {
      l[q] = co_phi[w * CO_KS + 2u * N + q];
    }
    sk_forward(&l, SkConfig(params.iterations, params.eps, params.tolerance));
    for (var q = 0u; q < NN; q++) {
      co_phi[w * CO_KS + 2u * N + q] = l[q];
    }
  }
  workgroupBarrier();
  // H_res out through co_phi: consecutive invocations store consecutive floats.
  let count = min(CO_TT, tokens - t0) * NN;
  for (var e = w; e < count; e += 64u) {
    h_res[t0 * NN + e] = co_phi[(e / NN) * CO_KS + 2u * N + e % NN];
  }
}
