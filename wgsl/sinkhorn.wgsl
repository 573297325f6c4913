// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Standalone Sinkhorn-Knopp kernels over [T, n, n] logits (SPEC §4). Appended
// to sinkhorn_core.wgsl. Workgroup: 64 invocations = SK_TPW matrices of N²
// entries, one entry per invocation (SK_TPW = floor(64 / N²)).
//
// Per token, in elements:
//   sinkhorn_forward:  reads n² (logits)          writes n² (H)
//   sinkhorn_backward: reads 2n² (logits, g_H)    writes n² (g_logits)
//
// Workgroups are laid out 2D (x + y · num_workgroups.x) so that more than
// 65535 of them can be dispatched; tokens past `tokens` are masked.

struct SinkhornParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  iterations: u32,
  eps: f32,
  hist_cap: u32,
}

@group(0) @binding(0) var<uniform> params: SinkhornParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;

/** Lane of this invocation and the flat index of its entry. */
struct SkSite {
  lane: SkLane,
  index: u32,
}

fn sk_site(local: u32, wg: vec3u, nwg: vec3u) -> SkSite {
  let slot = local / (N * N);
  let token = (wg.x + wg.y * nwg.x) * SK_TPW + slot;
  let valid = slot < SK_TPW && token < params.tokens;
  let lane = sk_lane(local, slot, valid);
  return SkSite(lane, token * N * N + lane.i * N + lane.j);
}

fn sk_config() -> SkConfig {
  return SkConfig(params.iterations, params.eps, params.hist_cap);
}

@compute @workgroup_size(64)
fn sinkhorn_forward(
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let site = sk_site(local, wg, nwg);
  var logit = 0.0;
  if (site.lane.live) {
    logit = logits[site.index];
  }
  let h = sk_forward(logit, site.lane, sk_config());
  if (site.lane.live) {
    result[site.index] = h;
  }
}

/** Upstream gradient g_H, [T, n, n]; only bound by sinkhorn_backward. */
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;

@compute @workgroup_size(64)
fn sinkhorn_backward(
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let site = sk_site(local, wg, nwg);
  var logit = 0.0;
  var g = 0.0;
  if (site.lane.live) {
    logit = logits[site.index];
    g = grad_out[site.index];
  }
  let gl = sk_backward(logit, g, site.lane, sk_config());
  if (site.lane.live) {
    result[site.index] = gl;
  }
}
