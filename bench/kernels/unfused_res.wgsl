// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Unfused post, pass 1 of 3 (bench baseline for the fusion claim, SPEC §9):
// z[i] = Σ_j H_res[i][j]·x[j]. Per token: reads x (n·C) and H_res (n²),
// writes z (n·C). The flat layout of wgsl/post.wgsl before issue 11: each
// thread owns W channels of one token and keeps the n stream values in
// registers.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> h_res: array<f32>; // [T, n, n]
@group(0) @binding(3) var<storage, read_write> z: array<SV>; // [T, n, C]

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * 256u + lid;
  let cv = params.cv;
  if (g >= params.tokens * cv) {
    return;
  }
  let t = g / cv;
  let c = g - t * cv;
  var xs: array<AV, N>;
  for (var j = 0u; j < N; j++) {
    xs[j] = AV(x[(t * N + j) * cv + c]);
  }
  for (var i = 0u; i < N; i++) {
    var acc = AV(0.0);
    for (var j = 0u; j < N; j++) {
      acc += h_res[(t * N + i) * N + j] * xs[j];
    }
    z[(t * N + i) * cv + c] = SV(acc);
  }
}
