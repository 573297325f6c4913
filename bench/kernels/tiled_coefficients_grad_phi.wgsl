// Bench copy of wgsl/coefficients_grad_phi.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// g_φ[a, k] = Σ_t v_t[a] · g_p[t, k]: the φ gradient of the mHC coefficient
// pass, a [nC, T] × [T, K] product, summed over tokens in a fixed order
// (deterministic, no atomics). One workgroup of 64 invocations per block of
// GP_RA rows of g_φ (all K columns); it walks the dispatch's tokens in
// chunks of GP_TC: the invocations load the chunk's x columns [GP_TC, GP_RA]
// (consecutive invocations read consecutive elements of a token's row) and
// its g_p rows [GP_TC, K] (from the backward scratch) into workgroup memory,
// then each invocation accumulates a register micro-tile of 4 rows (the
// components of a vec4) × GP_KJ columns (invocation w: rows w / 8 + 8·i,
// columns w % 8 + 8·j). A
// chunk's partial sum is added to the running total (blocked summation).
// When the host splits the tokens into chunks, the chunks run in order and
// each after the first adds to the sum so far (`accumulate`).
//
// Per token, in elements: reads nC (x, once over all workgroups) +
// K · nC / GP_RA (g_p); writes nothing per token (nC·K once per dispatch).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Streams n (the host rewrites this line for each pipeline). */
const N: u32 = 4u;
const K: u32 = N * N + 2u * N;
/** K rounded up to the 8 column lanes. */
const GP_KP: u32 = (K + 7u) / 8u * 8u;
/** Row stride of the shared g_p tile (odd: no bank conflicts). */
const GP_KS: u32 = GP_KP + 1u;
const GP_KJ: u32 = GP_KP / 8u;
/** Rows of g_φ per workgroup: 8 row groups × 4. */
const GP_RA: u32 = 32u;
/** Row stride of the shared x tile. */
const GP_XS: u32 = GP_RA + 1u;
/** Tokens per chunk. */
const GP_TC: u32 = 32u;

/** A micro-tile: [column j] → the values of the invocation's 4 rows. */
alias GpTile = array<vec4f, GP_KJ>;

struct GradPhiParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  /** 1: add to g_φ (a later chunk); 0: overwrite it. */
  accumulate: u32,
  /** Row length of the scratch buffer (>= 2K + 3). */
  width: u32,
}

@group(0) @binding(0) var<uniform> params: GradPhiParams;
/** Residual states [T, n, C]. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Backward scratch [T, width]; g_p is at columns K + 3 … 2K + 2. */
@group(0) @binding(2) var<storage, read> scratch: array<f32>;
/** g_φ, [nC, K]. */
@group(0) @binding(3) var<storage, read_write> g_phi: array<f32>;

/** The chunk's x columns, [GP_TC][GP_XS]. */
var<workgroup> gp_x: array<f32, GP_TC * GP_XS>;
/** The chunk's g_p rows, [GP_TC][GP_KS] (columns K … stay 0). */
var<workgroup> gp_g: array<f32, GP_TC * GP_KS>;

@compute @workgroup_size(64)
fn coefficients_grad_phi(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let a0 = (wg.x + wg.y * nwg.x) * GP_RA;
  let nc = params.nc;
  let tokens = params.tokens;
  if (a0 >= nc) {
    return; // the whole workgroup: uniform
  }
  let width = params.width;
  let ag = w / 8u;
  let kg = w % 8u;
  var acc = GpTile();
  for (var t0 = 0u; t0 < tokens; t0 += GP_TC) {
    for (var i = 0u; i < GP_TC * GP_RA / 64u; i++) {
      let e = w + 64u * i;
      let t = e / GP_RA;
      let a = e % GP_RA;
      var v = 0.0;
      if (t0 + t < tokens && a0 + a < nc) {
        v = f32(x[(t0 + t) * nc + a0 + a]);
      }
      gp_x[t * GP_XS + a] = v;
    }
    for (var e = w; e < GP_TC * K; e += 64u) {
      let t = e / K;
      let k = e % K;
      var v = 0.0;
      if (t0 + t < tokens) {
        v = scratch[(t0 + t) * width + K + 3u + k];
      }
      gp_g[t * GP_KS + k] = v;
    }
    workgroupBarrier();
    var part = GpTile(); // explicit: zeroed on every chunk
    for (var t = 0u; t < GP_TC; t++) {
      let r = t * GP_XS + ag;
      let xv = vec4f(gp_x[r], gp_x[r + 8u], gp_x[r + 16u], gp_x[r + 24u]);
      for (var j = 0u; j < GP_KJ; j++) {
        part[j] = fma(xv, vec4f(gp_g[t * GP_KS + kg + 8u * j]), part[j]);
      }
    }
    for (var j = 0u; j < GP_KJ; j++) {
      acc[j] += part[j];
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let a = a0 + ag + 8u * i;
    for (var j = 0u; j < GP_KJ; j++) {
      let k = kg + 8u * j;
      if (a < nc && k < K) {
        let idx = a * K + k;
        var s = acc[j][i];
        if (params.accumulate != 0u) {
          s += g_phi[idx];
        }
        g_phi[idx] = s;
      }
    }
  }
}
