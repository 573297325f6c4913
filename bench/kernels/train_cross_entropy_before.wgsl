// Softmax cross-entropy, forward and backward fused, one workgroup of 256
// threads per row. With M = max_v logits[v] and S = Σ_v exp(logits[v] − M):
//   losses[row]   = log(S) + M − logits[target]   (exact even when p underflows)
//   dlogits[v]    = exp(logits[v] − M)/S · (1/N), minus 1/N at v = target.
// Per row: reads logits (V) three times (max, sum, gradient) and the target id
// (u32); writes dlogits (V, overwritten) and losses (1). The max and the sum are
// reduced by a fixed binary tree (deterministic). A target id ≥ V is read as
// V − 1 (ids are the caller's to check).

struct Params {
  N: u32, // rows
  V: u32, // vocabulary
  inv_n: u32, // 1/N as f32 bits
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>; // [N, V]
@group(0) @binding(2) var<storage, read_write> losses: array<f32>; // [N]
@group(0) @binding(3) var<storage, read> logits: array<f32>; // [N, V]
@group(0) @binding(4) var<storage, read> targets: array<u32>; // [N]

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * nwg.x;
  let live = row < p.N; // uniform over the workgroup
  let base = row * p.V;
  var m = -3.4028234663852886e38;
  if (live) {
    for (var v = lid; v < p.V; v += WG) {
      m = max(m, logits[base + v]);
    }
  }
  red[lid] = m;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] = max(red[lid], red[lid + h]);
    }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier(); // red is reused for the sum
  var s = 0.0;
  if (live) {
    for (var v = lid; v < p.V; v += WG) {
      s += exp(logits[base + v] - m);
    }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] += red[lid + h];
    }
    workgroupBarrier();
  }
  if (live) {
    let sum = red[0];
    let tgt = min(targets[row], p.V - 1u);
    if (lid == 0u) {
      losses[row] = log(sum) + m - logits[base + tgt];
    }
    let inv_n = bitcast<f32>(p.inv_n);
    for (var v = lid; v < p.V; v += WG) {
      var d = exp(logits[base + v] - m) / sum * inv_n;
      if (v == tgt) {
        d -= inv_n;
      }
      dlogits[base + v] = d;
    }
  }
}
