// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Fused post mixing (SPEC §2): x'[i] = Σ_j H_res[i][j]·x[j] + H_post[i]·y.
// Per token: reads x (n·C), y (C), H_post (n), H_res (n²) = (n+1)·C + n² + n
// elements; writes x' (n·C). One pass: each thread owns W channels of one
// token, loads the n stream values once into registers and writes the n
// outputs. Threads run along the channels, so every load and store is
// coalesced. Accumulation in f32; H_post and H_res are always f32.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

const WG: u32 = 256u; // threads per workgroup (set by the host: WG_ELEMENTWISE)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> y: array<SV>; // [T, C]
@group(0) @binding(3) var<storage, read> h_post: array<f32>; // [T, n]
@group(0) @binding(4) var<storage, read> h_res: array<f32>; // [T, n, n]
@group(0) @binding(5) var<storage, read_write> x_out: array<SV>; // [T, n, C]

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
  var xs: array<AV, N>;
  for (var j = 0u; j < N; j++) {
    xs[j] = AV(x[(t * N + j) * cv + c]);
  }
  let yv = AV(y[t * cv + c]);
  for (var i = 0u; i < N; i++) {
    var acc = h_post[t * N + i] * yv;
    for (var j = 0u; j < N; j++) {
      acc += h_res[(t * N + i) * N + j] * xs[j];
    }
    x_out[(t * N + i) * cv + c] = SV(acc);
  }
}
