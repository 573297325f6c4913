// Bench copy of wgsl/token_reduce.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// Per-token workgroup tree reduction, shared by the backward stream kernels
// (pre_backward.wgsl, post_backward.wgsl); the host appends this file to theirs.
//
// One workgroup of WG threads owns one token. Each thread holds partial sums;
// reduce_rows() adds up R of them over the workgroup in a fixed binary tree,
// so the result is deterministic (no atomics, same order on every run).
// Reads and writes only workgroup memory.

const WG: u32 = 64u; // threads per workgroup of the backward kernels
const R: u32 = 8u; // partial sums reduced per round

var<workgroup> red: array<f32, R * WG>; // row r holds the WG partials of value r

// Sums v[r] over the workgroup for every r < R; afterwards red[r * WG] holds
// the sum of row r. Contains barriers: call it in uniform control flow only.
fn reduce_rows(lid: u32, v: array<f32, R>) {
  for (var r = 0u; r < R; r++) {
    red[r * WG + lid] = v[r];
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      for (var r = 0u; r < R; r++) {
        red[r * WG + lid] += red[r * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
}
