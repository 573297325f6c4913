// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Sinkhorn-Knopp core (SPEC §4), shared by the standalone Sinkhorn kernels and
// the fused mHC coefficient kernels. Not a kernel by itself: a kernel file is
// appended to this one.
//
// One invocation owns one entry (i, j) of one n × n matrix; a workgroup holds
// SK_TPW matrices (n² · SK_TPW <= 64 invocations). Axis sums and logsumexps
// are exchanged through a double-buffered workgroup array, so every
// normalisation costs one workgroupBarrier().
//
// eps = 0 (the paper): log domain, ℓ ← ℓ − logsumexp_axis(ℓ), each logsumexp
// stabilised by its own maximum (column first, row last, `iterations` times),
// output exp(ℓ). eps > 0 (DeepSeek's released code): linear domain,
// M⁰ = colsoftmax(L) + eps, M ← M / (sum_axis(M) + eps).
//
// Backward: exact reverse mode through all 2·iterations normalisations. The
// forward is recomputed on chip; only the per-step axis offsets (logsumexp or
// divisor: n floats per step per matrix) are kept, in workgroup memory, and
// the iterates are walked back from them (ℓ_s = ℓ_{s+1} + lse_s, or
// M_s = M_{s+1} · d_s). When 2·iterations exceeds the history capacity the
// steps are processed in segments from the end, each recomputed from the
// logits. Nothing per step goes to global memory.
//
// Every exp() argument is <= 0 (a value minus its axis maximum, or an
// iterate that is <= its own axis logsumexp) and every log() argument is
// >= 1, so no inf or NaN is generated from finite logits.
//
// Global memory traffic per matrix: none here (the caller loads the n² logits
// and stores the n² results).

/** Matrix size n (1 to 8). */
override N: u32 = 4u;
/** Matrices per workgroup; SK_TPW · N · N <= 64. */
override SK_TPW: u32 = 1u;

/** Double-buffered exchange area: two slots of 64 values. */
var<workgroup> sk_xch: array<f32, 128>;
/** Per-step axis offsets of the backward: [step][matrix][axis index]. */
const SK_HIST: u32 = 1024u;
var<workgroup> sk_hist: array<f32, SK_HIST>;
/** Which exchange slot the next exchange uses (the same in every invocation). */
var<private> sk_phase: u32 = 0u;

/** Runtime settings of the projection. */
struct SkConfig {
  /** Number of (column, row) normalisation pairs, >= 1. */
  iterations: u32,
  /** 0: log domain (paper); > 0: DeepSeek's linear variant. */
  eps: f32,
  /** Steps of history per matrix, >= 1 and <= SK_HIST / (SK_TPW · N). */
  hist_cap: u32,
}

/** Where one invocation sits: its matrix slot and its entry (i, j). */
struct SkLane {
  /** False for invocations without an entry (padding or past the last token). */
  live: bool,
  /** First exchange index of the lane's matrix: slot · N². */
  base: u32,
  /** First history index of the lane's matrix: slot · N. */
  hrow: u32,
  i: u32,
  j: u32,
}

/** Lane of local invocation `local`; `valid` says whether its matrix exists. */
fn sk_lane(local: u32, slot: u32, valid: bool) -> SkLane {
  let e = local - slot * N * N;
  return SkLane(valid, slot * N * N, slot * N, e / N, e % N);
}

/** Publishes `v` for the lane's entry; returns the exchange slot to read. */
fn sk_put(v: f32, lane: SkLane) -> u32 {
  let b = sk_phase * 64u;
  sk_phase = 1u - sk_phase;
  if (lane.live) {
    sk_xch[b + lane.base + lane.i * N + lane.j] = v;
  }
  workgroupBarrier();
  return b;
}

/** Entry q along the lane's column (`cols`) or row of exchange slot `b`. */
fn sk_at(b: u32, lane: SkLane, cols: bool, q: u32) -> f32 {
  let idx = select(lane.i * N + q, q * N + lane.j, cols);
  return sk_xch[b + lane.base + idx];
}

/** Sum of `v` over the lane's column (`cols`) or row. */
fn sk_sum(v: f32, lane: SkLane, cols: bool) -> f32 {
  let b = sk_put(v, lane);
  var s = 0.0;
  if (lane.live) {
    for (var q = 0u; q < N; q++) {
      s += sk_at(b, lane, cols, q);
    }
  }
  return s;
}

/** Maximum m and Σ exp(v − m) over the lane's column (`cols`) or row. */
fn sk_max_sum(v: f32, lane: SkLane, cols: bool) -> vec2f {
  let b = sk_put(v, lane);
  var m = 0.0;
  var s = 0.0;
  if (lane.live) {
    m = sk_at(b, lane, cols, 0u);
    for (var q = 1u; q < N; q++) {
      m = max(m, sk_at(b, lane, cols, q));
    }
    for (var q = 0u; q < N; q++) {
      s += exp(sk_at(b, lane, cols, q) - m);
    }
  }
  return vec2f(m, s);
}

/**
 * Starting iterate from the lane's logit: ℓ⁰ = L (log domain) or
 * M⁰ = colsoftmax(L) + eps (linear domain).
 */
fn sk_start(logit: f32, lane: SkLane, cfg: SkConfig) -> f32 {
  if (cfg.eps == 0.0) {
    return logit;
  }
  return sk_colsoftmax(logit, lane) + cfg.eps;
}

/** Column softmax of the lane's logit, stabilised by the column maximum. */
fn sk_colsoftmax(logit: f32, lane: SkLane) -> f32 {
  let ms = sk_max_sum(logit, lane, true);
  var r = 0.0;
  if (lane.live) {
    r = exp(logit - ms.x) / ms.y;
  }
  return r;
}

/**
 * Applies normalisation steps [first, last) to the iterate `v0` (step s
 * normalises columns when s is even, rows when odd). Steps s >= store0 record
 * their axis offset in the history at index s − store0.
 */
fn sk_steps(
  v0: f32,
  lane: SkLane,
  cfg: SkConfig,
  first: u32,
  last: u32,
  store0: u32,
) -> f32 {
  var v = v0;
  for (var s = first; s < last; s++) {
    let cols = (s & 1u) == 0u;
    var r = 0.0;
    if (cfg.eps == 0.0) {
      let ms = sk_max_sum(v, lane, cols);
      r = ms.x + log(ms.y);
      v = v - r;
    } else {
      r = sk_sum(v, lane, cols) + cfg.eps;
      v = v / r;
    }
    let writer = select(lane.j == 0u, lane.i == 0u, cols);
    if (s >= store0 && lane.live && writer) {
      let p = select(lane.i, lane.j, cols);
      sk_hist[(s - store0) * SK_TPW * N + lane.hrow + p] = r;
    }
  }
  return v;
}

/**
 * Axis offset (logsumexp or divisor) of the lane's column (`cols`) or row at
 * history index `h`; 1 for inactive lanes.
 */
fn sk_offset(lane: SkLane, h: u32, cols: bool) -> f32 {
  var r = 1.0;
  if (lane.live) {
    let p = select(lane.i, lane.j, cols);
    r = sk_hist[h * SK_TPW * N + lane.hrow + p];
  }
  return r;
}

/** Forward projection: returns the lane's entry of the projected matrix. */
fn sk_forward(logit: f32, lane: SkLane, cfg: SkConfig) -> f32 {
  let steps = 2u * cfg.iterations;
  let v = sk_steps(sk_start(logit, lane, cfg), lane, cfg, 0u, steps, steps);
  if (cfg.eps == 0.0) {
    return exp(v);
  }
  return v;
}

/**
 * Backward projection: from the lane's logit and the upstream gradient of
 * its output entry, returns the gradient of its logit.
 */
fn sk_backward(logit: f32, grad_out: f32, lane: SkLane, cfg: SkConfig) -> f32 {
  let steps = 2u * cfg.iterations;
  let cap = cfg.hist_cap;
  let log_domain = cfg.eps == 0.0;
  var soft = 0.0;
  if (!log_domain) {
    soft = sk_colsoftmax(logit, lane);
  }
  let v0 = select(soft + cfg.eps, logit, log_domain);
  var g = grad_out;
  var seg_end = steps;
  loop {
    let seg0 = select(0u, seg_end - cap, seg_end > cap);
    var v = sk_steps(v0, lane, cfg, 0u, seg_end, seg0);
    if (seg_end == steps && log_domain) {
      g = grad_out * exp(v); // through H = exp(ℓ)
    }
    for (var s = seg_end; s > seg0; s--) {
      let st = s - 1u;
      let cols = (st & 1u) == 0u;
      // The exchange's barrier also orders the history write of step st
      // (made after the forward's last barrier) before this read.
      if (log_domain) {
        // ℓ' = ℓ − lse(ℓ): g_ℓ = g' − exp(ℓ') · Σ_axis g'.
        let a = sk_sum(g, lane, cols);
        g = g - exp(v) * a;
        v = v + sk_offset(lane, st - seg0, cols); // the iterate before step st
      } else {
        // y = x / d: g_x = (g − Σ_axis(g ⊙ y)) / d.
        let a = sk_sum(g * v, lane, cols);
        let d = sk_offset(lane, st - seg0, cols);
        g = (g - a) / d;
        v = v * d;
      }
    }
    if (seg0 == 0u) {
      break;
    }
    seg_end = seg0;
  }
  if (log_domain) {
    return g;
  }
  // Through M⁰ = S + eps, S = colsoftmax(L): g_L = S ⊙ (g − Σ_col(g ⊙ S)).
  let a = sk_sum(g * soft, lane, true);
  return soft * (g - a);
}
