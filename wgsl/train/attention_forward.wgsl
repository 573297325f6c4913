// Causal multi-head self-attention, forward (the llm.c layout): qkv [B·T, 3C]
// holds q, k and v side by side, each split into H heads of hs = C/H
// channels. For sequence b, head h and position t:
//   s[t2]   = (q_t · k_t2) / sqrt(hs)            for t2 <= t
//   att[t2] = softmax(s)[t2] (max-subtracted)     0 above the diagonal
//   out_t   = Σ_t2 att[t2] · v_t2
// One invocation per (b, h, t): reads its q row and the k and v rows up to t,
// writes one row of att [B, H, T, T] and hs channels of out [B·T, C].

struct Params {
  B: u32,
  T: u32,
  C: u32,
  H: u32,
  scale: f32, // 1 / sqrt(hs), as bits
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>; // [B·T, 3C]
@group(0) @binding(2) var<storage, read_write> att: array<f32>; // [B, H, T, T]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [B·T, C]

@compute @workgroup_size(64)
fn main(
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
  let q = (b * T + t) * C3 + h * hs;
  let row = (bh * T + t) * T;
  var mx = -3.4e38;
  for (var t2 = 0u; t2 <= t; t2++) {
    let k = (b * T + t2) * C3 + C + h * hs;
    var s = 0.0;
    for (var i = 0u; i < hs; i++) {
      s += qkv[q + i] * qkv[k + i];
    }
    s *= p.scale;
    att[row + t2] = s;
    mx = max(mx, s);
  }
  var sum = 0.0;
  for (var t2 = 0u; t2 <= t; t2++) {
    let e = exp(att[row + t2] - mx);
    att[row + t2] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var t2 = 0u; t2 <= t; t2++) {
    att[row + t2] *= inv;
  }
  for (var t2 = t + 1u; t2 < T; t2++) {
    att[row + t2] = 0.0;
  }
  let o = (b * T + t) * C + h * hs;
  for (var i = 0u; i < hs; i++) {
    var acc = 0.0;
    for (var t2 = 0u; t2 <= t; t2++) {
      acc += att[row + t2] * qkv[(b * T + t2) * C3 + 2u * C + h * hs + i];
    }
    out[o + i] = acc;
  }
}
