// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// HC coefficient pass, backward, per tile of HB_TT tokens (SPEC §6). With
// u the upstream gradient of a coefficient, z its saved logit θ_r·x̃_j and
// th = tanh(z):
//   g_b = u,  g_α(segment) = Σ u·th,  g_z = G = u·α·(1 − th²);
//   g_θ_r = Σ_j G·x̃_j  (summed over tokens by hc_coefficients_grad_theta);
//   g_x_j = (1/r_j)·Σ_r G_r·θ_r − (Σ_r G_r·z_r)·(1/r_j)²/C · x_j
// (the second term is the RMSNorm's: Σ_c (Σ_r G_r θ_rc)·x_jc = Σ_r G_r z_r·r_j,
// so no second pass over x is needed). With HB_ACCUMULATE = 1 (the host
// rewrites the constant) g_x is added to the buffer's values (read, add in
// f32, store) instead of overwriting them.
// Parameter gradients are not summed here: each token writes u (K), its
// three Σ u·th (3) and G·(1/r_j) for every (stream, row of θ) (n·(n + 2)) to
// a scratch row; hc_coefficients_grad_theta.wgsl and column_sums.wgsl
// reduce them over tokens in a fixed order (deterministic, no atomics).
// Assembled as hc_coefficients_core + this file + alphas.wgsl (α from the
// uniform) or alphas_buffer.wgsl (α from a storage buffer at binding 9).
//
// Per token, in elements: reads nC (x) + K + n (saved) + 2n + n² (upstream
// gradients) + (n + 2)·nC (θ, mostly from cache), + nC (g_x) when
// accumulating; writes nC (g_x) + K + 3 + n·(n + 2) (scratch, rows padded to
// a multiple of 8).

struct HcBackParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** Channels per stream, C. */
  c: u32,
  /** The α, unless they come from a buffer (alphas_buffer.wgsl). */
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 9u;
/** 1: add g_x to the buffer's values; 0: overwrite them (host-rewritten). */
const HB_ACCUMULATE: u32 = 0u;
/** Tokens per workgroup. */
const HB_TT: u32 = 8u;
/** Row length of `scratch`: K + 3 + n·(n + 2) rounded up to a multiple of 8. */
const SCRATCH_W: u32 = (K + 3u + N * NR + 7u) / 8u * 8u;

@group(0) @binding(0) var<uniform> params: HcBackParams;
/** Residual states [T, n, C] given to the forward. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** θ, [n + 2, C] row-major. */
@group(0) @binding(2) var<storage, read> theta: array<f32>;
/** Saved by the forward, [T, SAVED_W]: the logits z (K), then 1/r (n). */
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
 * Scratch, [T, SCRATCH_W]: per token u (K, segment layout), Σ u·th over the
 * pre, post and res segments (3), then G·(1/r_j) at K + 3 + j·(n + 2) + r,
 * then padding.
 */
@group(0) @binding(8) var<storage, read_write> scratch: array<f32>;

/** G = u·α·(1 − th²) of each tile token's logits, [HB_TT][K]. */
var<workgroup> hb_g: array<f32, HB_TT * K>;
/** u·th, [HB_TT][K]. */
var<workgroup> hb_a: array<f32, HB_TT * K>;
/** G·z, [HB_TT][K]. */
var<workgroup> hb_s: array<f32, HB_TT * K>;
/** 1/r_j of each tile token and stream, [HB_TT][N]. */
var<workgroup> hb_ir: array<f32, HB_TT * N>;
/** −(Σ_r G_r z_r)·(1/r_j)²/C: the coefficient of x_j in g_x_j, [HB_TT][N]. */
var<workgroup> hb_cf: array<f32, HB_TT * N>;

@compute @workgroup_size(64)
fn hc_coefficients_backward(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t0 = (wg.x + wg.y * nwg.x) * HB_TT;
  let tokens = params.tokens;
  let cc = params.c;
  let a = site_alphas();
  // 1. Per (token, logit): u, th, G; u and G·(1/r_j) go to the scratch row.
  for (var e = w; e < HB_TT * K; e += 64u) {
    let tl = e / K;
    let k = e % K;
    let t = t0 + tl;
    var g = 0.0;
    var ga = 0.0;
    var gs = 0.0;
    if (t < tokens) {
      var u: f32;
      var r: u32;
      var j: u32;
      if (k < N) {
        u = g_pre[t * N + k];
        r = 0u;
        j = k;
      } else if (k < 2u * N) {
        u = g_post[t * N + k - N];
        r = 1u;
        j = k - N;
      } else {
        let q = k - 2u * N;
        u = g_res[t * N * N + q];
        r = 2u + q / N;
        j = q % N;
      }
      let z = saved[t * SAVED_W + k];
      let th = hc_tanh(z);
      g = u * hc_alpha(a, r) * (1.0 - th * th);
      ga = u * th;
      gs = g * z;
      scratch[t * SCRATCH_W + k] = u;
      scratch[t * SCRATCH_W + K + 3u + j * NR + r] =
        g * saved[t * SAVED_W + K + j];
    }
    hb_g[e] = g;
    hb_a[e] = ga;
    hb_s[e] = gs;
  }
  workgroupBarrier();
  // 2. Per (token, stream): 1/r and the coefficient of x in g_x.
  for (var e = w; e < HB_TT * N; e += 64u) {
    let tl = e / N;
    let j = e % N;
    let t = t0 + tl;
    var ir = 0.0;
    var cf = 0.0;
    if (t < tokens) {
      ir = saved[t * SAVED_W + K + j];
      var s = 0.0;
      for (var r = 0u; r < NR; r++) {
        s += hb_s[tl * K + hc_slot(r, j)];
      }
      cf = -s * ir * ir / f32(cc);
    }
    hb_ir[e] = ir;
    hb_cf[e] = cf;
  }
  // Per token: Σ u·th over each segment, in order.
  if (w < HB_TT && t0 + w < tokens) {
    var s = vec3f(0.0);
    for (var k = 0u; k < K; k++) {
      let v = hb_a[w * K + k];
      if (k < N) {
        s.x += v;
      } else if (k < 2u * N) {
        s.y += v;
      } else {
        s.z += v;
      }
    }
    let t = t0 + w;
    scratch[t * SCRATCH_W + K] = s.x;
    scratch[t * SCRATCH_W + K + 1u] = s.y;
    scratch[t * SCRATCH_W + K + 2u] = s.z;
  }
  workgroupBarrier();
  // 3. g_x over the tile's rows: they are one contiguous block of x, so
  // consecutive invocations store consecutive elements.
  var count = 0u;
  if (t0 < tokens) {
    count = min(HB_TT, tokens - t0) * N * cc;
  }
  let base = t0 * N * cc;
  for (var e = w; e < count; e += 64u) {
    let q = e / cc; // tile row: token q / N, stream q % N
    let c = e % cc;
    let tl = q / N;
    let j = q % N;
    var s = 0.0;
    for (var r = 0u; r < NR; r++) {
      s = fma(hb_g[tl * K + hc_slot(r, j)], theta[r * cc + c], s);
    }
    let idx = base + e;
    var gx = fma(hb_cf[q], f32(x[idx]), hb_ir[q] * s);
    if (HB_ACCUMULATE != 0u) {
      gx += f32(g_x[idx]);
    }
    g_x[idx] = XT(gx);
  }
}
