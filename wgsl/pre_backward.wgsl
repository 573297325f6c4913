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
// accumulating; writes g_x (n·C) and g_H_pre (n).
//
// Layout (token_reduce.wgsl, appended by the host, which also sets WG, L
// and R >= N): a workgroup holds TPW = WG / L tokens, L lanes per token; a
// lane walks the token's vectors c = lane, lane + L, … (neighbouring lanes
// read neighbouring vectors), keeping its n partial channel sums in
// registers. With L = 1 a lane owns a whole token and writes its sums
// directly; otherwise segment_sum() adds up each token's L partials in lane
// order. Either way the order is fixed: deterministic.

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
  let t0 = (wid.x + wid.y * nwg.x) * TPW; // first token of the workgroup
  let slot = lid / L;
  let t = t0 + slot; // this lane's token
  let live = t < params.tokens;
  let cv = params.cv;
  var acc: array<f32, R>; // N <= R: one reduction round
  if (live) {
    var hp: array<f32, N>;
    for (var j = 0u; j < N; j++) {
      hp[j] = h_pre[t * N + j];
    }
    for (var c = lid % L; c < cv; c += L) {
      let gu = AV(grad_u[t * cv + c]);
      for (var j = 0u; j < N; j++) {
        let k = (t * N + j) * cv + c;
        var gx = hp[j] * gu;
        if (ACCUMULATE != 0u) {
          gx += AV(grad_x[k]);
        }
        grad_x[k] = SV(gx);
        acc[j] += hdot(AV(x[k]), gu);
      }
    }
  }
  if (L == 1u) {
    if (live) {
      for (var j = 0u; j < N; j++) {
        grad_h_pre[t * N + j] = acc[j];
      }
    }
  } else {
    stage_partials(lid, acc);
    for (var p = lid; p < TPW * N; p += WG) {
      let s = p / N;
      if (t0 + s < params.tokens) {
        grad_h_pre[(t0 + s) * N + p % N] = segment_sum(s, p % N);
      }
    }
  }
}
