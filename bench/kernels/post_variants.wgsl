// @specialize begin (src/gpu/specialize.ts rewrites these lines; as written: f32, n = 4, vec4)
alias S = f32; // storage type of the streams: f32 or f16
const N: u32 = 4u; // streams per token
alias SV = vec4<S>; // W consecutive channels of one stream, as stored
alias AV = vec4<f32>; // the same W channels in f32, for arithmetic
fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }
// @specialize end
//
// Bench-only variants of the fused post mixing of wgsl/post.wgsl (same
// maths, same bindings, same traffic: reads (n+1)·C + n² + n, writes n·C per
// token), to find the fastest thread layout on a given adapter:
//   flat            thread = VPT vectors (WG apart) of the flattened [T, C/W]
//                   grid; WG threads per workgroup. VPT = 1, WG = 256 is
//                   the library kernel's layout.
//   per_token       workgroup = TPW consecutive tokens; the threads stride
//                   over the channels, the token's n² + n coefficients are
//                   loaded once per thread into registers.
//   per_token_wg    as per_token, but the coefficients are staged once per
//                   token in workgroup memory.
//   lanes           L lanes per token, WG / L tokens per workgroup (the
//                   layout of the backward kernels): a lane loads its
//                   token's n² + n coefficients once into registers and
//                   walks the vectors c = lane, lane + L, … of the token.
//   lanes_fma       as lanes, with the sums written as fma() calls.
//   lanes_vpt       as lanes, VPT vectors (L apart) per loop iteration.
//   per_token_uniform one token per workgroup; the token index is clamped
//                   instead of branched on, so the coefficient loads sit
//                   outside any control flow at a workgroup-uniform address
//                   (one scalar load each on lavapipe); the threads stride
//                   over the channels.

override WG: u32 = 256u; // threads per workgroup
override VPT: u32 = 1u; // vectors per thread (flat)
override TPW: u32 = 1u; // tokens per workgroup (per_token*)
override L: u32 = 1u; // lanes per token (lanes*), a divisor of WG

struct Params {
  tokens: u32, // tokens in this chunk
  cv: u32, // C / W: vectors per stream row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<SV>; // [T, n, C]
@group(0) @binding(2) var<storage, read> y: array<SV>; // [T, C]
@group(0) @binding(3) var<storage, read> h_post: array<f32>; // [T, n]
@group(0) @binding(4) var<storage, read> h_res: array<f32>; // [T, n, n]
@group(0) @binding(5) var<storage, read_write> x_out: array<SV>; // [T, n, C]

// The coefficients of one token: H_res row-major, then H_post.
struct Coef {
  res: array<f32, N * N>,
  post: array<f32, N>,
}

fn load_coef(t: u32) -> Coef {
  var k: Coef;
  for (var i = 0u; i < N * N; i++) {
    k.res[i] = h_res[t * N * N + i];
  }
  for (var i = 0u; i < N; i++) {
    k.post[i] = h_post[t * N + i];
  }
  return k;
}

fn mix(t: u32, c: u32, cv: u32, k: Coef) {
  var xs: array<AV, N>;
  for (var j = 0u; j < N; j++) {
    xs[j] = AV(x[(t * N + j) * cv + c]);
  }
  let yv = AV(y[t * cv + c]);
  for (var i = 0u; i < N; i++) {
    var acc = k.post[i] * yv;
    for (var j = 0u; j < N; j++) {
      acc += k.res[i * N + j] * xs[j];
    }
    x_out[(t * N + i) * cv + c] = SV(acc);
  }
}

@compute @workgroup_size(WG)
fn flat(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let base = (wid.x + wid.y * nwg.x) * WG * VPT + lid;
  for (var v = 0u; v < VPT; v++) {
    let g = base + v * WG;
    if (g < params.tokens * cv) {
      let t = g / cv;
      mix(t, g - t * cv, cv, load_coef(t));
    }
  }
}

@compute @workgroup_size(WG)
fn per_token(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let first = (wid.x + wid.y * nwg.x) * TPW;
  for (var s = 0u; s < TPW; s++) {
    let t = first + s;
    if (t < params.tokens) {
      let k = load_coef(t);
      for (var c = lid; c < cv; c += WG) {
        mix(t, c, cv, k);
      }
    }
  }
}

var<workgroup> staged: array<f32, N * N + N>;

@compute @workgroup_size(WG)
fn per_token_wg(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let first = (wid.x + wid.y * nwg.x) * TPW;
  for (var s = 0u; s < TPW; s++) {
    let t = first + s;
    let live = t < params.tokens; // uniform per workgroup
    // Every thread reaches both barriers (WG >= n² + n is required).
    if (live && lid < N * N + N) {
      if (lid < N * N) {
        staged[lid] = h_res[t * N * N + lid];
      } else {
        staged[lid] = h_post[t * N + lid - N * N];
      }
    }
    workgroupBarrier();
    if (live) {
      var k: Coef;
      for (var i = 0u; i < N * N; i++) {
        k.res[i] = staged[i];
      }
      for (var i = 0u; i < N; i++) {
        k.post[i] = staged[N * N + i];
      }
      for (var c = lid; c < cv; c += WG) {
        mix(t, c, cv, k);
      }
    }
    workgroupBarrier(); // staged is overwritten for the next token
  }
}

// mix() with every multiply-add written as fma().
fn mix_fma(t: u32, c: u32, cv: u32, k: Coef) {
  var xs: array<AV, N>;
  for (var j = 0u; j < N; j++) {
    xs[j] = AV(x[(t * N + j) * cv + c]);
  }
  let yv = AV(y[t * cv + c]);
  for (var i = 0u; i < N; i++) {
    var acc = k.post[i] * yv;
    for (var j = 0u; j < N; j++) {
      acc = fma(AV(k.res[i * N + j]), xs[j], acc);
    }
    x_out[(t * N + i) * cv + c] = SV(acc);
  }
}

@compute @workgroup_size(WG)
fn lanes(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let t = (wid.x + wid.y * nwg.x) * (WG / L) + lid / L;
  if (t < params.tokens) {
    let k = load_coef(t);
    for (var c = lid % L; c < cv; c += L) {
      mix(t, c, cv, k);
    }
  }
}

@compute @workgroup_size(WG)
fn lanes_fma(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let t = (wid.x + wid.y * nwg.x) * (WG / L) + lid / L;
  if (t < params.tokens) {
    let k = load_coef(t);
    for (var c = lid % L; c < cv; c += L) {
      mix_fma(t, c, cv, k);
    }
  }
}

@compute @workgroup_size(WG)
fn lanes_vpt(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let t = (wid.x + wid.y * nwg.x) * (WG / L) + lid / L;
  if (t < params.tokens) {
    let k = load_coef(t);
    var c = lid % L;
    for (; c + (VPT - 1u) * L < cv; c += VPT * L) {
      for (var v = 0u; v < VPT; v++) {
        mix(t, c + v * L, cv, k);
      }
    }
    for (; c < cv; c += L) {
      mix(t, c, cv, k);
    }
  }
}

@compute @workgroup_size(WG)
fn per_token_uniform(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let cv = params.cv;
  let w = wid.x + wid.y * nwg.x;
  // Clamped, not branched on: the loads below stay outside control flow.
  let t = min(w, params.tokens - 1u);
  let k = load_coef(t);
  let end = select(0u, cv, w < params.tokens);
  for (var c = lid; c < end; c += WG) {
    mix(t, c, cv, k);
  }
}

// lanes, written as one function with the coefficients in two private
// arrays (hp, hr) instead of a Coef value passed to mix().
@compute @workgroup_size(WG)
fn lanes_inline(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = (wid.x + wid.y * nwg.x) * (WG / L) + lid / L;
  let cv = params.cv;
  if (t < params.tokens) {
    var hp: array<f32, N>;
    var hr: array<f32, N * N>;
    for (var i = 0u; i < N; i++) {
      hp[i] = h_post[t * N + i];
    }
    for (var k = 0u; k < N * N; k++) {
      hr[k] = h_res[t * N * N + k];
    }
    for (var c = lid % L; c < cv; c += L) {
      var xs: array<AV, N>;
      for (var j = 0u; j < N; j++) {
        xs[j] = AV(x[(t * N + j) * cv + c]);
      }
      let yv = AV(y[t * cv + c]);
      for (var i = 0u; i < N; i++) {
        var acc = hp[i] * yv;
        for (var j = 0u; j < N; j++) {
          acc += hr[i * N + j] * xs[j];
        }
        x_out[(t * N + i) * cv + c] = SV(acc);
      }
    }
  }
}
