// GELU, tanh approximation: out = 0.5·x·(1 + tanh(z)), z = √(2/π)·(x + 0.044715·x³).
// Entry points:
//   forward:  per element reads x, writes out.
//   backward: per element reads x and dout, writes dx = gelu'(x)·dout (overwritten).
// One thread per element.
//
// With s = σ(2z) = 0.5·(1 + tanh(z)) and 1 − s = σ(−2z), both from e = exp(−2|z|)
// ∈ (0, 1] (never overflows), gelu(x) = x·s and
// gelu'(x) = s + 2·x·s·(1 − s)·√(2/π)·(1 + 3·0.044715·x²): no cancellation in
// 1 ± tanh, so both are accurate to a few ulp relative. |x| is clamped to 20 in
// z and in the derivative's polynomial: there e = exp(−2|z|) < exp(−600) is 0 in
// f32 already, and x³ cannot overflow.

struct Params {
  n: u32, // elements
}

const K: f32 = 0.7978845608028654; // √(2/π)
const A: f32 = 0.044715;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // out (forward) or dx (backward)
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>; // backward only

// (s, 1 − s) with s = σ(2z(x)).
fn sigmoids(xc: f32) -> vec2f {
  let z = K * (xc + A * xc * xc * xc);
  let e = exp(-2.0 * abs(z));
  let d = 1.0 + e;
  let hi = 1.0 / d; // σ(2|z|)
  let lo = e / d; // σ(−2|z|)
  if (z >= 0.0) {
    return vec2f(hi, lo);
  }
  return vec2f(lo, hi);
}

@compute @workgroup_size(256)
fn forward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) {
    return; // no barrier in this kernel
  }
  let v = x[i];
  out[i] = v * sigmoids(clamp(v, -20.0, 20.0)).x;
}

@compute @workgroup_size(256)
fn backward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) {
    return; // no barrier in this kernel
  }
  let v = clamp(x[i], -20.0, 20.0);
  let s = sigmoids(v);
  let grad = s.x + 2.0 * v * s.x * s.y * K * (1.0 + 3.0 * A * v * v);
  out[i] = grad * dout[i];
}
