// RMSNorm backward, gain gradient: dw[c] (=|+=) Σ_row dout[row, c]·x[row, c]·rstd[row].
// Per channel: reads one column of dout and x (N each) and rstd (N); writes
// dw (1), overwritten or added to (accumulate = 1). A workgroup of 16 × 16
// threads owns 16 consecutive channels: lane y sums rows y, y + 16, … in
// order (loads of one row are 16 consecutive floats), then a fixed binary
// tree adds the 16 lanes (deterministic, no atomics).

struct Params {
  N: u32, // rows
  C: u32, // width
  accumulate: u32, // 1: dw += …, 0: dw = …
}

const CW: u32 = 16u; // channels per workgroup
const LANES: u32 = 16u; // row lanes per channel

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>; // [C]
@group(0) @binding(2) var<storage, read> dout: array<f32>; // [N, C]
@group(0) @binding(3) var<storage, read> x: array<f32>; // [N, C]
@group(0) @binding(4) var<storage, read> rstd: array<f32>; // [N]

var<workgroup> red: array<f32, CW * LANES>; // [lane][channel]

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) loc: vec3u,
) {
  let c = (wid.x + wid.y * nwg.x) * CW + loc.x;
  let lane = loc.y;
  let live = c < p.C;
  var s = 0.0;
  if (live) {
    for (var row = lane; row < p.N; row += LANES) {
      s += dout[row * p.C + c] * x[row * p.C + c] * rstd[row];
    }
  }
  red[lane * CW + loc.x] = s;
  workgroupBarrier();
  for (var h = LANES / 2u; h > 0u; h /= 2u) {
    if (lane < h) {
      red[lane * CW + loc.x] += red[(lane + h) * CW + loc.x];
    }
    workgroupBarrier();
  }
  if (live && lane == 0u) {
    var g = red[loc.x];
    if (p.accumulate != 0u) {
      g += dw[c];
    }
    dw[c] = g;
  }
}
