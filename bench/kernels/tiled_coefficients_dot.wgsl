// Bench copy of wgsl/coefficients_dot.wgsl as it was before issue 11 (commit 62a3226),
// kept as the "before" row of the report's variants tables. Not used by the library.
//
// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// The projection p = v·φ of a TILE of tokens (SPEC §3): v = vec(x) of each
// token (length nC), φ [nC, K] row-major, K = n² + 2n. Shared by the
// coefficient forward and backward kernels; appended to sinkhorn_core.wgsl
// (which declares N), before the kernel file.
//
// A workgroup of 64 invocations handles CO_TT tokens, as CO_TG token groups
// × CO_KL output lanes: invocation w (group w / CO_KL, lane w % CO_KL)
// accumulates a register micro-tile of 4 tokens (group + CO_TG·i, as the 4
// components of a vec4) × CO_KJ outputs (lane + CO_KL·j). The nC dimension
// is walked in chunks of CO_CH: the invocations load the tile's x chunk
// [CO_TT, CO_CH] (consecutive invocations read consecutive elements of a
// token's row) and the chunk's φ rows [CO_CH, K] (one contiguous span of φ)
// into workgroup memory, then run the micro-tiles. Each φ element read from
// global memory thus serves CO_TT tokens, and each value read from workgroup
// memory serves 4 or CO_KJ FMAs. The sums are blocked: a chunk's partial sum
// (<= CO_CH terms) is added to the running total, which keeps the float32
// error small for large nC. The loads also give Σ v² (CO_LP partial sums per
// invocation, reduced per token in a fixed order by co_sum_squares):
// deterministic, no atomics.
//
// Per token, in elements: reads nC (x) + nC·K / CO_TT (φ); writes nothing to
// global memory.

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

/** Outputs of the projection: n² + 2n. */
const K: u32 = N * N + 2u * N;
/** Output lanes (the host rewrites this line: 8 for n <= 4, else 16). */
const CO_KL: u32 = 8u;
/** Token groups: 64 / CO_KL. */
const CO_TG: u32 = 64u / CO_KL;
/** Tokens per workgroup: 4 per token group. */
const CO_TT: u32 = 4u * CO_TG;
/** K rounded up to the output lanes. */
const CO_KP: u32 = (K + CO_KL - 1u) / CO_KL * CO_KL;
/** Row stride of the shared φ and gradient tiles (odd: no bank conflicts). */
const CO_KS: u32 = CO_KP + 1u;
/** Outputs per invocation along K. */
const CO_KJ: u32 = CO_KP / CO_KL;
/** Elements of v per chunk (the host rewrites this line: 32 for n <= 6, else 16). */
const CO_CH: u32 = 32u;
/** Row stride of the shared x tile. */
const CO_XS: u32 = CO_CH + 1u;
/** x elements each invocation loads per chunk. */
const CO_LP: u32 = CO_TT * CO_CH / 64u;
/** Tokens covered by one load round of the 64 invocations. */
const CO_TPL: u32 = 64u / CO_CH;

/** A micro-tile: [output j] → the 4 tokens' values. */
alias CoTile = array<vec4f, CO_KJ>;
alias CoSq = array<f32, CO_LP>;

/** The tile's x chunk, [CO_TT][CO_XS]; reused for Σ v² partials. */
var<workgroup> co_x: array<f32, CO_TT * CO_XS>;
/**
 * The chunk's φ rows, [CO_CH][CO_KS] (columns K … CO_KS − 1 stay 0); reused
 * for per-token staging after the projection.
 */
var<workgroup> co_phi: array<f32, CO_CH * CO_KS>;

/** Residual states [T, n, C] of this dispatch's tokens. */
@group(0) @binding(1) var<storage, read> x: array<XT>;
/** Projection φ, [nC, K] row-major. */
@group(0) @binding(2) var<storage, read> phi: array<f32>;

/**
 * Loads the φ rows c0 … c0 + CO_CH − 1 (those below nc) into co_phi. Rows
 * past nc keep stale finite values: they only meet zero x elements, or
 * produce outputs that are not stored.
 */
fn co_load_phi(c0: u32, nc: u32, w: u32) {
  let count = min(CO_CH, nc - c0) * K;
  let base = c0 * K;
  for (var e = w; e < count; e += 64u) {
    co_phi[(e / K) * CO_KS + e % K] = phi[base + e];
  }
}

/** The 4 tile tokens of token group `tg` at column c of co_x. */
fn co_x4(tg: u32, c: u32) -> vec4f {
  return vec4f(
    co_x[tg * CO_XS + c],
    co_x[(tg + CO_TG) * CO_XS + c],
    co_x[(tg + 2u * CO_TG) * CO_XS + c],
    co_x[(tg + 3u * CO_TG) * CO_XS + c],
  );
}

/**
 * Returns the micro-tile p[j][i] = (v_t·φ)[k] of invocation w (t = t0 +
 * w / CO_KL + CO_TG·i, k = w % CO_KL + CO_KL·j; zero past `tokens`), and
 * adds the invocation's Σ v² partials to `sq`. Call in uniform control flow;
 * co_x and co_phi are free again when it returns.
 */
fn co_project(
  t0: u32,
  tokens: u32,
  nc: u32,
  w: u32,
  sq: ptr<function, CoSq>,
) -> CoTile {
  var acc = CoTile();
  let tg = w / CO_KL;
  let kg = w % CO_KL;
  let lt = w / CO_CH; // first token of this invocation's loads
  let lc = w % CO_CH; // its column within the chunk
  for (var c0 = 0u; c0 < nc; c0 += CO_CH) {
    for (var i = 0u; i < CO_LP; i++) {
      let t = lt + CO_TPL * i;
      var v = 0.0;
      if (t0 + t < tokens && c0 + lc < nc) {
        v = f32(x[(t0 + t) * nc + c0 + lc]);
      }
      co_x[t * CO_XS + lc] = v;
      (*sq)[i] = fma(v, v, (*sq)[i]);
    }
    co_load_phi(c0, nc, w);
    workgroupBarrier();
    var part = CoTile(); // explicit: zeroed on every chunk
    for (var c = 0u; c < CO_CH; c++) {
      let xv = co_x4(tg, c);
      for (var j = 0u; j < CO_KJ; j++) {
        part[j] = fma(xv, vec4f(co_phi[c * CO_KS + kg + CO_KL * j]), part[j]);
      }
    }
    for (var j = 0u; j < CO_KJ; j++) {
      acc[j] += part[j];
    }
    workgroupBarrier();
  }
  return acc;
}

/** Stores invocation w's Σ v² partials in co_x (free after co_project). */
fn co_put_squares(sq: CoSq, w: u32) {
  for (var i = 0u; i < CO_LP; i++) {
    co_x[w * CO_LP + i] = sq[i];
  }
}

/**
 * Σ v² of tile token `tl` from every invocation's partials, summed in a
 * fixed order. Every invocation must first have stored its partials with
 * co_put_squares and passed a barrier.
 */
fn co_sum_squares(tl: u32) -> f32 {
  let i = tl / CO_TPL;
  let first = (tl % CO_TPL) * CO_CH;
  var s = 0.0;
  for (var c = 0u; c < CO_CH; c++) {
    s += co_x[(first + c) * CO_LP + i];
  }
  return s;
}
