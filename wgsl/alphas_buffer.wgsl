// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// The three α of a coefficient site (mHC or HC), read from a storage buffer
// of 3 f32 [α_pre, α_post, α_res], so that they can be parameters updated on
// the GPU. Bound at the kernel's ALPHA_BINDING (the binding after its last
// storage buffer). The host appends this file to a coefficient kernel in
// place of alphas.wgsl; the α fields of the kernel's uniform are then unused.
//
// Per token: reads and writes nothing (3 floats per invocation that asks).

/** [α_pre, α_post, α_res] as f32. */
@group(0) @binding(ALPHA_BINDING) var<storage, read> site_alpha_buffer: array<f32>;

/** [α_pre, α_post, α_res]. */
fn site_alphas() -> vec3f {
  return vec3f(
    site_alpha_buffer[0],
    site_alpha_buffer[1],
    site_alpha_buffer[2],
  );
}
