// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// What the HC coefficient kernels share (SPEC §6, the unconstrained
// hyper-connections baseline): the sizes, the layout of the logits, the
// `saved` rows and a tanh that cannot overflow. The host prepends this file
// to hc_coefficients.wgsl, hc_coefficients_backward.wgsl and
// hc_coefficients_grad_theta.wgsl, and rewrites N for each pipeline.
//
// Per token: reads and writes nothing (definitions only).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Streams n (the host rewrites this line for each pipeline). */
const N: u32 = 4u;
/** Rows of θ, [n + 2, C]: θ_pre, θ_post, then the n rows of θ_res. */
const NR: u32 = N + 2u;
/** Logits per token: n² + 2n, in the segments [pre (n), post (n), res (n²)]. */
const K: u32 = N * N + 2u * N;
/**
 * Row length of `saved`: per token the logits z (K, in the segment layout),
 * then 1/r of each stream (n), rounded up to a multiple of 8 floats.
 */
const SAVED_W: u32 = (K + N + 7u) / 8u * 8u;

/**
 * Slot in the segment layout of the logit θ_r·x̃_j: row r of θ, stream j.
 * Row 0 → H_pre[j], row 1 → H_post[j], row 2 + i → H_res[i][j].
 */
fn hc_slot(r: u32, j: u32) -> u32 {
  if (r == 0u) {
    return j;
  }
  if (r == 1u) {
    return N + j;
  }
  return 2u * N + (r - 2u) * N + j;
}

/** tanh(z) without overflow: the exp() argument is <= 0. */
fn hc_tanh(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  let t = (1.0 - e) / (1.0 + e);
  return select(-t, t, z >= 0.0);
}

/** α of row r of θ: row 0 α_pre, row 1 α_post, else α_res; a = site_alphas(). */
fn hc_alpha(a: vec3f, r: u32) -> f32 {
  if (r == 0u) {
    return a.x;
  }
  return select(a.z, a.y, r == 1u);
}
