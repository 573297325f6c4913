// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// One read of a token's residual state x ∈ R^{n×C} (v = vec(x), length nC)
// gives the K = n² + 2n projections v·φ and, optionally, Σ v² (SPEC §3).
// Shared by the coefficient forward and backward kernels; appended to
// sinkhorn_core.wgsl (which declares N), before the kernel file.
//
// One workgroup per token, WG (<= 64) invocations. Invocation w reads
// v[a] for a = w, w + WG, … (consecutive invocations read consecutive
// elements of x and consecutive rows of φ, which is [nC, K] row-major) and
// keeps K + 1 partial sums in registers. The partial sums are then reduced
// through workgroup memory, CO_CH values per round, each by one invocation
// summing the WG partials in a fixed order: the result is deterministic.
//
// Per token, in elements: reads nC (x) + nC·K (φ, shared by all tokens and
// served from cache); writes nothing to global memory.

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Invocations per workgroup (one token per workgroup), <= 64. */
override WG: u32 = 64u;
/** Outputs of the projection: n² + 2n. */
override K: u32 = N * N + 2u * N;
/** Largest K + 1 (n = 8): the size of the private accumulators. */
const CO_ACC: u32 = 81u;
/** Partial sums reduced per round. */
const CO_CH: u32 = 32u;

var<workgroup> co_red: array<f32, 2048>; // 64 invocations × CO_CH partials
/** The reduced sums: co_sum[k] = (v·φ)[k] for k < K, co_sum[K] = Σ v². */
var<workgroup> co_sum: array<f32, 84>;

/** Residual states [T, n, C] of this dispatch's tokens. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Projection φ, [nC, K] row-major. */
@group(0) @binding(2) var<storage, read> phi: array<f32>;

/**
 * Computes co_sum[k] = (v·φ)[k] for k < K and, when `with_sq`, co_sum[K] =
 * Σ v², for the token whose state starts at x[base]. Call in uniform control
 * flow; co_sum is readable when it returns.
 */
fn co_project(base: u32, nc: u32, with_sq: bool, w: u32) {
  var acc: array<f32, CO_ACC>;
  for (var k = 0u; k <= K; k++) {
    acc[k] = 0.0;
  }
  for (var a = w; a < nc; a += WG) {
    let v = f32(x[base + a]);
    let row = a * K;
    for (var k = 0u; k < K; k++) {
      acc[k] = fma(v, phi[row + k], acc[k]);
    }
    acc[K] = fma(v, v, acc[K]);
  }
  co_reduce(&acc, select(K, K + 1u, with_sq), w);
}

/**
 * Reduces `count` (<= K + 1) per-invocation partial sums over the workgroup
 * into co_sum[0 … count), each sum in a fixed order. Ends with a barrier.
 */
fn co_reduce(acc: ptr<function, array<f32, CO_ACC>>, count: u32, w: u32) {
  for (var r = 0u; r < count; r += CO_CH) {
    for (var c = 0u; c < CO_CH; c++) {
      if (r + c < count) {
        co_red[w * CO_CH + c] = (*acc)[r + c];
      }
    }
    workgroupBarrier();
    for (var c = w; c < CO_CH; c += WG) {
      if (r + c < count) {
        var s = 0.0;
        for (var q = 0u; q < WG; q++) {
          s += co_red[q * CO_CH + c];
        }
        co_sum[r + c] = s;
      }
    }
    workgroupBarrier();
  }
}
