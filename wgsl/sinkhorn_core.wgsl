// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Sinkhorn-Knopp core (SPEC §4), shared by the standalone Sinkhorn kernels and
// the fused mHC coefficient kernels. Not a kernel by itself: a kernel file is
// appended to this one.
//
// ONE invocation owns one whole n × n matrix: its n² iterates live in the
// invocation's registers, so no normalisation needs a workgroup exchange or a
// barrier. `N` is a compile-time constant (the host rewrites its line for each
// pipeline), so the axis loops unroll; the column step and the row step are
// separate calls with a constant axis for the same reason.
//
// eps = 0 (the paper): log domain, ℓ ← ℓ − logsumexp_axis(ℓ), each logsumexp
// stabilised by its own maximum (column first, row last, `iterations` times),
// output exp(ℓ). eps > 0 (DeepSeek's released code): linear domain,
// M⁰ = colsoftmax(L) + eps, M ← M / (sum_axis(M) + eps).
//
// Backward: exact reverse mode through all 2·iterations normalisations. The
// forward is recomputed in the invocation; only the per-step axis offsets
// (logsumexp or divisor: n floats per step) are kept, in a private array of
// SK_SEG iterations, and the iterates are walked back from them
// (ℓ_s = ℓ_{s+1} + lse_s, or M_s = M_{s+1} · d_s). When the iterations exceed
// SK_SEG they are processed in segments from the end, each recomputed from the
// logits. Nothing per step goes to global memory.
//
// Every exp() argument is <= 0 (a value minus its axis maximum, or an
// iterate normalised along an axis, clamped at 0 against rounding in the
// walk back) and every log() argument is >= 1, so no inf or NaN is generated
// from finite logits.
//
// Global memory traffic per matrix: none here (the caller loads the n² logits
// and stores the n² results).

/** Matrix size n, 1 to 8 (the host rewrites this line for each pipeline). */
const N: u32 = 4u;
const NN: u32 = N * N;
/** Iterations whose offsets the backward keeps at once (16·n² floats). */
const SK_SEG: u32 = 8u * N;

alias SkMat = array<f32, NN>;
alias SkVec = array<f32, N>;

/** Runtime settings of the projection. */
struct SkConfig {
  /** Number of (column, row) normalisation pairs, >= 1. */
  iterations: u32,
  /** 0: log domain (paper); > 0: DeepSeek's linear variant. */
  eps: f32,
}

/** Index of entry q along column p (`cols`) or row p. */
fn sk_at(p: u32, q: u32, cols: bool) -> u32 {
  return select(p * N + q, q * N + p, cols);
}

/** ℓ ← ℓ − logsumexp along every column (`cols`) or row; returns the offsets. */
fn sk_log_step(l: ptr<function, SkMat>, cols: bool) -> SkVec {
  var off: SkVec;
  for (var p = 0u; p < N; p++) {
    var m = (*l)[sk_at(p, 0u, cols)];
    for (var q = 1u; q < N; q++) {
      m = max(m, (*l)[sk_at(p, q, cols)]);
    }
    var s = 0.0;
    for (var q = 0u; q < N; q++) {
      s += exp((*l)[sk_at(p, q, cols)] - m);
    }
    let r = m + log(s);
    off[p] = r;
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, cols);
      (*l)[k] = (*l)[k] - r;
    }
  }
  return off;
}

/** M ← M / (sum + eps) along every column (`cols`) or row; returns the divisors. */
fn sk_lin_step(m: ptr<function, SkMat>, cols: bool, eps: f32) -> SkVec {
  var off: SkVec;
  for (var p = 0u; p < N; p++) {
    var s = 0.0;
    for (var q = 0u; q < N; q++) {
      s += (*m)[sk_at(p, q, cols)];
    }
    let d = s + eps;
    off[p] = d;
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, cols);
      (*m)[k] = (*m)[k] / d;
    }
  }
  return off;
}

/** Column softmax in place, each column stabilised by its maximum. */
fn sk_colsoftmax(l: ptr<function, SkMat>) {
  for (var p = 0u; p < N; p++) {
    var m = (*l)[sk_at(p, 0u, true)];
    for (var q = 1u; q < N; q++) {
      m = max(m, (*l)[sk_at(p, q, true)]);
    }
    var s = 0.0;
    for (var q = 0u; q < N; q++) {
      s += exp((*l)[sk_at(p, q, true)] - m);
    }
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, true);
      (*l)[k] = exp((*l)[k] - m) / s;
    }
  }
}

/**
 * Backward through ℓ' = ℓ − lse_axis(ℓ), with *l = ℓ' on entry:
 * g_ℓ = g' − exp(ℓ') · Σ_axis g'; leaves *l = ℓ = ℓ' + lse.
 */
fn sk_log_unstep(
  l: ptr<function, SkMat>,
  g: ptr<function, SkMat>,
  off: SkVec,
  cols: bool,
) {
  for (var p = 0u; p < N; p++) {
    var a = 0.0;
    for (var q = 0u; q < N; q++) {
      a += (*g)[sk_at(p, q, cols)];
    }
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, cols);
      (*g)[k] = (*g)[k] - exp(min((*l)[k], 0.0)) * a;
      (*l)[k] = (*l)[k] + off[p];
    }
  }
}

/**
 * Backward through y = x / d along the axis, with *m = y on entry:
 * g_x = (g − Σ_axis(g ⊙ y)) / d; leaves *m = x = y · d.
 */
fn sk_lin_unstep(
  m: ptr<function, SkMat>,
  g: ptr<function, SkMat>,
  off: SkVec,
  cols: bool,
) {
  for (var p = 0u; p < N; p++) {
    var a = 0.0;
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, cols);
      a += (*g)[k] * (*m)[k];
    }
    let d = off[p];
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, cols);
      (*g)[k] = ((*g)[k] - a) / d;
      (*m)[k] = (*m)[k] * d;
    }
  }
}

/** Forward projection in place: logits in, the projected matrix out. */
fn sk_forward(l: ptr<function, SkMat>, cfg: SkConfig) {
  if (cfg.eps == 0.0) {
    for (var it = 0u; it < cfg.iterations; it++) {
      sk_log_step(l, true);
      sk_log_step(l, false);
    }
    for (var k = 0u; k < NN; k++) {
      (*l)[k] = exp((*l)[k]);
    }
  } else {
    sk_colsoftmax(l);
    for (var k = 0u; k < NN; k++) {
      (*l)[k] = (*l)[k] + cfg.eps;
    }
    for (var it = 0u; it < cfg.iterations; it++) {
      sk_lin_step(l, true, cfg.eps);
      sk_lin_step(l, false, cfg.eps);
    }
  }
}

/**
 * Backward projection: from the logits and the upstream gradient of the
 * projected matrix, returns the gradient of the logits.
 */
fn sk_backward(logits: SkMat, grad_out: SkMat, cfg: SkConfig) -> SkMat {
  let log_domain = cfg.eps == 0.0;
  // Offsets of the segment's steps: column steps even, row steps odd.
  var hist: array<SkVec, 2u * SK_SEG>;
  var g = grad_out;
  var end = cfg.iterations;
  loop {
    let it0 = select(0u, end - SK_SEG, end > SK_SEG);
    var v = logits;
    if (log_domain) {
      for (var it = 0u; it < it0; it++) {
        sk_log_step(&v, true);
        sk_log_step(&v, false);
      }
      for (var it = it0; it < end; it++) {
        let h = 2u * (it - it0);
        hist[h] = sk_log_step(&v, true);
        hist[h + 1u] = sk_log_step(&v, false);
      }
      if (end == cfg.iterations) {
        for (var k = 0u; k < NN; k++) {
          g[k] = g[k] * exp(v[k]); // through H = exp(ℓ)
        }
      }
      for (var it = end; it > it0; it--) {
        let h = 2u * (it - it0);
        sk_log_unstep(&v, &g, hist[h - 1u], false);
        sk_log_unstep(&v, &g, hist[h - 2u], true);
      }
    } else {
      sk_colsoftmax(&v);
      for (var k = 0u; k < NN; k++) {
        v[k] = v[k] + cfg.eps;
      }
      for (var it = 0u; it < it0; it++) {
        sk_lin_step(&v, true, cfg.eps);
        sk_lin_step(&v, false, cfg.eps);
      }
      for (var it = it0; it < end; it++) {
        let h = 2u * (it - it0);
        hist[h] = sk_lin_step(&v, true, cfg.eps);
        hist[h + 1u] = sk_lin_step(&v, false, cfg.eps);
      }
      for (var it = end; it > it0; it--) {
        let h = 2u * (it - it0);
        sk_lin_unstep(&v, &g, hist[h - 1u], false);
        sk_lin_unstep(&v, &g, hist[h - 2u], true);
      }
    }
    if (it0 == 0u) {
      break;
    }
    end = it0;
  }
  if (log_domain) {
    return g;
  }
  // Through M⁰ = S + eps, S = colsoftmax(L): g_L = S ⊙ (g − Σ_col(g ⊙ S)).
  var s = logits;
  sk_colsoftmax(&s);
  for (var p = 0u; p < N; p++) {
    var a = 0.0;
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, true);
      a += g[k] * s[k];
    }
    for (var q = 0u; q < N; q++) {
      let k = sk_at(p, q, true);
      g[k] = s[k] * (g[k] - a);
    }
  }
  return g;
}
