// Global gradient norm, pass 1 of 2: each of P workgroups of 256 threads owns
// one contiguous chunk of the flat gradient (chunk = ⌈n/P⌉ floats); thread l
// adds the squares of elements l, l + 256, … of the chunk in order, and a fixed
// binary tree combines the 256 partials (deterministic, no atomics).
// Per element: reads one gradient, as bits: values whose exponent is all ones
// are not added but flagged (NaN: mantissa ≠ 0, ±Inf: mantissa = 0).
// Per workgroup: writes partials[wg] = (e, q as bits, any NaN, any Inf), with
// Σ g² = q·2^(2(e − 127)) (see grad_norm_combine.wgsl, appended by the host).

struct Params {
  n: u32, // gradient floats
  chunk: u32, // floats per workgroup
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> partials: array<vec4u>; // [P]
@group(0) @binding(2) var<storage, read> grads: array<u32>; // [n] f32 bits

var<workgroup> red_e: array<u32, WG>;
var<workgroup> red_q: array<f32, WG>;
var<workgroup> red_f: array<u32, WG>; // bit 0: NaN seen, bit 1: Inf seen

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  let start = w * p.chunk;
  let end = min(start + p.chunk, p.n);
  var acc = Acc(0u, 0.0);
  var flags = 0u;
  for (var k = start + lid; k < end; k += WG) {
    let bits = grads[k] & 0x7fffffffu;
    if (bits >= 0x7f800000u) {
      flags |= select(2u, 1u, bits > 0x7f800000u);
    } else if (bits != 0u) {
      acc = acc_add(acc, bits);
    }
  }
  red_e[lid] = acc.e;
  red_q[lid] = acc.q;
  red_f[lid] = flags;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      let c = acc_combine(Acc(red_e[lid], red_q[lid]), Acc(red_e[lid + h], red_q[lid + h]));
      red_e[lid] = c.e;
      red_q[lid] = c.q;
      red_f[lid] |= red_f[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let f = red_f[0];
    partials[w] = vec4u(red_e[0], bitcast<u32>(red_q[0]), f & 1u, f >> 1u);
  }
}
