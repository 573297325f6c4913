// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Unfused post, pass 3 of 3 (bench baseline, SPEC §9): x' = z + w.
// Per token: reads z and w (2·n·C), writes x' (n·C). One thread per vector.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> w: array<SV>; // [T, n, C]
@group(0) @binding(3) var<storage, read_write> x_out: array<SV>; // [T, n, C]

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (g >= params.tokens * N * params.cv) {
    return;
  }
  x_out[g] = SV(AV(z[g]) + AV(w[g]));
}
