// RMSNorm backward, input gradient, per row with r = rstd[row]:
//   k = r³·Σ_c w[c]·dout[c]·x[c] / C,   dx[c] (=|+=) r·w[c]·dout[c] − k·x[c].
// Per row: reads dout, x (C each), w (C), rstd (1); writes dx (C), overwritten
// or added to (accumulate = 1). One workgroup of 64 threads per row, partial
// dot products reduced by a fixed binary tree (deterministic).
// The gain gradient is rmsnorm_dw.wgsl.

struct Params {
  N: u32, // rows
  C: u32, // width
  accumulate: u32, // 1: dx += …, 0: dx = …
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>; // [N, C]
@group(0) @binding(2) var<storage, read> dout: array<f32>; // [N, C]
@group(0) @binding(3) var<storage, read> x: array<f32>; // [N, C]
@group(0) @binding(4) var<storage, read> w: array<f32>; // [C]
@group(0) @binding(5) var<storage, read> rstd: array<f32>; // [N]

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * nwg.x;
  let live = row < p.N; // uniform over the workgroup
  let base = row * p.C;
  var s = 0.0;
  if (live) {
    for (var c = lid; c < p.C; c += WG) {
      s += w[c] * dout[base + c] * x[base + c];
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
    let r = rstd[row];
    let k = (r * r * r * red[0]) / f32(p.C);
    for (var c = lid; c < p.C; c += WG) {
      var g = r * w[c] * dout[base + c] - k * x[base + c];
      if (p.accumulate != 0u) {
        g += dx[base + c];
      }
      dx[base + c] = g;
    }
  }
}
