// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Standalone Sinkhorn-Knopp kernels over [T, n, n] logits (SPEC §4). Appended
// to sinkhorn_core.wgsl. One invocation per matrix (token), SK_WG matrices
// per workgroup, no workgroup memory and no barrier: an invocation past the
// last token returns at once.
//
// Per token, in elements:
//   sinkhorn_forward:  reads n² (logits)          writes n² (H)
//   sinkhorn_backward: reads 2n² (logits, g_H)    writes n² (g_logits)
// Each invocation reads and writes n² consecutive floats, so the invocations
// of a workgroup together touch one contiguous span of 64·n² floats.
//
// Workgroups are laid out 2D (x + y · num_workgroups.x) so that more than
// 65535 of them can be dispatched; tokens past `tokens` are masked.

/** Matrices (invocations) per workgroup (set by the host: src/gpu/sinkhorn.ts). */
const SK_WG: u32 = 64u;

struct SinkhornParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  iterations: u32,
  eps: f32,
  /** Early-stop tolerance; 0: exactly `iterations` iterations. */
  tolerance: f32,
}

@group(0) @binding(0) var<uniform> params: SinkhornParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;

fn sk_token(local: u32, wg: vec3u, nwg: vec3u) -> u32 {
  return (wg.x + wg.y * nwg.x) * SK_WG + local;
}

fn sk_config() -> SkConfig {
  return SkConfig(params.iterations, params.eps, params.tolerance);
}

fn sk_load_logits(t: u32) -> SkMat {
  var l: SkMat;
  for (var k = 0u; k < NN; k++) {
    l[k] = logits[t * NN + k];
  }
  return l;
}

@compute @workgroup_size(SK_WG)
fn sinkhorn_forward(
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t = sk_token(local, wg, nwg);
  if (t >= params.tokens) {
    return; // no barrier in this kernel
  }
  var l = sk_load_logits(t);
  sk_forward(&l, sk_config());
  for (var k = 0u; k < NN; k++) {
    result[t * NN + k] = l[k];
  }
}

/** Upstream gradient g_H, [T, n, n]; only bound by sinkhorn_backward. */
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;

@compute @workgroup_size(SK_WG)
fn sinkhorn_backward(
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let t = sk_token(local, wg, nwg);
  if (t >= params.tokens) {
    return;
  }
  var g: SkMat;
  for (var k = 0u; k < NN; k++) {
    g[k] = grad_out[t * NN + k];
  }
  let gl = sk_backward(sk_load_logits(t), g, sk_config());
  for (var k = 0u; k < NN; k++) {
    result[t * NN + k] = gl[k];
  }
}
