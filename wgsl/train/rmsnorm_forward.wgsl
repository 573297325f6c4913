// RMSNorm forward: r = 1 / sqrt(mean_c(x²) + ε), out[row, c] = x[row, c]·r·w[c].
// Per row: reads x (C, twice) and w (C), writes out (C) and rstd (1, kept for
// the backward). One invocation per row (64 rows per workgroup, no workgroup
// memory, no barrier): on lavapipe every per-lane load is a loop over the SIMD
// lanes and a barrier switches SIMD groups, so a lane that owns its row and
// reads it 16 bytes at a time beats a workgroup per row with a tree.
// Σx² in a fixed order (deterministic): four vec4 accumulators take the row's
// blocks of 16 channels in turn (the tail of < 16 channels, 4 at a time, goes
// to the first), then (a0 + a1) + (a2 + a3) and (x + y) + (z + w): depth at
// most ⌊C/16⌋ + 7 additions.
// With C a multiple of 4 the "// @vec4" lines read 16 bytes at a time; the
// host swaps in the "// @scalar " lines otherwise (src/train/gpu/_specialize.ts).

struct Params {
  N: u32, // rows
  C: u32, // width
  eps: u32, // ε as f32 bits
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>; // [N]
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>; // @vec4
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>; // @vec4
@group(0) @binding(4) var<storage, read> w: array<vec4<f32>>; // @vec4
fn ld_x(e: u32, n: u32) -> vec4<f32> { return x[e / 4u]; } // @vec4
fn ld_w(e: u32, n: u32) -> vec4<f32> { return w[e / 4u]; } // @vec4
fn st_out(e: u32, n: u32, v: vec4<f32>) { out[e / 4u] = v; } // @vec4
// @scalar @group(0) @binding(1) var<storage, read_write> out: array<f32>; // [N, C]
// @scalar @group(0) @binding(3) var<storage, read> x: array<f32>; // [N, C]
// @scalar @group(0) @binding(4) var<storage, read> w: array<f32>; // [C]
// @scalar fn ld_x(e: u32, n: u32) -> vec4<f32> { return vec4(x[e], select(0.0, x[e + 1u], n > 1u), select(0.0, x[e + 2u], n > 2u), select(0.0, x[e + 3u], n > 3u)); }
// @scalar fn ld_w(e: u32, n: u32) -> vec4<f32> { return vec4(w[e], select(0.0, w[e + 1u], n > 1u), select(0.0, w[e + 2u], n > 2u), select(0.0, w[e + 3u], n > 3u)); }
// @scalar fn st_out(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { out[e + j] = v[j]; } }

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid;
  if (row >= p.N) {
    return; // no barrier in this kernel
  }
  let C = p.C;
  let base = row * C;
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var c = 0u;
  for (; c + 16u <= C; c += 16u) {
    let v0 = ld_x(base + c, 4u);
    let v1 = ld_x(base + c + 4u, 4u);
    let v2 = ld_x(base + c + 8u, 4u);
    let v3 = ld_x(base + c + 12u, 4u);
    a0 += v0 * v0;
    a1 += v1 * v1;
    a2 += v2 * v2;
    a3 += v3 * v3;
  }
  for (; c < C; c += 4u) {
    let v = ld_x(base + c, min(4u, C - c));
    a0 += v * v;
  }
  let a = (a0 + a1) + (a2 + a3);
  let ss = (a.x + a.y) + (a.z + a.w);
  let r = 1.0 / sqrt(ss / f32(C) + bitcast<f32>(p.eps));
  rstd[row] = r;
  for (c = 0u; c < C; c += 4u) {
    let n = min(4u, C - c);
    st_out(base + c, n, ld_x(base + c, n) * r * ld_w(c, n));
  }
}
