// Bench copy of wgsl/coefficients_backward.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// mHC coefficient pass, backward, per tile of CO_TT tokens (SPEC §3):
//   1. the gradients g_h of the logits: through sigmoid and 2·sigmoid, and
//      the exact Sinkhorn backward (sinkhorn_core.wgsl, one invocation per
//      token, iterates recomputed in registers);
//   2. p = v·φ recomputed (one read of x, coefficients_dot.wgsl), then
//      g_p = g_h·α·(1/r) and the per-token sums Σ_k g_h·α·p (gradient of 1/r)
//      and Σ_k g_h·p·(1/r) per segment (gradients of the α), each summed
//      over an invocation's outputs, then over the CO_KL lanes in order;
//   3. g_x = φ·g_p − (Σ_k g_h·α·p) · (1/r)³ / (nC) · v (a second read of x),
//      φ walked in chunks of CO_CH rows through workgroup memory, each
//      invocation computing 4 tokens × CO_CH / CO_KL entries of g_x
//      (consecutive invocations store consecutive elements).
// Parameter gradients are not summed here: each token writes its g_h, its
// three α partial sums and its g_p to a scratch row, and
// coefficients_grad_phi.wgsl / column_sums.wgsl reduce them over tokens in a
// fixed order (deterministic, no atomics).
// With CB_ACCUMULATE = 1 (the host rewrites the constant) g_x is added to
// the buffer's values instead of overwriting them (read, add in f32, store).
// Assembled as sinkhorn_core + coefficients_dot + this file + alphas.wgsl
// (α from the uniform) or alphas_buffer.wgsl (α from a storage buffer at
// binding 9).
//
// Per token, in elements: reads 2·nC (x, twice) + K + 1 (saved) + 2n + n²
// (upstream gradients) + 2·nC·K / CO_TT (φ), + nC (g_x) when accumulating;
// writes nC (g_x) + 2K + 3 (scratch, rows padded to a multiple of 8).

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

/** Row length of `saved`: K + 1 rounded up to a multiple of 8. */
const SAVED_W: u32 = (K + 8u) / 8u * 8u;
/** Row length of `scratch`: 2K + 3 rounded up to a multiple of 8. */
const SCRATCH_W: u32 = (2u * K + 10u) / 8u * 8u;
/** Binding of the α buffer, when alphas_buffer.wgsl is appended. */
const ALPHA_BINDING: u32 = 9u;
/** 1: add g_x to the buffer's values; 0: overwrite them (host-rewritten). */
const CB_ACCUMULATE: u32 = 0u;

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

/** Gradient of the logits h, then g_p, [CO_TT][CO_KS]. */
var<workgroup> cb_g: array<f32, CO_TT * CO_KS>;
/** 1/r of each tile token. */
var<workgroup> cb_ir: array<f32, CO_TT>;
/**
 * Per (token, output lane) partial sums: (Σ g_h·α·p, then Σ g_h·p·(1/r) over
 * the pre, post and res segments).
 */
var<workgroup> cb_red: array<vec4f, CO_TT * CO_KL>;
/** −(Σ_k g_h·α·p) · (1/r)³ / nC per tile token: the coefficient of v in g_x. */
var<workgroup> cb_coef: array<f32, CO_TT>;

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

@compute @workgroup_size(64)
fn coefficients_backward(
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
  // 1. Gradients of the res logits (exact Sinkhorn backward), one
  // invocation per token, and 1/r.
  if (w < CO_TT) {
    let t = t0 + w;
    var gl = SkMat();
    var ir = 0.0;
    if (t < tokens) {
      var l: SkMat;
      var g: SkMat;
      for (var q = 0u; q < NN; q++) {
        l[q] = saved[t * SAVED_W + 2u * N + q];
        g[q] = g_res[t * NN + q];
      }
      gl = sk_backward(l, g, SkConfig(params.iterations, params.eps, params.tolerance));
      ir = saved[t * SAVED_W + K];
    }
    for (var q = 0u; q < NN; q++) {
      cb_g[w * CO_KS + 2u * N + q] = gl[q];
    }
    cb_ir[w] = ir;
  }
  // Gradients of the pre and post logits.
  for (var e = w; e < CO_TT * 2u * N; e += 64u) {
    let tl = e / (2u * N);
    let k = e % (2u * N);
    let t = t0 + tl;
    var v = 0.0;
    if (t < tokens) {
      let z = saved[t * SAVED_W + k];
      if (k < N) {
        v = g_pre[t * N + k] * cb_dsigmoid(z);
      } else {
        v = g_post[t * N + k - N] * 2.0 * cb_dsigmoid(z);
      }
    }
    cb_g[tl * CO_KS + k] = v;
  }
  // 2. p = v·φ; its first barrier publishes cb_g and cb_ir.
  var sq = CoSq();
  let p = co_project(t0, tokens, nc, w, &sq);
  let tg = w / CO_KL;
  let kg = w % CO_KL;
  let alphas = site_alphas();
  for (var i = 0u; i < 4u; i++) {
    let tl = tg + CO_TG * i;
    let t = t0 + tl;
    let ir = cb_ir[tl];
    var r = vec4f(0.0);
    for (var j = 0u; j < CO_KJ; j++) {
      let k = kg + CO_KL * j;
      if (k < K) {
        let g = cb_g[tl * CO_KS + k];
        let pk = p[j][i];
        let gm = g * cb_alpha(alphas, k);
        let gp = gm * ir;
        if (t < tokens) {
          scratch[t * SCRATCH_W + k] = g;
          scratch[t * SCRATCH_W + K + 3u + k] = gp;
        }
        r.x += gm * pk; // → gradient of 1/r
        let ga = g * (pk * ir); // → gradient of α
        if (k < N) {
          r.y += ga;
        } else if (k < 2u * N) {
          r.z += ga;
        } else {
          r.w += ga;
        }
        cb_g[tl * CO_KS + k] = gp; // only this invocation touches (tl, k)
      }
    }
    cb_red[tl * CO_KL + kg] = r;
  }
  workgroupBarrier();
  if (w < CO_TT) {
    var r = vec4f(0.0);
    for (var q = 0u; q < CO_KL; q++) {
      r += cb_red[w * CO_KL + q];
    }
    let ir = cb_ir[w];
    cb_coef[w] = -r.x * ir * ir * ir / f32(nc);
    let t = t0 + w;
    if (t < tokens) {
      scratch[t * SCRATCH_W + K] = r.y;
      scratch[t * SCRATCH_W + K + 1u] = r.z;
      scratch[t * SCRATCH_W + K + 2u] = r.w;
    }
  }
  workgroupBarrier();
  // 3. g_x = φ·g_p + coef·v: invocation w takes the 4 tokens of its group
  // and the chunk's columns w % CO_KL + CO_KL·j.
  let coef = vec4f(
    cb_coef[tg],
    cb_coef[tg + CO_TG],
    cb_coef[tg + 2u * CO_TG],
    cb_coef[tg + 3u * CO_TG],
  );
  for (var a0 = 0u; a0 < nc; a0 += CO_CH) {
    co_load_phi(a0, nc, w);
    workgroupBarrier();
    var s = array<vec4f, CO_CH / CO_KL>(); // zeroed per chunk
    for (var k = 0u; k < K; k++) {
      let gv = vec4f(
        cb_g[tg * CO_KS + k],
        cb_g[(tg + CO_TG) * CO_KS + k],
        cb_g[(tg + 2u * CO_TG) * CO_KS + k],
        cb_g[(tg + 3u * CO_TG) * CO_KS + k],
      );
      for (var j = 0u; j < CO_CH / CO_KL; j++) {
        s[j] = fma(vec4f(co_phi[(kg + CO_KL * j) * CO_KS + k]), gv, s[j]);
      }
    }
    for (var i = 0u; i < 4u; i++) {
      let t = t0 + tg + CO_TG * i;
      for (var j = 0u; j < CO_CH / CO_KL; j++) {
        let a = a0 + kg + CO_KL * j;
        if (t < tokens && a < nc) {
          let idx = t * nc + a;
          var gx = fma(coef[i], f32(x[idx]), s[j][i]);
          if (CB_ACCUMULATE != 0u) {
            gx += f32(g_x[idx]);
          }
          g_x[idx] = XT(gx);
        }
      }
    }
    workgroupBarrier();
  }
}
