// Bench yardstick of the compute roofline: the multiply-add throughput a
// compute shader reaches on the adapter. Each invocation runs independent
// chains of vec4 fma() in registers (no memory traffic inside the loop):
// `fma_2` two chains, `fma_4` four; 32 vec4 fma per iteration either way,
// so one call does count · iterations · 32 · 4 multiply-adds (8 FLOP per
// vec4 fma). The result is stored so that the work cannot be dropped.
//
// Per invocation: reads nothing, writes one vec4 (when g < count).

struct Params {
  count: u32, // invocations that store
  iterations: u32, // loop trips
}

/** Invocations per workgroup (bench/_fma.ts dispatches count / WG). */
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4f>;

@compute @workgroup_size(WG)
fn fma_2(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  let s = f32(g) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996) + vec4f(s);
  let b = vec4f(1e-3);
  var a0 = vec4f(s);
  var a1 = vec4f(s + 1.0);
  for (var i = 0u; i < params.iterations; i++) {
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
  }
  if (g < params.count) {
    sink[g] = a0 + a1;
  }
}

@compute @workgroup_size(WG)
fn fma_4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  let s = f32(g) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996) + vec4f(s);
  let b = vec4f(1e-3);
  var a0 = vec4f(s);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  var a3 = vec4f(s + 3.0);
  for (var i = 0u; i < params.iterations; i++) {
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
    a0 = fma(a0, m, b);
    a1 = fma(a1, m, b);
    a2 = fma(a2, m, b);
    a3 = fma(a3, m, b);
  }
  if (g < params.count) {
    sink[g] = (a0 + a1) + (a2 + a3);
  }
}
