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
// g_x (n·C), g_y (C), g_H_post (n), g_H_res (n²). Accumulation in f32.
//
// Layout (token_reduce.wgsl, appended by the host, which also sets WG, L
// and R): a workgroup holds TPW = WG / L tokens, L lanes per token; a lane
// walks the token's vectors c = lane, lane + L, … (neighbouring lanes read
// neighbouring vectors), keeping its n + n² partial channel sums in
// registers. With L = 1 a lane owns a whole token and writes its sums
// directly; otherwise segment_sum() adds up each token's L partials in lane
// order, R values per round. Either way the order is fixed: deterministic.

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

// Stores reduced value k (g_H_post, then g_H_res) of token t.
fn store_sum(t: u32, k: u32, v: f32) {
  if (k < N) {
    grad_h_post[t * N + k] = v;
  } else {
    grad_h_res[t * N * N + k - N] = v;
  }
}

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
  var acc: array<f32, K>;
  if (live) {
    var hp: array<f32, N>;
    var hr: array<f32, N * N>;
    for (var i = 0u; i < N; i++) {
      hp[i] = h_post[t * N + i];
    }
    for (var k = 0u; k < N * N; k++) {
      hr[k] = h_res[t * N * N + k];
    }
    for (var c = lid % L; c < cv; c += L) {
      var gs: array<AV, N>;
      for (var i = 0u; i < N; i++) {
        gs[i] = AV(grad_out[(t * N + i) * cv + c]);
      }
      let yv = AV(y[t * cv + c]);
      var gy = AV(0.0);
      for (var i = 0u; i < N; i++) {
        gy += hp[i] * gs[i];
        acc[i] += hdot(gs[i], yv);
      }
      grad_y[t * cv + c] = SV(gy);
      for (var j = 0u; j < N; j++) {
        let xj = AV(x[(t * N + j) * cv + c]);
        var gx = AV(0.0);
        for (var i = 0u; i < N; i++) {
          gx += hr[i * N + j] * gs[i];
          acc[N + i * N + j] += hdot(gs[i], xj);
        }
        grad_x[(t * N + j) * cv + c] = SV(gx);
      }
    }
  }
  if (L == 1u) {
    if (live) {
      for (var k = 0u; k < K; k++) {
        store_sum(t, k, acc[k]);
      }
    }
  } else {
    for (var base = 0u; base < K; base += R) {
      var v: array<f32, R>;
      for (var r = 0u; r < R; r++) {
        if (base + r < K) {
          v[r] = acc[base + r];
        }
      }
      stage_partials(lid, v);
      for (var p = lid; p < TPW * R; p += WG) {
        let s = p / R;
        let k = base + p % R;
        if (k < K && t0 + s < params.tokens) {
          store_sum(t0 + s, k, segment_sum(s, p % R));
        }
      }
      workgroupBarrier(); // red is overwritten by the next round
    }
  }
}
