// Bench copy of wgsl/post_backward.wgsl as it was before issue 11 (commit 62a3226),
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
// Backward of the fused post mixing, with g = ∂L/∂x' (SPEC §2):
//   g_x[j] = Σ_i H_res[i][j]·g[i]          g_y = Σ_i H_post[i]·g[i]
//   g_H_post[i] = Σ_c g[i][c]·y[c]          g_H_res[i][j] = Σ_c g[i][c]·x[j][c]
// Per token: reads x (n·C), y (C), g (n·C), H_post (n), H_res (n²); writes
// g_x (n·C), g_y (C), g_H_post (n), g_H_res (n²). One workgroup per token
// walks the channels once (coalesced); the n + n² channel sums are reduced
// by reduce_rows() from token_reduce.wgsl, appended by the host: a fixed
// tree, so results are deterministic. Accumulation in f32.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

const K: u32 = N + N * N; // reduced values per token: g_H_post then g_H_res

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> y: array<SV>; // [T, C]
@group(0) @binding(3) var<storage, read> h_post: array<f32>; // [T, n]
@group(0) @binding(4) var<storage, read> h_res: array<f32>; // [T, n, n]
@group(0) @binding(5) var<storage, read> grad_out: array<SV>; // [T, n, C]
@group(0) @binding(6) var<storage, read_write> grad_x: array<SV>; // [T, n, C]
@group(0) @binding(7) var<storage, read_write> grad_y: array<SV>; // [T, C]
@group(0) @binding(8) var<storage, read_write> grad_h_post: array<f32>; // [T, n]
@group(0) @binding(9) var<storage, read_write> grad_h_res: array<f32>; // [T, n, n]

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = wid.x + wid.y * nwg.x; // this workgroup's token
  let live = t < params.tokens; // uniform per workgroup
  let cv = params.cv;
  var acc: array<f32, K>;
  if (live) {
    for (var c = lid; c < cv; c += WG) {
      var gs: array<AV, N>;
      for (var i = 0u; i < N; i++) {
        gs[i] = AV(grad_out[(t * N + i) * cv + c]);
      }
      let yv = AV(y[t * cv + c]);
      var gy = AV(0.0);
      for (var i = 0u; i < N; i++) {
        gy += h_post[t * N + i] * gs[i];
        acc[i] += hdot(gs[i], yv);
      }
      grad_y[t * cv + c] = SV(gy);
      for (var j = 0u; j < N; j++) {
        let xj = AV(x[(t * N + j) * cv + c]);
        var gx = AV(0.0);
        for (var i = 0u; i < N; i++) {
          gx += h_res[(t * N + i) * N + j] * gs[i];
          acc[N + i * N + j] += hdot(gs[i], xj);
        }
        grad_x[(t * N + j) * cv + c] = SV(gx);
      }
    }
  }
  for (var base = 0u; base < K; base += R) {
    var v: array<f32, R>;
    for (var r = 0u; r < R; r++) {
      if (base + r < K) {
        v[r] = acc[base + r];
      }
    }
    reduce_rows(lid, v);
    let k = base + lid;
    if (live && lid < R && k < K) {
      if (k < N) {
        grad_h_post[t * N + k] = red[lid * WG];
      } else {
        grad_h_res[t * N * N + k - N] = red[lid * WG];
      }
    }
    workgroupBarrier(); // red is overwritten by the next round
  }
}
