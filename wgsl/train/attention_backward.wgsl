// Causal multi-head self-attention, backward. Two passes, no atomics.
//
// attention_scores: one invocation per (b, h, t) computes the gradient of
// the pre-softmax scores of row t,
//   dp[t2] = dout_t · v_t2,   ds[t2] = att[t2] · (dp[t2] − Σ_u att[u]·dp[u]) / sqrt(hs)
// for t2 <= t, into datt [B, H, T, T].
//
// attention_inputs: one invocation per element of dqkv [B·T, 3C] writes it
// whole (the invocation that owns an output row sums over the other index
// in a fixed order):
//   dq_t[i]  = Σ_{t2 <= t} ds[t][t2] · k_t2[i]
//   dk_t2[i] = Σ_{t >= t2} ds[t][t2] · q_t[i]
//   dv_t2[i] = Σ_{t >= t2} att[t][t2] · dout_t[i]

struct Params {
  B: u32,
  T: u32,
  C: u32,
  H: u32,
  scale: f32, // 1 / sqrt(hs), as bits
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>; // [B·T, 3C]
@group(0) @binding(2) var<storage, read> att: array<f32>; // [B, H, T, T]
@group(0) @binding(3) var<storage, read> dout: array<f32>; // [B·T, C]
@group(0) @binding(4) var<storage, read_write> datt: array<f32>; // [B, H, T, T]

@compute @workgroup_size(64)
fn attention_scores(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  let T = p.T;
  let C = p.C;
  if (g >= p.B * p.H * T) {
    return; // no barrier in this kernel
  }
  let t = g % T;
  let bh = g / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let hs = C / p.H;
  let C3 = 3u * C;
  let o = (b * T + t) * C + h * hs;
  let row = (bh * T + t) * T;
  var dot = 0.0;
  for (var t2 = 0u; t2 <= t; t2++) {
    let v = (b * T + t2) * C3 + 2u * C + h * hs;
    var s = 0.0;
    for (var i = 0u; i < hs; i++) {
      s += dout[o + i] * qkv[v + i];
    }
    datt[row + t2] = s;
    dot += att[row + t2] * s;
  }
  for (var t2 = 0u; t2 <= t; t2++) {
    datt[row + t2] = att[row + t2] * (datt[row + t2] - dot) * p.scale;
  }
}
