// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// The three α of a coefficient site (mHC or HC), taken from the kernel's
// uniform: its `params` struct has the fields alpha_pre, alpha_post and
// alpha_res. The host appends this file to a coefficient kernel when α is
// given as numbers; alphas_buffer.wgsl takes its place when α lives in a
// storage buffer.
//
// Per token: reads and writes nothing.

/** [α_pre, α_post, α_res]. */
fn site_alphas() -> vec3f {
  return vec3f(params.alpha_pre, params.alpha_post, params.alpha_res);
}
