// Global gradient norm, pass 2 of 2, and the clip scale. One workgroup of 256
// threads: thread l combines partials l, l + 256, … in order, then a fixed
// binary tree (see grad_norm_combine.wgsl, appended by the host).
// Reads partials (P), hyper[7] (the clip threshold); writes stats, as f32 bits:
//   stats[1] = ‖g‖ (NaN if any gradient is NaN, else +Inf if any is ±Inf, or
//              if the norm exceeds the f32 range),
//   stats[2] = clip scale: clip/‖g‖ when clip > 0 and ‖g‖ > clip, else 1
//              (1 also for a skipped step),
//   stats[3] = 1 if any gradient is not finite (the step is skipped), else 0,
//   stats[4] = AdamW's step count, advanced by one unless the step is skipped.

struct Params {
  parts: u32, // P
}

const WG: u32 = 256u;
const STAT_NORM: u32 = 1u;
const STAT_SCALE: u32 = 2u;
const STAT_SKIPPED: u32 = 3u;
const STAT_ADAM_STEP: u32 = 4u;
const HYPER_CLIP: u32 = 7u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> stats: array<u32>; // f32 bits
@group(0) @binding(2) var<storage, read> partials: array<vec4u>; // [P]
@group(0) @binding(3) var<storage, read> hyper: array<f32>;

var<workgroup> red_e: array<u32, WG>;
var<workgroup> red_q: array<f32, WG>;
var<workgroup> red_f: array<u32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = Acc(0u, 0.0);
  var flags = 0u;
  for (var k = lid; k < p.parts; k += WG) {
    let part = partials[k];
    acc = acc_combine(acc, Acc(part.x, bitcast<f32>(part.y)));
    flags |= part.z | (part.w << 1u);
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
    let clip = hyper[HYPER_CLIP];
    var norm_bits = 0u;
    var scale = 1.0;
    if ((f & 1u) != 0u) {
      norm_bits = 0x7fc00000u; // NaN
    } else if (f != 0u) {
      norm_bits = 0x7f800000u; // +Inf
    } else if (red_q[0] > 0.0) {
      let r = sqrt(red_q[0]); // in [1, 2·√n)
      let k = i32(red_e[0]) - 127; // ‖g‖ = r·2^k
      let er = i32(bitcast<u32>(r) >> 23u) - 127;
      if (er + k > 127) {
        norm_bits = 0x7f800000u; // finite, but past the f32 range
        if (clip > 0.0) {
          scale = pow2_scale(clip / r, -k); // k > 0 here
        }
      } else {
        let norm = pow2_scale(r, k);
        norm_bits = bitcast<u32>(norm);
        if (clip > 0.0 && norm > clip) {
          scale = clip / norm;
        }
      }
    }
    stats[STAT_NORM] = norm_bits;
    stats[STAT_SCALE] = bitcast<u32>(scale);
    stats[STAT_SKIPPED] = select(0u, bitcast<u32>(1.0), f != 0u);
    if (f == 0u) {
      stats[STAT_ADAM_STEP] = bitcast<u32>(bitcast<f32>(stats[STAT_ADAM_STEP]) + 1.0);
    }
  }
}
