// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Pre-aggregation (SPEC §2): u = Σ_j H_pre[j]·x[j], the sub-layer input.
// Per token: reads x (n·C) and H_pre (n), writes u (C). One pass: each thread
// owns W channels of one token; threads run along the channels, so loads and
// stores are coalesced. Accumulation in f32; H_pre is always f32.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

const WG: u32 = 256u; // threads per workgroup (set by the host: WG_ELEMENTWISE)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> h_pre: array<f32>; // [T, n]
@group(0) @binding(3) var<storage, read_write> u: array<SV>; // [T, C]

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  let cv = params.cv;
  if (g >= params.tokens * cv) {
    return; // no barrier in this kernel, so an early return is fine
  }
  let t = g / cv;
  let c = g - t * cv;
  var acc = AV(0.0);
  for (var j = 0u; j < N; j++) {
    acc += h_pre[t * N + j] * AV(x[(t * N + j) * cv + c]);
  }
  u[t * cv + c] = SV(acc);
}
