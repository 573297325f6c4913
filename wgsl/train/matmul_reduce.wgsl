// Sums the parts of a product split over k (wgsl/train/matmul_staged.wgsl,
// wid.z): out[i] (+)= Σ_z part[z·stride + i], z in increasing order
// (deterministic). One invocation per vec4 of out; 2D grid.
//
// Per vec4 of out: reads `parts` vec4 (and out when acc = 1), writes one.

const WG: u32 = 64u;

struct Params {
  count: u32, // vec4 of out
  parts: u32, // parts to add
  stride: u32, // vec4 between parts
  acc: u32, // 1: add to out; 0: overwrite
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> part: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i < p.count) {
    var s = part[i];
    for (var z = 1u; z < p.parts; z++) {
      s += part[z * p.stride + i];
    }
    if (p.acc == 1u) {
      out[i] += s;
    } else {
      out[i] = s;
    }
  }
}
