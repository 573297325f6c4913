// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// g_φ[a, k] = Σ_t v_t[a] · g_p[t, k]: the φ gradient of the mHC coefficient
// pass, summed over tokens in a fixed order (deterministic, no atomics).
// One invocation per entry (a, k) of g_φ ([nC, K] row-major, so writes are
// coalesced; a grid-stride loop when the grid is smaller); it loops over
// the dispatch's tokens in order. When the host
// splits the tokens into chunks, the chunks run in order and each after the
// first adds to the sum so far (`accumulate`).
//
// Per token, in elements: reads nC (x) + K (g_p, from the backward scratch);
// writes nothing per token (nC·K once per dispatch).

/** Element type of the streams: f32, or f16 when the host enables it. */
alias XT = f32;

struct GradPhiParams {
  /** Tokens of this dispatch. */
  tokens: u32,
  /** n·C. */
  nc: u32,
  /** K = n² + 2n. */
  k: u32,
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

@compute @workgroup_size(64)
fn coefficients_grad_phi(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let kk = params.k;
  let entries = params.nc * kk;
  let width = params.width;
  // Grid-stride loop: the grid may be smaller than the entries.
  let stride = nwg.x * nwg.y * 64u;
  for (var i = (wg.x + wg.y * nwg.x) * 64u + w; i < entries; i += stride) {
    let a = i / kk;
    let k = i % kk;
    var s = 0.0;
    for (var t = 0u; t < params.tokens; t++) {
      s = fma(f32(x[t * params.nc + a]), scratch[t * width + kk + 3u + k], s);
    }
    if (params.accumulate != 0u) {
      s += g_phi[i];
    }
    g_phi[i] = s;
  }
}
