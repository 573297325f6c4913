// Row softmax (for sampling): probs[row, v] = exp(logits[row, v] − M)/S with
// M = max_v logits[row, v] and S = Σ_v exp(logits[row, v] − M).
// Per row: reads logits (V) three times, writes probs (V). One workgroup of 256
// threads per row, max and sum reduced by a fixed binary tree.

struct Params {
  N: u32, // rows
  V: u32, // vocabulary
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> probs: array<f32>; // [N, V]
@group(0) @binding(2) var<storage, read> logits: array<f32>; // [N, V]

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
    for (var v = lid; v < p.V; v += WG) {
      probs[base + v] = exp(logits[base + v] - m) / sum;
    }
  }
}
