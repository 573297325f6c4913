// Segmented workgroup reduction, shared by the backward stream kernels
// (pre_backward.wgsl, post_backward.wgsl); the host appends this file to
// theirs and sets WG, L and R (src/gpu/_streams.ts, the only definition).
//
// A workgroup of WG invocations holds TPW = WG / L tokens; the L lanes of
// slot s (invocations s·L … s·L + L − 1) own one token. Each lane holds up
// to R partial sums. stage_partials() stores them in workgroup memory;
// segment_sum(s, r) then adds up value r over the L lanes of slot s, in lane
// order: a fixed order, so the result is deterministic (no atomics, the same
// on every run). Reads and writes only workgroup memory.

const WG: u32 = 64u; // invocations per workgroup (host-set)
const L: u32 = 16u; // lanes per token, a power of two dividing WG (host-set)
const R: u32 = 8u; // partial sums per lane and round (host-set)
const TPW: u32 = WG / L; // tokens per workgroup

var<workgroup> red: array<f32, R * WG>; // row r holds the WG partials of value r

// Stores this lane's R partials and waits for the workgroup. Contains a
// barrier: call it in uniform control flow only.
fn stage_partials(lid: u32, v: array<f32, R>) {
  for (var r = 0u; r < R; r++) {
    red[r * WG + lid] = v[r];
  }
  workgroupBarrier();
}

// Sum of partial r over the lanes of slot s, after stage_partials().
fn segment_sum(s: u32, r: u32) -> f32 {
  let base = r * WG + s * L;
  var acc = red[base];
  for (var l = 1u; l < L; l++) {
    acc += red[base + l];
  }
  return acc;
}
