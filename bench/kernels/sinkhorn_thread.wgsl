// Bench-only variant of the Sinkhorn-Knopp kernels of wgsl/sinkhorn.wgsl
// (SPEC §4, log domain, eps = 0): ONE invocation per matrix instead of one
// per entry. The n² iterates stay in the invocation's registers, so no
// normalisation needs a workgroup exchange or barrier; the backward keeps the
// n axis offsets of each step (2·iterations·n values) in a private array
// and walks the iterates back from them (ℓ_s = ℓ_{s+1} + lse_s).
// Same traffic as the library kernels: forward reads n², writes n²;
// backward reads 2n², writes n² per token.

const N: u32 = 4u; // matrix size (rewritten by the bench host)
const NN: u32 = N * N;
const MAX_STEPS: u32 = 64u; // history capacity: 2·iterations <= 64

override WG: u32 = 64u; // matrices (invocations) per workgroup

struct Params {
  tokens: u32, // matrices in this chunk
  iterations: u32, // (column, row) pairs, 2·iterations <= MAX_STEPS
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // [T, n, n]
@group(0) @binding(2) var<storage, read_write> result: array<f32>; // [T, n, n]

// Index of entry q along axis p: column p (cols) or row p.
fn at(p: u32, q: u32, cols: bool) -> u32 {
  return select(p * N + q, q * N + p, cols);
}

// ℓ ← ℓ − logsumexp_axis(ℓ), each logsumexp stabilised by its maximum;
// returns the n offsets.
fn normalize(l: ptr<function, array<f32, NN>>, cols: bool) -> array<f32, N> {
  var off: array<f32, N>;
  for (var p = 0u; p < N; p++) {
    var m = (*l)[at(p, 0u, cols)];
    for (var q = 1u; q < N; q++) {
      m = max(m, (*l)[at(p, q, cols)]);
    }
    var s = 0.0;
    for (var q = 0u; q < N; q++) {
      s += exp((*l)[at(p, q, cols)] - m);
    }
    let r = m + log(s);
    off[p] = r;
    for (var q = 0u; q < N; q++) {
      (*l)[at(p, q, cols)] -= r;
    }
  }
  return off;
}

// Backward through one step ℓ' = ℓ − lse_axis(ℓ), with *l = ℓ' on entry:
// g_ℓ = g' − exp(ℓ') · Σ_axis g'; then *l = ℓ = ℓ' + lse.
fn unstep(
  l: ptr<function, array<f32, NN>>,
  g: ptr<function, array<f32, NN>>,
  off: array<f32, N>,
  cols: bool,
) {
  for (var p = 0u; p < N; p++) {
    var a = 0.0;
    for (var q = 0u; q < N; q++) {
      a += (*g)[at(p, q, cols)];
    }
    for (var q = 0u; q < N; q++) {
      let k = at(p, q, cols);
      (*g)[k] -= exp((*l)[k]) * a;
      (*l)[k] += off[p];
    }
  }
}

fn token(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn load(t: u32) -> array<f32, NN> {
  var l: array<f32, NN>;
  for (var k = 0u; k < NN; k++) {
    l[k] = logits[t * NN + k];
  }
  return l;
}

@compute @workgroup_size(WG)
fn forward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = token(wid, nwg, lid);
  if (t >= params.tokens) {
    return; // no barriers in this kernel
  }
  var l = load(t);
  // Column step, then row step: `cols` is a constant in each call, so the
  // compiler can unroll the axis loops and keep the iterates in registers.
  for (var it = 0u; it < params.iterations; it++) {
    normalize(&l, true);
    normalize(&l, false);
  }
  for (var k = 0u; k < NN; k++) {
    result[t * NN + k] = exp(l[k]);
  }
}

@group(0) @binding(3) var<storage, read> grad_out: array<f32>; // [T, n, n]

@compute @workgroup_size(WG)
fn backward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = token(wid, nwg, lid);
  if (t >= params.tokens) {
    return;
  }
  let iterations = min(params.iterations, MAX_STEPS / 2u);
  var l = load(t);
  // Offsets of step s (column steps even, row steps odd) at hist[s].
  var hist: array<array<f32, N>, MAX_STEPS>;
  for (var it = 0u; it < iterations; it++) {
    hist[2u * it] = normalize(&l, true);
    hist[2u * it + 1u] = normalize(&l, false);
  }
  var g: array<f32, NN>;
  for (var k = 0u; k < NN; k++) {
    g[k] = grad_out[t * NN + k] * exp(l[k]); // through H = exp(ℓ)
  }
  for (var it = iterations; it > 0u; it--) {
    unstep(&l, &g, hist[2u * it - 1u], false);
    unstep(&l, &g, hist[2u * it - 2u], true);
  }
  for (var k = 0u; k < NN; k++) {
    result[t * NN + k] = g[k];
  }
}
