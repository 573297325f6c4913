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
// elements; writes x' (n·C). Accumulation in f32; H_post and H_res are
// always f32.
//
// Layout (the backward kernels' without their reduction): a workgroup of WG
// invocations holds TPW = WG / L tokens, L lanes per token (the host sets WG
// and L: 1 lane on short rows, 8 on long ones). A lane loads its token's
// n² + n coefficients once into registers, then walks the token's vectors
// c = lane, lane + L, …: per vector it loads the n stream values and y once
// and writes the n outputs. Neighbouring lanes of a token touch neighbouring
// vectors. Every output is written by exactly one lane: deterministic.

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

const WG: u32 = 64u; // invocations per workgroup (host-set: WG_POST)
const L: u32 = 8u; // lanes per token, a power of two dividing WG (host-set)
const TPW: u32 = WG / L; // tokens per workgroup

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> y: array<SV>; // [T, C]
@group(0) @binding(3) var<storage, read> h_post: array<f32>; // [T, n]
@group(0) @binding(4) var<storage, read> h_res: array<f32>; // [T, n, n]
@group(0) @binding(5) var<storage, read_write> x_out: array<SV>; // [T, n, C]

// The coefficients of one token: H_res row-major, then H_post. Handed to
// mix() as a value: on lavapipe this compiles to faster code than the same
// loads into private arrays read in place (bench/variants.ts, "coefficients
// in private arrays").
struct Coef {
  res: array<f32, N * N>,
  post: array<f32, N>,
}

fn load_coef(t: u32) -> Coef {
  var k: Coef;
  for (var i = 0u; i < N * N; i++) {
    k.res[i] = h_res[t * N * N + i];
  }
  for (var i = 0u; i < N; i++) {
    k.post[i] = h_post[t * N + i];
  }
  return k;
}

// x'[i] at vector c of token t, for every i.
fn mix(t: u32, c: u32, cv: u32, k: Coef) {
  var xs: array<AV, N>;
  for (var j = 0u; j < N; j++) {
    xs[j] = AV(x[(t * N + j) * cv + c]);
  }
  let yv = AV(y[t * cv + c]);
  for (var i = 0u; i < N; i++) {
    var acc = k.post[i] * yv;
    for (var j = 0u; j < N; j++) {
      acc += k.res[i * N + j] * xs[j];
    }
    x_out[(t * N + i) * cv + c] = SV(acc);
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let t = (wid.x + wid.y * nwg.x) * TPW + lid / L; // this lane's token
  if (t < params.tokens) { // no barrier in this kernel
    let k = load_coef(t);
    for (var c = lid % L; c < cv; c += L) {
      mix(t, c, cv, k);
    }
  }
}
