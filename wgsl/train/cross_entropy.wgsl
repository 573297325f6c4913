// Softmax cross-entropy, forward and backward fused, one invocation per row
// (64 rows per workgroup, no workgroup memory, no barrier). With
// M = max_v logits[v] and S = Σ_v exp(logits[v] − M):
//   losses[row]   = log(S) + M − logits[target]   (exact even when p underflows)
//   dlogits[v]    = exp(logits[v] − M)/S · (1/N), minus 1/N at v = target.
// Per row: reads logits (V) three times (max, sum, gradient) and the target id
// (u32); writes dlogits (V, overwritten) and losses (1). S in a fixed order
// (deterministic): four vec4 accumulators take the row's blocks of 16 logits in
// turn (the tail, 4 at a time, goes to the first), then (a0 + a1) + (a2 + a3)
// and (x + y) + (z + w): depth ≤ ⌊V/16⌋ + 7. A target id ≥ V is read as V − 1
// (ids are the caller's to check). On lavapipe a per-lane load is a loop over
// the SIMD lanes and a barrier switches SIMD groups, so a lane that owns its
// row beats a workgroup per row with trees.
// With V a multiple of 4 the "// @vec4" lines read 16 bytes at a time; the
// host swaps in the "// @scalar " lines otherwise (src/train/gpu/_specialize.ts).

struct Params {
  N: u32, // rows
  V: u32, // vocabulary
  inv_n: u32, // 1/N as f32 bits
}

const WG: u32 = 64u;
const LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read_write> losses: array<f32>; // [N]
@group(0) @binding(4) var<storage, read> targets: array<u32>; // [N]
@group(0) @binding(1) var<storage, read_write> dlogits: array<vec4<f32>>; // @vec4
@group(0) @binding(3) var<storage, read> logits: array<vec4<f32>>; // @vec4
fn ld_l(e: u32, n: u32, fill: f32) -> vec4<f32> { return logits[e / 4u]; } // @vec4
fn ld_one(e: u32) -> f32 { return logits[e / 4u][e % 4u]; } // @vec4
fn st_d(e: u32, n: u32, v: vec4<f32>) { dlogits[e / 4u] = v; } // @vec4
// @scalar @group(0) @binding(1) var<storage, read_write> dlogits: array<f32>; // [N, V]
// @scalar @group(0) @binding(3) var<storage, read> logits: array<f32>; // [N, V]
// @scalar fn ld_l(e: u32, n: u32, fill: f32) -> vec4<f32> { return vec4(logits[e], select(fill, logits[e + 1u], n > 1u), select(fill, logits[e + 2u], n > 2u), select(fill, logits[e + 3u], n > 3u)); }
// @scalar fn ld_one(e: u32) -> f32 { return logits[e]; }
// @scalar fn st_d(e: u32, n: u32, v: vec4<f32>) { for (var j = 0u; j < n; j++) { dlogits[e + j] = v[j]; } }

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
  let V = p.V;
  let base = row * V;
  var mv = vec4(LOWEST);
  for (var v = 0u; v < V; v += 4u) {
    mv = max(mv, ld_l(base + v, min(4u, V - v), LOWEST));
  }
  let m = max(max(mv.x, mv.y), max(mv.z, mv.w));
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var v = 0u;
  for (; v + 16u <= V; v += 16u) {
    a0 += exp(ld_l(base + v, 4u, m) - m);
    a1 += exp(ld_l(base + v + 4u, 4u, m) - m);
    a2 += exp(ld_l(base + v + 8u, 4u, m) - m);
    a3 += exp(ld_l(base + v + 12u, 4u, m) - m);
  }
  for (; v < V; v += 4u) {
    let n = min(4u, V - v);
    // Padding lanes load M (exp(0) = 1) and are then zeroed.
    let keep = select(vec4(0.0), vec4(1.0), vec4(0u, 1u, 2u, 3u) < vec4(n));
    a0 += exp(ld_l(base + v, n, m) - m) * keep;
  }
  let a = (a0 + a1) + (a2 + a3);
  let sum = (a.x + a.y) + (a.z + a.w);
  let tgt = min(targets[row], V - 1u);
  losses[row] = log(sum) + m - ld_one(base + tgt);
  let inv_n = bitcast<f32>(p.inv_n);
  for (v = 0u; v < V; v += 4u) {
    let n = min(4u, V - v);
    var d = exp(ld_l(base + v, n, m) - m) / sum * inv_n;
    let hit = vec4(v, v + 1u, v + 2u, v + 3u) == vec4(tgt);
    d -= select(vec4(0.0), vec4(inv_n), hit);
    st_d(base + v, n, d);
  }
}
