// Bench variant of the mHC coefficient forward (issue 11's first attempt,
// not used by the library): one invocation per token walks its row of x in
// a loop and keeps the K sums of v·φ in registers; every invocation reads
// the same φ element at each step, but through a loop counter, so a CPU
// adapter (lavapipe) loads it once per SIMD lane. Then 1/r, α, bias,
// sigmoids and Sinkhorn in registers. Saved rows as the library's: the
// logits h (K), 1/r, v·φ (K). Assembled as sinkhorn_core + this file +
// alphas.wgsl.
//
// Per token, in elements: reads nC (x) + K (bias) + nC·K (φ, per
// invocation); writes n + n + n² + 2K + 1.

struct CoefParams {
  tokens: u32,
  nc: u32,
  iterations: u32,
  tolerance: f32,
  eps: f32,
  norm_eps: f32,
  alpha_pre: f32,
  alpha_post: f32,
  alpha_res: f32,
}

const K: u32 = N * N + 2u * N;
const WG: u32 = 64u;
const CH: u32 = 32u;
const SAVED_W: u32 = (2u * K + 8u) / 8u * 8u;
const ALPHA_BINDING: u32 = 8u;

@group(0) @binding(0) var<uniform> params: CoefParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> phi: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> h_pre: array<f32>;
@group(0) @binding(5) var<storage, read_write> h_post: array<f32>;
@group(0) @binding(6) var<storage, read_write> h_res: array<f32>;
@group(0) @binding(7) var<storage, read_write> saved: array<f32>;

fn pt_sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

fn pt_alpha(a: vec3f, k: u32) -> f32 {
  if (k < N) {
    return a.x;
  }
  return select(a.z, a.y, k < 2u * N);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let nc = params.nc;
  let t_in = (wg.x + wg.y * nwg.x) * WG + w;
  let t = min(t_in, params.tokens - 1u);
  var p: array<f32, K>;
  var sq = 0.0;
  for (var c0 = 0u; c0 < nc; c0 += CH) {
    var part = array<f32, K>(); // explicit: zeroed on every block
    var psq = 0.0;
    let end = min(c0 + CH, nc);
    for (var c = c0; c < end; c++) {
      let v = x[t * nc + c];
      psq = fma(v, v, psq);
      for (var k = 0u; k < K; k++) {
        part[k] = fma(v, phi[c * K + k], part[k]);
      }
    }
    for (var k = 0u; k < K; k++) {
      p[k] += part[k];
    }
    sq += psq;
  }
  let ir = inverseSqrt(sq / f32(nc) + params.norm_eps);
  let alphas = site_alphas();
  var h: array<f32, K>;
  for (var k = 0u; k < K; k++) {
    h[k] = pt_alpha(alphas, k) * (p[k] * ir) + bias[k];
  }
  var l: SkMat;
  for (var q = 0u; q < NN; q++) {
    l[q] = h[2u * N + q];
  }
  sk_forward(&l, SkConfig(params.iterations, params.eps, params.tolerance));
  if (t_in < params.tokens) {
    for (var k = 0u; k < K; k++) {
      saved[t * SAVED_W + k] = h[k];
      saved[t * SAVED_W + K + 1u + k] = p[k];
    }
    saved[t * SAVED_W + K] = ir;
    for (var i = 0u; i < N; i++) {
      h_pre[t * N + i] = pt_sigmoid(h[i]);
      h_post[t * N + i] = 2.0 * pt_sigmoid(h[N + i]);
    }
    for (var q = 0u; q < NN; q++) {
      h_res[t * NN + q] = l[q];
    }
  }
}
