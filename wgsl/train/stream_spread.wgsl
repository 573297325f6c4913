// Stream spread of one residual state (the trainer's diagnostic of whether
// the n streams have become different), per token t:
//   mean[c] = (1/n)·Σ_i x[t][i][c]
//   spread[t] = sqrt( Σ_i Σ_c (x[t][i][c] − mean[c])² / n / Σ_c mean[c]² ),
//   or 0 when the mean is zero.
// The trainer averages spread[t] over tokens with a deterministic sum.
// Per token: reads x (n·C), writes 1 value. One invocation per token walks
// its n·C values twice (C is small; the states are read once per evaluation).

struct Params {
  tokens: u32,
  n: u32,
  C: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [T, n, C]
@group(0) @binding(2) var<storage, read_write> spread: array<f32>; // [T]

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (t >= params.tokens) {
    return; // no barrier in this kernel
  }
  let n = params.n;
  let C = params.C;
  let base = t * n * C;
  let inv_n = 1.0 / f32(n);
  var dev = 0.0;
  var norm = 0.0;
  for (var c = 0u; c < C; c++) {
    var mean = 0.0;
    for (var i = 0u; i < n; i++) {
      mean += x[base + i * C + c] * inv_n;
    }
    norm += mean * mean;
    for (var i = 0u; i < n; i++) {
      let d = x[base + i * C + c] - mean;
      dev += d * d;
    }
  }
  var s = 0.0;
  if (norm > 0.0) {
    s = sqrt(dev * inv_n / norm);
  }
  spread[t] = s;
}
