// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Unfused post, pass 2 of 3 (bench baseline, SPEC §9): w[i] = H_post[i]·y.
// Per token: reads y (C) and H_post (n), writes w (n·C). Each thread owns W
// channels of one token.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<SV>; // [T, C]
@group(0) @binding(2) var<storage, read> h_post: array<f32>; // [T, n]
@group(0) @binding(3) var<storage, read_write> w: array<SV>; // [T, n, C]

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
  let yv = AV(y[t * cv + c]);
  for (var i = 0u; i < N; i++) {
    w[(t * N + i) * cv + c] = SV(h_post[t * N + i] * yv);
  }
}
