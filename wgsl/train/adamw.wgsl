// AdamW on one flat parameter buffer, one thread per float:
//   g = grads·scale, m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
//   p = p − lr·((m/c1)/(sqrt(v/c2) + ε) + wd·p),
// with wd applied only where decay[k / 64] ≠ 0 (the GPU parameter layout
// aligns every tensor to 64 floats, so each 64-float block is one tensor's).
// hyper = [lr, β1, β2, ε, wd, L, 0, clip, c1[1..L], c2[1..L]] with the bias
// corrections c = 1 − β^t tabulated by the host in float64 (1 past the
// table); t = stats[4], AdamW's step count kept on the GPU and advanced by
// the gradient-norm pass unless the step is skipped; stats[2] = the clip
// scale, stats[3] ≠ 0 when the step is skipped, in which case nothing is
// written.
// Per element: reads params, grads, m, v, one decay word; writes params, m, v.

struct Params {
  n: u32, // floats
  table: u32, // L, entries per bias-correction table
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grads: array<f32>;
@group(0) @binding(5) var<storage, read> decay: array<u32>; // [⌈n/64⌉]
@group(0) @binding(6) var<storage, read> stats: array<f32>;
@group(0) @binding(7) var<storage, read> hyper: array<f32>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (k >= p.n || stats[3] != 0.0) {
    return; // no barrier in this kernel
  }
  let lr = hyper[0];
  let b1 = hyper[1];
  let b2 = hyper[2];
  let eps = hyper[3];
  let wd = select(0.0, hyper[4], decay[k / 64u] != 0u);
  let t = u32(stats[4]); // >= 1: this step is not skipped
  let L = p.table;
  let i = min(t, L) - 1u;
  let c1 = select(1.0, hyper[8u + i], t <= L);
  let c2 = select(1.0, hyper[8u + L + i], t <= L);
  let g = grads[k] * stats[2];
  let mk = b1 * m[k] + (1.0 - b1) * g;
  let vk = b2 * v[k] + (1.0 - b2) * g * g;
  m[k] = mk;
  v[k] = vk;
  let pk = params[k];
  params[k] = pk - lr * ((mk / c1) / (sqrt(vk / c2) + eps) + wd * pk);
}
