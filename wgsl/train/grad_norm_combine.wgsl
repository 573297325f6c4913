// Shared by grad_norm_partials.wgsl and grad_norm_finish.wgsl (the host
// appends this file to theirs): an overflow-free sum of squares.
//
// A partial sum of squares is kept as (e, q): Σ g² = q · 2^(2·(e − 127)), where
// e is the largest biased f32 exponent of the values added so far (at least 1
// for subnormals). Every |g|·2^(127 − e) is below 2, so q never overflows (even
// when g² would, |g| > 1.8e19) and small values do not underflow needlessly;
// changing e multiplies q by a power of two, which is exact. Reads and writes
// nothing but its arguments.

struct Acc {
  e: u32, // largest biased exponent so far (0: nothing added yet)
  q: f32, // Σ (g·2^(127 − e))²
}

// x·2^k, in two steps for k below −126 so that no factor is subnormal (an
// implementation may compute ldexp as x·2^k and flush a subnormal 2^k).
fn pow2_scale(x: f32, k: i32) -> f32 {
  if (k < -126) {
    return ldexp(ldexp(x, -126), max(k + 126, -126));
  }
  return ldexp(x, k);
}

// Adds g² for a finite g ≠ 0 given by its bits with the sign cleared.
fn acc_add(acc: Acc, abs_bits: u32) -> Acc {
  let be = max(abs_bits >> 23u, 1u);
  var a = acc;
  if (be > a.e) {
    a.q = pow2_scale(a.q, 2 * (i32(a.e) - i32(be)));
    a.e = be;
  }
  let y = pow2_scale(bitcast<f32>(abs_bits), 127 - i32(a.e));
  a.q += y * y;
  return a;
}

// The sum of two partials (exact rescaling, one rounded addition).
fn acc_combine(a: Acc, b: Acc) -> Acc {
  let e = max(a.e, b.e);
  return Acc(
    e,
    pow2_scale(a.q, 2 * (i32(a.e) - i32(e))) + pow2_scale(b.q, 2 * (i32(b.e) - i32(e))),
  );
}
