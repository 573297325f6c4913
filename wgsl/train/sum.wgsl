// Scaled sum of a vector: out[index] = scale · Σ_{k < n} values[k] (e.g. the
// mean loss into the step's stats). One workgroup of 256 threads: thread l adds
// values l, l + 256, … in order, then a fixed binary tree adds the 256
// partials, so the result is the same on every run (no atomics).
// Reads values (n), writes one float of out.

struct Params {
  n: u32, // values
  index: u32, // element of out written
  scale: u32, // scale as f32 bits
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var k = lid; k < p.n; k += WG) {
    s += values[k];
  }
  red[lid] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] += red[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[p.index] = red[0] * bitcast<f32>(p.scale);
  }
}
