// RMSNorm forward: r = 1 / sqrt(mean_c(x²) + ε), out[row, c] = x[row, c]·r·w[c].
// Per row: reads x (C) and w (C), writes out (C) and rstd (1, kept for the
// backward). One workgroup of 64 threads per row; each thread sums the squares
// of channels lid, lid + 64, … in order, then a fixed binary tree adds the 64
// partials (deterministic).

struct Params {
  N: u32, // rows
  C: u32, // width
  eps: u32, // ε as f32 bits
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // [N, C]
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>; // [N]
@group(0) @binding(3) var<storage, read> x: array<f32>; // [N, C]
@group(0) @binding(4) var<storage, read> w: array<f32>; // [C]

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
      let v = x[base + c];
      s += v * v;
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
    let r = 1.0 / sqrt(red[0] / f32(p.C) + bitcast<f32>(p.eps));
    if (lid == 0u) {
      rstd[row] = r;
    }
    for (var c = lid; c < p.C; c += WG) {
      out[base + c] = x[base + c] * r * w[c];
    }
  }
}
