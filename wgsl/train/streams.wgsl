// Stream expansion and reduction (SPEC §5) and elementwise sums, one thread per
// output element. Entry points, with x [T, C] and the streams [T, n, C]:
//   expand: out[t, i, c] = x[t, c]: reads 1, writes 1 per output element
//           (expandStreams, and the backward of reduceStreams).
//   reduce: out[t, c] = Σ_{i < n} x[t, i, c], i in increasing order: reads n,
//           writes 1 (reduceStreams, and the backward of expandStreams).
//   add:      out[k] = a[k] + b[k]  (out must not alias a or b).
//   add_into: out[k] += a[k].

struct Params {
  count: u32, // output elements
  n: u32, // streams (expand, reduce)
  C: u32, // width (expand, reduce)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>; // x of expand/reduce
@group(0) @binding(3) var<storage, read> b: array<f32>; // add only

fn flat_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn expand(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = flat_index(wid, nwg, lid);
  if (k >= p.count) {
    return; // no barrier in this kernel
  }
  let row = k / p.C; // t·n + i
  let c = k - row * p.C;
  out[k] = a[(row / p.n) * p.C + c];
}

@compute @workgroup_size(256)
fn reduce(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = flat_index(wid, nwg, lid);
  if (k >= p.count) {
    return; // no barrier in this kernel
  }
  let t = k / p.C;
  let c = k - t * p.C;
  let base = t * p.n * p.C + c;
  var acc = 0.0;
  for (var i = 0u; i < p.n; i++) {
    acc += a[base + i * p.C];
  }
  out[k] = acc;
}

@compute @workgroup_size(256)
fn add(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = flat_index(wid, nwg, lid);
  if (k >= p.count) {
    return; // no barrier in this kernel
  }
  out[k] = a[k] + b[k];
}

@compute @workgroup_size(256)
fn add_into(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = flat_index(wid, nwg, lid);
  if (k >= p.count) {
    return; // no barrier in this kernel
  }
  out[k] += a[k];
}
