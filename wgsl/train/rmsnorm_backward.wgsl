// RMSNorm backward, both gradients in one launch, with r = rstd[row]:
//   k = r³·Σ_c w[c]·dout[c]·x[c] / C,   dx[c] (=|+=) r·w[c]·dout[c] − k·x[c],
//   dw[c] (=|+=) Σ_row dout[row, c]·x[row, c]·r.
// Workgroups [0, ⌈N/64⌉) take one row per invocation: read dout, x (C each,
// twice), w (C, twice), rstd (1), write dx (C), overwritten or added to
// (accumulate = 1). The dot product in a fixed order: four vec4 accumulators
// take the row's blocks of 16 channels in turn (the tail goes to the first),
// then (a0 + a1) + (a2 + a3) and (x + y) + (z + w): depth ≤ ⌊C/16⌋ + 7.
// The next ⌈⌈C/4⌉/64⌉ workgroups take 4 channels per invocation: read one
// 4-wide column of dout and x (N each) and rstd (N), write dw (4 floats).
// Rows go round-robin to four accumulators (row mod 4), each in increasing
// row order, then (a0 + a1) + (a2 + a3): depth ≤ ⌈N/4⌉ + 2.
// No workgroup memory, no barrier, no atomics: deterministic. On lavapipe a
// per-lane load is a loop over the SIMD lanes and a barrier switches SIMD
// groups, so one lane per row beats a workgroup per row with a tree.
// With C a multiple of 4 the "// @vec4" lines read 16 bytes at a time; the
// host swaps in the "// @scalar " lines otherwise (src/train/gpu/_specialize.ts).

struct Params {
  N: u32, // rows
  C: u32, // width
  accumulate: u32, // 1: dx += …, dw += …; 0: overwritten
  row_groups: u32, // ⌈N/64⌉: workgroups of the dx part
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read> rstd: array<f32>; // [N]
@group(0) @binding(1) var<storage, read_write> dx: array<vec4<f32>>; // @vec4
@group(0) @binding(2) var<storage, read_write> dw: array<vec4<f32>>; // @vec4
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>; // @vec4
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>; // @vec4
@group(0) @binding(5) var<storage, read> w: array<vec4<f32>>; // @vec4
fn ld_dx(e: u32, n: u32) -> vec4<f32> { return dx[e / 4u]; } // @vec4
fn ld_dw(e: u32, n: u32) -> vec4<f32> { return dw[e / 4u]; } // @vec4
fn ld_g(e: u32, n: u32) -> vec4<f32> { return dout[e / 4u]; } // @vec4
fn ld_x(e: u32, n: u32) -> vec4<f32> { return x[e / 4u]; } // @vec4
fn ld_w(e: u32, n: u32) -> vec4<f32> { return w[e / 4u]; } // @vec4
fn st_dx(e: u32, n: u32, v: vec4<f32>) { dx[e / 4u] = v; } // @vec4
fn st_dw(e: u32, n: u32, v: vec4<f32>) { dw[e / 4u] = v; } // @vec4
// @scalar @group(0) @binding(1) var<storage, read_write> dx: array<f32>; // [N, C]
// @scalar @group(0) @binding(2) var<storage, read_write> dw: array<f32>; // [C]
// @scalar @group(0) @binding(3) var<storage, read> dout: array<f32>; // [N, C]
// @scalar @group(0) @binding(4) var<storage, read> x: array<f32>; // [N, C]
// @scalar @group(0) @binding(5) var<storage, read> w: array<f32>; // [C]
// @scalar fn ld_dx(e: u32, n: u32) -> vec4<f32> { return vec4(dx[e], select(0.0, dx[e + 1u], n > 1u), select(0.0, dx[e + 2u], n > 2u), select(0.0, dx[e + 3u], n > 3u)); }
// @scalar fn ld_dw(e: u32, n: u32) -> vec4<f32> { return vec4(dw[e], select(0.0, dw[e + 1u], n > 1u), select(0.0, dw[e + 2u], n > 2u), select(0.0, dw[e + 3u], n > 3u)); }
// @scalar fn ld_g(e: u32, n: u32) -> vec4<f32> { return vec4(dout[e], select(0.0, dout[e + 1u], n > 1u), select(0.0, dout[e + 2u], n > 2u), select(0.0, dout[e + 3u], n > 3u)); }
// @scalar fn ld_x(e: u32, n: u32) -> vec4<f32> { return vec4(x[e], select(0.0, x[e + 1u], n > 1u), select(0.0, x[e + 2u], n > 2u), select(0.0, x[e + 3u], n > 3u)); }
// @scalar fn ld_w(e: u32, n: u32) -> vec4<f32> { return vec4(w[e], select(0.0, w[e + 1u], n > 1u), select(0.0, w[e + 2u], n > 2u), select(0.0, w[e + 3u], n > 3u)); }
// @scalar fn st_dx(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { dx[e + j] = v[j]; } }
// @scalar fn st_dw(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { dw[e + j] = v[j]; } }

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = wid.x + wid.y * nwg.x;
  let C = p.C;
  if (g < p.row_groups) {
    let row = g * WG + lid;
    if (row >= p.N) {
      return; // no barrier in this kernel
    }
    let base = row * C;
    var a0 = vec4(0.0);
    var a1 = vec4(0.0);
    var a2 = vec4(0.0);
    var a3 = vec4(0.0);
    var c = 0u;
    for (; c + 16u <= C; c += 16u) {
      a0 += ld_w(c, 4u) * ld_g(base + c, 4u) * ld_x(base + c, 4u);
      a1 += ld_w(c + 4u, 4u) * ld_g(base + c + 4u, 4u) * ld_x(base + c + 4u, 4u);
      a2 += ld_w(c + 8u, 4u) * ld_g(base + c + 8u, 4u) * ld_x(base + c + 8u, 4u);
      a3 += ld_w(c + 12u, 4u) * ld_g(base + c + 12u, 4u) * ld_x(base + c + 12u, 4u);
    }
    for (; c < C; c += 4u) {
      let n = min(4u, C - c);
      a0 += ld_w(c, n) * ld_g(base + c, n) * ld_x(base + c, n);
    }
    let a = (a0 + a1) + (a2 + a3);
    let wgx = (a.x + a.y) + (a.z + a.w);
    let r = rstd[row];
    let k = (r * r * r * wgx) / f32(C);
    for (c = 0u; c < C; c += 4u) {
      let n = min(4u, C - c);
      let e = base + c;
      var d = r * ld_w(c, n) * ld_g(e, n) - k * ld_x(e, n);
      if (p.accumulate != 0u) {
        d += ld_dx(e, n);
      }
      st_dx(e, n, d);
    }
    return;
  }
  let c = ((g - p.row_groups) * WG + lid) * 4u;
  if (c >= C) {
    return;
  }
  let n = min(4u, C - c);
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var row = 0u;
  for (; row + 4u <= p.N; row += 4u) {
    let e = row * C + c;
    a0 += ld_g(e, n) * ld_x(e, n) * rstd[row];
    a1 += ld_g(e + C, n) * ld_x(e + C, n) * rstd[row + 1u];
    a2 += ld_g(e + 2u * C, n) * ld_x(e + 2u * C, n) * rstd[row + 2u];
    a3 += ld_g(e + 3u * C, n) * ld_x(e + 3u * C, n) * rstd[row + 3u];
  }
  if (row < p.N) {
    a0 += ld_g(row * C + c, n) * ld_x(row * C + c, n) * rstd[row];
  }
  if (row + 1u < p.N) {
    a1 += ld_g((row + 1u) * C + c, n) * ld_x((row + 1u) * C + c, n) * rstd[row + 1u];
  }
  if (row + 2u < p.N) {
    a2 += ld_g((row + 2u) * C + c, n) * ld_x((row + 2u) * C + c, n) * rstd[row + 2u];
  }
  var s = (a0 + a1) + (a2 + a3);
  if (p.accumulate != 0u) {
    s += ld_dw(c, n);
  }
  st_dw(c, n, s);
}
