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
// Early stop (tolerance > 0): after the row step of each iteration but the
// last, the matrix (exp(ℓ), or M) is checked; when every row and column sum
// is within `tolerance` of 1 (strictly), that matrix's iteration stops. The
// count is data-dependent, so invocations diverge here; the core has no
// barrier, and callers keep theirs outside the calls. tolerance = 0: exactly
// `iterations` iterations, no check.
//
// Backward: exact reverse mode through all the normalisations that ran. With
// a tolerance, sk_count first reruns the forward with the same stopping rule
// (the same calls in the same order, so the same count bit for bit within
// the invocation) to find how many iterations to differentiate through. The
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
  /** Early stop on the row and column sums; 0: never stop early. */
  tolerance: f32,
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

/** Largest |sum − 1| over the rows and columns of a linear-domain matrix. */
fn sk_deviation(m: SkMat) -> f32 {
  var dev = 0.0;
  var cols: SkVec;
  for (var i = 0u; i < N; i++) {
    var row = 0.0;
    for (var j = 0u; j < N; j++) {
      row += m[i * N + j];
      cols[j] += m[i * N + j];
    }
    dev = max(dev, abs(row - 1.0));
  }
  for (var j = 0u; j < N; j++) {
    dev = max(dev, abs(cols[j] - 1.0));
  }
  return dev;
}

/** The early-stop test after iteration `it` (0-based) of a log-domain ℓ. */
fn sk_log_done(l: ptr<function, SkMat>, it: u32, cfg: SkConfig) -> bool {
  if (cfg.tolerance <= 0.0 || it + 1u >= cfg.iterations) {
    return false;
  }
  var m: SkMat;
  for (var k = 0u; k < NN; k++) {
    m[k] = exp((*l)[k]);
  }
  return sk_deviation(m) < cfg.tolerance;
}

/** The early-stop test after iteration `it` (0-based) of a linear M. */
fn sk_lin_done(m: ptr<function, SkMat>, it: u32, cfg: SkConfig) -> bool {
  if (cfg.tolerance <= 0.0 || it + 1u >= cfg.iterations) {
    return false;
  }
  return sk_deviation(*m) < cfg.tolerance;
}

/** Starting iterate of the linear domain, in place: colsoftmax(L) + eps. */
fn sk_lin_start(m: ptr<function, SkMat>, eps: f32) {
  sk_colsoftmax(m);
  for (var k = 0u; k < NN; k++) {
    (*m)[k] = (*m)[k] + eps;
  }
}

/**
 * Forward iterations in place (ℓ in the log domain, M in the linear one),
 * with the early stop; returns the number of iterations that ran.
 */
fn sk_iterate(v: ptr<function, SkMat>, cfg: SkConfig) -> u32 {
  if (cfg.eps == 0.0) {
    for (var it = 0u; it < cfg.iterations; it++) {
      sk_log_step(v, true);
      sk_log_step(v, false);
      if (sk_log_done(v, it, cfg)) {
        return it + 1u;
      }
    }
  } else {
    sk_lin_start(v, cfg.eps);
    for (var it = 0u; it < cfg.iterations; it++) {
      sk_lin_step(v, true, cfg.eps);
      sk_lin_step(v, false, cfg.eps);
      if (sk_lin_done(v, it, cfg)) {
        return it + 1u;
      }
    }
  }
  return cfg.iterations;
}

/** Forward projection in place: logits in, the projected matrix out. */
fn sk_forward(l: ptr<function, SkMat>, cfg: SkConfig) {
  sk_iterate(l, cfg);
  if (cfg.eps == 0.0) {
    for (var k = 0u; k < NN; k++) {
      (*l)[k] = exp((*l)[k]);
    }
  }
}

/** Iterations the forward runs on these logits (the early stop applied). */
fn sk_count(logits: SkMat, cfg: SkConfig) -> u32 {
  if (cfg.tolerance <= 0.0) {
    return cfg.iterations;
  }
  var v = logits;
  return sk_iterate(&v, cfg);
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
  // The iterations that ran, differentiated through from the last one.
  let count = sk_count(logits, cfg);
  var end = count;
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
      if (end == count) {
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
      sk_lin_start(&v, cfg.eps);
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
