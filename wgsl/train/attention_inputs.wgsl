// Causal multi-head self-attention, backward, second pass: the gradient of
// qkv [B·T, 3C] from the score gradients ds (datt, [B, H, T, T], written by
// attention_scores in attention_backward.wgsl) and the probabilities att.
// One invocation per element of dqkv, which it overwrites:
//   dq_t[i]  = Σ_{t2 <= t} ds[t][t2] · k_t2[i]
//   dk_t2[i] = Σ_{t >= t2} ds[t][t2] · q_t[i]
//   dv_t2[i] = Σ_{t >= t2} att[t][t2] · dout_t[i]
// Sums run in increasing index order: deterministic, no atomics.

struct Params {
  B: u32,
  T: u32,
  C: u32,
  H: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>; // [B·T, 3C]
@group(0) @binding(2) var<storage, read> att: array<f32>; // [B, H, T, T]
@group(0) @binding(3) var<storage, read> dout: array<f32>; // [B·T, C]
@group(0) @binding(4) var<storage, read> ds: array<f32>; // [B, H, T, T]
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>; // [B·T, 3C]

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  let T = p.T;
  let C = p.C;
  let C3 = 3u * C;
  if (g >= p.B * T * C3) {
    return; // no barrier in this kernel
  }
  let col = g % C3;
  let bt = g / C3;
  let t = bt % T;
  let b = bt / T;
  let part = col / C; // 0: q, 1: k, 2: v
  let c = col - part * C;
  let hs = C / p.H;
  let h = c / hs;
  let bh = b * p.H + h;
  var acc = 0.0;
  if (part == 0u) {
    let row = (bh * T + t) * T;
    for (var t2 = 0u; t2 <= t; t2++) {
      acc += ds[row + t2] * qkv[(b * T + t2) * C3 + C + c];
    }
  } else if (part == 1u) {
    for (var u = t; u < T; u++) {
      acc += ds[(bh * T + u) * T + t] * qkv[(b * T + u) * C3 + c];
    }
  } else {
    for (var u = t; u < T; u++) {
      acc += att[(bh * T + u) * T + t] * dout[(b * T + u) * C + c];
    }
  }
  dqkv[g] = acc;
}
