// Causal multi-head self-attention, backward (src/train/gpu/attention.ts;
// CPU twin src/train/ops/attention.ts), in the layout of
// attention_forward.wgsl. With dp[t][t2] = dout_t · v_t2 and
// ds[t][t2] = att[t][t2] · (dp[t][t2] − Σ_j att[t][j] · dp[t][j]) / √HS
// (t2 ≤ t):
//
//   dq_t  = Σ_{t2 ≤ t} ds[t][t2] · k_t2
//   dk_t2 = Σ_{t ≥ t2} ds[t][t2] · q_t
//   dv_t2 = Σ_{t ≥ t2} att[t][t2] · dout_t
//
// A workgroup owns 8 (b, h) pairs; its invocations share out each pair's rows
// in groups of 4 (invocation `li` serves pair li % 8, groups li / 8,
// li / 8 + WG / 8, ...; so the 8 lanes of a SIMD group run loops of the same
// length). Heads are handled in chunks of at most 32 channels held in
// registers (see attention_forward.wgsl).
// Phase 1, per group of query rows t: dp chunk by chunk into datt, with
// Σ att · dp after the last chunk; then ds over dp in datt (first chunk) and
// dq chunk by chunk. storageBarrier(). Phase 2, per group of key rows t2: dk
// and dv chunk by chunk from the column t2 of ds (datt) and att. Every
// element of dqkv is written once, by the invocation that owns its row, as a
// sum in a fixed order: deterministic, no atomics.
//
// Reads qkv [B·T, 3C], dout [B·T, C], att [B, H, T, T]; writes dqkv [B·T, 3C]
// (overwritten) and datt [B, H, T, T] (scratch: ds on and below the
// diagonal, untouched above). Workgroups: ceil(B·H / 8), linear index
// wid.x + wid.y · nwg.x (2D grid); pairs past B·H do nothing.

// @specialize begin: the host rewrites HS and SCALE, and for HS not a multiple
// of 4 swaps in the "// @scalar " lines for the "// @vec4" ones.
const HS: u32 = 16u; // channels per head
const SCALE: f32 = 0.25; // 1 / √HS, rounded to f32
alias E = vec4<f32>; // @vec4
fn ld_qkv(e: u32, valid: u32) -> vec4<f32> { return qkv[e / 4u]; } // @vec4
fn ld_dout(e: u32, valid: u32) -> vec4<f32> { return dout[e / 4u]; } // @vec4
fn st_dqkv(e: u32, valid: u32, v: vec4<f32>) { dqkv[e / 4u] = v; } // @vec4
// @scalar alias E = f32;
// @scalar fn ld_qkv(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, qkv[e], valid > 0u), select(0.0, qkv[e + 1u], valid > 1u), select(0.0, qkv[e + 2u], valid > 2u), select(0.0, qkv[e + 3u], valid > 3u)); }
// @scalar fn ld_dout(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, dout[e], valid > 0u), select(0.0, dout[e + 1u], valid > 1u), select(0.0, dout[e + 2u], valid > 2u), select(0.0, dout[e + 3u], valid > 3u)); }
// @scalar fn st_dqkv(e: u32, valid: u32, v: vec4<f32>) { for (var j = 0u; j < min(valid, 4u); j++) { dqkv[e + j] = v[j]; } }
// @specialize end

const WG: u32 = 64u; // invocations per workgroup
const PAIRS: u32 = 8u; // (b, h) pairs per workgroup
const HS4: u32 = (HS + 3u) / 4u; // vec4s per head
const NCH: u32 = (HS4 + 7u) / 8u; // chunks per head
const CH4: u32 = (HS4 + NCH - 1u) / NCH; // vec4s per chunk, at most 8

struct Params {
  B: u32,
  T: u32,
  C: u32,
  H: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dqkv: array<E>;
@group(0) @binding(2) var<storage, read_write> datt: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<E>;
@group(0) @binding(4) var<storage, read> qkv: array<E>;
@group(0) @binding(5) var<storage, read> att: array<f32>;

alias Chunk = array<vec4<f32>, CH4>;

// Chunk `ch` of one head of q (part 0), k (1) or v (2) of token row `row`
// (= b·T + t); zeros past the head.
fn load_chunk(row: u32, part: u32, h: u32, ch: u32) -> Chunk {
  let base = row * 3u * p.C + part * p.C + h * HS;
  var x: Chunk;
  for (var c = 0u; c < CH4; c++) {
    let j = ch * CH4 + c;
    x[c] = select(vec4(0.0), ld_qkv(base + 4u * j, HS - min(4u * j, HS)), j < HS4);
  }
  return x;
}

// Chunk `ch` of one head of dout's token row `row`; zeros past the head.
fn load_dout(row: u32, h: u32, ch: u32) -> Chunk {
  let base = row * p.C + h * HS;
  var x: Chunk;
  for (var c = 0u; c < CH4; c++) {
    let j = ch * CH4 + c;
    x[c] = select(vec4(0.0), ld_dout(base + 4u * j, HS - min(4u * j, HS)), j < HS4);
  }
  return x;
}

// Writes chunk `ch` of one head of dqkv's token row `row`, part 0 (dq),
// 1 (dk) or 2 (dv).
fn store_chunk(row: u32, part: u32, h: u32, ch: u32, x: Chunk) {
  let base = row * 3u * p.C + part * p.C + h * HS;
  for (var c = 0u; c < CH4; c++) {
    let j = ch * CH4 + c;
    if (j < HS4) {
      st_dqkv(base + 4u * j, HS - 4u * j, x[c]);
    }
  }
}

// A zero chunk. (Accumulators declared in a loop get it explicitly: a `var`
// without initialiser is not zeroed again on each iteration by every
// compiler.)
fn zero_chunk() -> Chunk {
  var x: Chunk;
  for (var c = 0u; c < CH4; c++) {
    x[c] = vec4(0.0);
  }
  return x;
}

fn dot_chunk(a: Chunk, b: Chunk) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < CH4; c++) {
    s += dot(a[c], b[c]);
  }
  return s;
}

// o + w · v, vec4 by vec4.
fn add_scaled(o: Chunk, w: f32, v: Chunk) -> Chunk {
  var r: Chunk;
  for (var c = 0u; c < CH4; c++) {
    r[c] = o[c] + w * v[c];
  }
  return r;
}

// Reads att[i] (or datt[i]) where `on`, else 0.
fn att_at(i: vec4<u32>, t2: u32, on: vec4<bool>) -> vec4<f32> {
  var r = vec4(0.0);
  if (on.x) {
    r.x = att[i.x + t2];
  }
  if (on.y) {
    r.y = att[i.y + t2];
  }
  if (on.z) {
    r.z = att[i.z + t2];
  }
  if (on.w) {
    r.w = att[i.w + t2];
  }
  return r;
}

fn datt_at(i: vec4<u32>, t2: u32, on: vec4<bool>) -> vec4<f32> {
  var r = vec4(0.0);
  if (on.x) {
    r.x = datt[i.x + t2];
  }
  if (on.y) {
    r.y = datt[i.y + t2];
  }
  if (on.z) {
    r.z = datt[i.z + t2];
  }
  if (on.w) {
    r.w = datt[i.w + t2];
  }
  return r;
}

fn datt_set(i: vec4<u32>, t2: u32, on: vec4<bool>, v: vec4<f32>) {
  if (on.x) {
    datt[i.x + t2] = v.x;
  }
  if (on.y) {
    datt[i.y + t2] = v.y;
  }
  if (on.z) {
    datt[i.z + t2] = v.z;
  }
  if (on.w) {
    datt[i.w + t2] = v.w;
  }
}

// Phase 1 for query rows 4g..4g+3 of pair (b, h): ds into datt, and dq.
fn query_rows(b: u32, h: u32, bh: u32, g: u32) {
  let T = p.T;
  let t0 = 4u * g;
  let live = vec4(t0, t0 + 1u, t0 + 2u, t0 + 3u) < vec4(T);
  // Rows past T (last group) repeat row T − 1 and are never written.
  let t = min(vec4(t0, t0 + 1u, t0 + 2u, t0 + 3u), vec4(T - 1u));
  let a = (bh * T + t) * T; // offsets of att[b][h][t][0]
  let rows = b * T + t;
  // dp = dout_t · v_t2 into datt, chunk by chunk, and Σ att · dp per row.
  var dot = vec4(0.0);
  for (var ch = 0u; ch < NCH; ch++) {
    let d0 = load_dout(rows.x, h, ch);
    let d1 = load_dout(rows.y, h, ch);
    let d2 = load_dout(rows.z, h, ch);
    let d3 = load_dout(rows.w, h, ch);
    for (var t2 = 0u; t2 <= t.w; t2++) {
      let on = (vec4(t2) <= t) & live;
      let v = load_chunk(b * T + t2, 2u, h, ch);
      var dp = vec4(dot_chunk(d0, v), dot_chunk(d1, v), dot_chunk(d2, v), dot_chunk(d3, v));
      if (ch > 0u) {
        dp += datt_at(a, t2, on);
      }
      datt_set(a, t2, on, dp);
      if (ch + 1u == NCH) {
        dot += att_at(a, t2, on) * dp;
      }
    }
  }
  // ds over dp in datt (first chunk), and dq = Σ ds · k chunk by chunk.
  for (var ch = 0u; ch < NCH; ch++) {
    var q0 = zero_chunk();
    var q1 = zero_chunk();
    var q2 = zero_chunk();
    var q3 = zero_chunk();
    for (var t2 = 0u; t2 <= t.w; t2++) {
      let on = (vec4(t2) <= t) & live;
      var ds: vec4<f32>;
      if (ch == 0u) {
        ds = att_at(a, t2, on) * (datt_at(a, t2, on) - dot) * SCALE;
        datt_set(a, t2, on, ds);
      } else {
        ds = datt_at(a, t2, on);
      }
      let k = load_chunk(b * T + t2, 1u, h, ch);
      q0 = add_scaled(q0, ds.x, k);
      q1 = add_scaled(q1, ds.y, k);
      q2 = add_scaled(q2, ds.z, k);
      q3 = add_scaled(q3, ds.w, k);
    }
    if (live.x) {
      store_chunk(rows.x, 0u, h, ch, q0);
    }
    if (live.y) {
      store_chunk(rows.y, 0u, h, ch, q1);
    }
    if (live.z) {
      store_chunk(rows.z, 0u, h, ch, q2);
    }
    if (live.w) {
      store_chunk(rows.w, 0u, h, ch, q3);
    }
  }
}

// Phase 2 for key rows 4g..4g+3 of pair (b, h): dk and dv.
fn key_rows(b: u32, h: u32, bh: u32, g: u32) {
  let T = p.T;
  let t0 = 4u * g;
  let t2 = vec4(t0, t0 + 1u, t0 + 2u, t0 + 3u);
  let live = t2 < vec4(T);
  let rows = b * T + t2;
  for (var ch = 0u; ch < NCH; ch++) {
    var k0 = zero_chunk();
    var k1 = zero_chunk();
    var k2 = zero_chunk();
    var k3 = zero_chunk();
    var v0 = zero_chunk();
    var v1 = zero_chunk();
    var v2 = zero_chunk();
    var v3 = zero_chunk();
    for (var t = t0; t < T; t++) {
      let on = (t2 <= vec4(t)) & live;
      let row = vec4((bh * T + t) * T) + t2; // att[b][h][t][t2]
      let ds = datt_at(row, 0u, on);
      let pr = att_at(row, 0u, on);
      let q = load_chunk(b * T + t, 0u, h, ch);
      let d = load_dout(b * T + t, h, ch);
      k0 = add_scaled(k0, ds.x, q);
      k1 = add_scaled(k1, ds.y, q);
      k2 = add_scaled(k2, ds.z, q);
      k3 = add_scaled(k3, ds.w, q);
      v0 = add_scaled(v0, pr.x, d);
      v1 = add_scaled(v1, pr.y, d);
      v2 = add_scaled(v2, pr.z, d);
      v3 = add_scaled(v3, pr.w, d);
    }
    if (live.x) {
      store_chunk(rows.x, 1u, h, ch, k0);
      store_chunk(rows.x, 2u, h, ch, v0);
    }
    if (live.y) {
      store_chunk(rows.y, 1u, h, ch, k1);
      store_chunk(rows.y, 2u, h, ch, v1);
    }
    if (live.z) {
      store_chunk(rows.z, 1u, h, ch, k2);
      store_chunk(rows.z, 2u, h, ch, v2);
    }
    if (live.w) {
      store_chunk(rows.w, 1u, h, ch, k3);
      store_chunk(rows.w, 2u, h, ch, v3);
    }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let bh = (wid.x + wid.y * nwg.x) * PAIRS + li % PAIRS;
  let live = bh < p.B * p.H;
  let b = bh / p.H;
  let h = bh % p.H;
  let groups = (p.T + 3u) / 4u;
  if (live) {
    for (var g = li / PAIRS; g < groups; g += WG / PAIRS) {
      query_rows(b, h, bh, g);
    }
  }
  storageBarrier();
  if (live) {
    for (var g = li / PAIRS; g < groups; g += WG / PAIRS) {
      key_rows(b, h, bh, g);
    }
  }
}
