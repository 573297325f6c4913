// Token plus position embedding, backward, without atomics:
//   dwte[v, c] = Σ_{r : tokens[r] = v} dout[r, c]   (rows r in increasing order)
//   dwpe[t, c] = Σ_b dout[b·T + t, c] for t < T, and 0 for T ≤ t < maxT.
// Both tables are OVERWRITTEN (rows never used get 0).
//
// Workgroups [0, V·CB) own one vocabulary row v and 64 channels of it
// (CB = ⌈C/64⌉ channel blocks). They walk the token ids in tiles of 64: a
// workgroup prefix sum over "id == v" lists the matching rows of the tile in
// order, then each thread adds those rows' dout values for its channel. Each
// tile costs 64 id reads per workgroup; each dout row is read once per channel
// block by the one workgroup of its token, so the sum order is fixed
// (deterministic) and equals the sequential order of the CPU twin.
// The remaining workgroups own 64 elements of dwpe each and sum over b.

struct Params {
  rows: u32, // B·T
  T: u32, // sequence length
  C: u32, // width
  V: u32, // vocabulary rows of dwte
  maxT: u32, // rows of dwpe
  cb: u32, // ⌈C / 64⌉
  B: u32, // sequences
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dwte: array<f32>; // [V, C]
@group(0) @binding(2) var<storage, read_write> dwpe: array<f32>; // [maxT, C]
@group(0) @binding(3) var<storage, read> dout: array<f32>; // [B·T, C]
@group(0) @binding(4) var<storage, read> tokens: array<u32>; // [B·T]

var<workgroup> scan: array<u32, WG>; // inclusive prefix sum of the tile's matches
var<workgroup> hits: array<u32, WG>; // matching rows of the tile, in order

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x; // uniform over the workgroup
  let te = p.V * p.cb;
  if (w < te) {
    let v = w / p.cb;
    let c = (w - v * p.cb) * WG + lid;
    let live = c < p.C;
    var acc = 0.0;
    for (var base = 0u; base < p.rows; base += WG) {
      let r = base + lid;
      var f = 0u;
      if (r < p.rows && tokens[r] == v) {
        f = 1u;
      }
      scan[lid] = f;
      workgroupBarrier();
      for (var s = 1u; s < WG; s *= 2u) {
        var add = 0u;
        if (lid >= s) {
          add = scan[lid - s];
        }
        workgroupBarrier();
        scan[lid] += add;
        workgroupBarrier();
      }
      if (f == 1u) {
        hits[scan[lid] - 1u] = r;
      }
      let count = scan[WG - 1u];
      workgroupBarrier();
      if (live) {
        for (var k = 0u; k < count; k++) {
          acc += dout[hits[k] * p.C + c];
        }
      }
      workgroupBarrier(); // the next tile overwrites scan and hits
    }
    if (live) {
      dwte[v * p.C + c] = acc;
    }
  } else {
    let e = (w - te) * WG + lid;
    if (e < p.maxT * p.C) {
      let t = e / p.C;
      let c = e - t * p.C;
      var acc = 0.0;
      if (t < p.T) {
        for (var b = 0u; b < p.B; b++) {
          acc += dout[(b * p.T + t) * p.C + c];
        }
      }
      dwpe[e] = acc;
    }
  }
}
