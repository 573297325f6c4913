// Token plus position embedding, backward, without atomics:
//   dwte[v, c] = Σ_{r : tokens[r] = v} dout[r, c]   (rows r in increasing order)
//   dwpe[t, c] = Σ_b dout[b·T + t, c] for t < T, and 0 for T ≤ t < maxT.
// Both tables are OVERWRITTEN (rows never used get 0).
//
// Invocations [0, V·CB) of the first ⌈V·CB/64⌉ workgroups own one vocabulary
// row v and a block of 64 channels of it (CB = ⌈C/64⌉ blocks), held in 16 vec4
// accumulators. Each walks all token ids in order, 4 at a time, and at each
// row r with tokens[r] = v adds that row's 64 dout values: the same order as
// the CPU twin (deterministic); each dout value is read once per block. With
// B·T a multiple of 4 the "// @ids4" lines read the ids 16 bytes at a time;
// the host swaps in the "// @ids1 " lines otherwise. The remaining workgroups
// take 4 elements of one dwpe row per invocation and sum over b in order.
// No workgroup memory, no barrier: on lavapipe a per-lane load is a loop over
// the SIMD lanes and a barrier switches SIMD groups, so lanes that own their
// outputs beat a workgroup-wide prefix sum per tile of ids.
// With C a multiple of 4 the "// @vec4" lines read 16 bytes at a time; the
// host swaps in the "// @scalar " lines otherwise (src/train/gpu/_specialize.ts).

struct Params {
  rows: u32, // B·T
  T: u32, // sequence length
  C: u32, // width
  V: u32, // vocabulary rows of dwte
  maxT: u32, // rows of dwpe
  cb: u32, // ⌈C / 64⌉
  B: u32, // sequences
  te_groups: u32, // ⌈V·cb / 64⌉: workgroups of the dwte part
}

const WG: u32 = 64u;
const BLOCK: u32 = 16u; // vec4 accumulators per dwte invocation (64 channels)

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> tokens: array<vec4<u32>>; // @ids4
fn ids(q: u32) -> vec4<u32> { return tokens[q]; } // @ids4
// @ids1 @group(0) @binding(4) var<storage, read> tokens: array<u32>; // [B·T]
// @ids1 fn ids(q: u32) -> vec4<u32> { let r = 4u * q; return vec4(tokens[r], tokens[r + 1u], tokens[r + 2u], tokens[r + 3u]); }
@group(0) @binding(1) var<storage, read_write> dwte: array<vec4<f32>>; // @vec4
@group(0) @binding(2) var<storage, read_write> dwpe: array<vec4<f32>>; // @vec4
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>; // @vec4
fn ld_g(e: u32, n: u32) -> vec4<f32> { return dout[e / 4u]; } // @vec4
fn st_te(e: u32, n: u32, v: vec4<f32>) { dwte[e / 4u] = v; } // @vec4
fn st_pe(e: u32, n: u32, v: vec4<f32>) { dwpe[e / 4u] = v; } // @vec4
// @scalar @group(0) @binding(1) var<storage, read_write> dwte: array<f32>; // [V, C]
// @scalar @group(0) @binding(2) var<storage, read_write> dwpe: array<f32>; // [maxT, C]
// @scalar @group(0) @binding(3) var<storage, read> dout: array<f32>; // [B·T, C]
// @scalar fn ld_g(e: u32, n: u32) -> vec4<f32> { return vec4(dout[e], select(0.0, dout[e + 1u], n > 1u), select(0.0, dout[e + 2u], n > 2u), select(0.0, dout[e + 3u], n > 3u)); }
// @scalar fn st_te(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { dwte[e + j] = v[j]; } }
// @scalar fn st_pe(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { dwpe[e + j] = v[j]; } }

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = wid.x + wid.y * nwg.x;
  let C = p.C;
  if (g < p.te_groups) {
    let i = g * WG + lid;
    if (i >= p.V * p.cb) {
      return; // no barrier in this kernel
    }
    let v = i / p.cb;
    let c0 = (i - v * p.cb) * (4u * BLOCK);
    var acc: array<vec4<f32>, BLOCK>;
    for (var q = 0u; q * 4u < p.rows; q++) {
      let r0 = q * 4u;
      // Ids past the end (a last group of fewer than 4) never match.
      let hit = (ids(q) == vec4(v)) &
        (vec4(r0, r0 + 1u, r0 + 2u, r0 + 3u) < vec4(p.rows));
      if (any(hit)) {
        for (var j = 0u; j < 4u; j++) {
          if (hit[j]) {
            let e = (r0 + j) * C + c0;
            for (var k = 0u; k < BLOCK; k++) {
              let c = c0 + 4u * k;
              if (c < C) {
                acc[k] += ld_g(e + 4u * k, min(4u, C - c));
              }
            }
          }
        }
      }
    }
    for (var k = 0u; k < BLOCK; k++) {
      let c = c0 + 4u * k;
      if (c < C) {
        st_te(v * C + c, min(4u, C - c), acc[k]);
      }
    }
    return;
  }
  let cv = (C + 3u) / 4u;
  let j = (g - p.te_groups) * WG + lid;
  if (j >= p.maxT * cv) {
    return;
  }
  let t = j / cv;
  let c = (j - t * cv) * 4u;
  let n = min(4u, C - c);
  var acc = vec4(0.0);
  if (t < p.T) {
    for (var b = 0u; b < p.B; b++) {
      acc += ld_g((b * p.T + t) * C + c, n);
    }
  }
  st_pe(t * C + c, n, acc);
}
