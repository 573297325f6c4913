// Bench copy of wgsl/pre_backward.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Backward of the pre-aggregation, with g_u = ∂L/∂u (SPEC §2):
//   g_x[j] = H_pre[j]·g_u            g_H_pre[j] = Σ_c x[j][c]·g_u[c]
// With ACCUMULATE = 1 (the host rewrites the constant) g_x is added to the
// buffer's values (read, add in f32, store) instead of overwriting them.
// Per token: reads x (n·C), H_pre (n), g_u (C), and g_x (n·C) when
// accumulating; writes g_x (n·C) and g_H_pre (n). One workgroup per token
// walks the channels once (coalesced); the n channel sums are reduced by
// reduce_rows() from token_reduce.wgsl, appended by the host: a fixed tree,
// so results are deterministic.

/** 1: add g_x to the buffer's values; 0: overwrite them (host-rewritten). */
const ACCUMULATE: u32 = 0u;

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> h_pre: array<f32>; // [T, n]
@group(0) @binding(3) var<storage, read> grad_u: array<SV>; // [T, C]
@group(0) @binding(4) var<storage, read_write> grad_x: array<SV>; // [T, n, C]
@group(0) @binding(5) var<storage, read_write> grad_h_pre: array<f32>; // [T, n]

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = wid.x + wid.y * nwg.x; // this workgroup's token
  let live = t < params.tokens; // uniform per workgroup
  let cv = params.cv;
  var acc: array<f32, R>; // N <= 8 = R: one reduction round
  if (live) {
    for (var c = lid; c < cv; c += WG) {
      let gu = AV(grad_u[t * cv + c]);
      for (var j = 0u; j < N; j++) {
        let k = (t * N + j) * cv + c;
        var gx = h_pre[t * N + j] * gu;
        if (ACCUMULATE != 0u) {
          gx += AV(grad_x[k]);
        }
        grad_x[k] = SV(gx);
        acc[j] += hdot(AV(x[k]), gu);
      }
    }
  }
  reduce_rows(lid, acc);
  if (live && lid < N) {
    grad_h_pre[t * N + lid] = red[lid * WG];
  }
}
