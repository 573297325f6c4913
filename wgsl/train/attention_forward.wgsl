// Causal multi-head self-attention, forward (src/train/gpu/attention.ts;
// CPU twin src/train/ops/attention.ts). qkv [B·T, 3C] holds q, k and v side
// by side, each split into H heads of HS = C / H channels:
//
//   att[b][h][t][t2] = softmax over t2 ≤ t of (q_t · k_t2) / √HS, 0 for t2 > t
//   out[b·T + t][h·HS + i] = Σ_{t2 ≤ t} att[b][h][t][t2] · v_t2[i]
//
// One invocation owns 4 consecutive query rows t0..t0+3 of one (b, h), so
// each k_t2 and v_t2 it reads serves 4 rows. Heads are handled in chunks of
// at most 32 channels (CH4 vec4s, held in registers; llvmpipe keeps a
// register array in registers only while its loops unroll, which stops
// somewhere above 14 iterations):
//   1. per chunk, for t2 = 0 .. t0+3: partial q·k into att (added to the
//      previous chunks'); after the last chunk the scaled score, and a running
//      maximum m and sum l of exp(score − m) per row;
//   2. per chunk, for t2 = 0 .. t0+3: p = exp(score − m) / l, out += p · v_t2;
//      the last chunk writes p over the score;
//   3. zeros above the diagonal.
// Invocations are ordered by row group, then (b, h), so that the lanes of a
// SIMD group run loops of the same length.
//
// Per invocation: reads its 4 q rows and t0 + 4 rows of k and v, writes 4 rows
// of att (T values each) and of out (HS values each). Invocation id =
// (wid.x + wid.y · nwg.x) · WG + local index, 2D grid; ids past the end do
// nothing. No barriers.

// @specialize begin: the host rewrites HS and SCALE, and for HS not a multiple
// of 4 swaps in the "// @scalar " lines for the "// @vec4" ones.
const HS: u32 = 16u; // channels per head
const SCALE: f32 = 0.25; // 1 / √HS, rounded to f32
alias E = vec4<f32>; // @vec4
fn ld_qkv(e: u32, valid: u32) -> vec4<f32> { return qkv[e / 4u]; } // @vec4
fn st_out(e: u32, valid: u32, v: vec4<f32>) { out[e / 4u] = v; } // @vec4
// @scalar alias E = f32;
// @scalar fn ld_qkv(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, qkv[e], valid > 0u), select(0.0, qkv[e + 1u], valid > 1u), select(0.0, qkv[e + 2u], valid > 2u), select(0.0, qkv[e + 3u], valid > 3u)); }
// @scalar fn st_out(e: u32, valid: u32, v: vec4<f32>) { for (var j = 0u; j < min(valid, 4u); j++) { out[e + j] = v[j]; } }
// @specialize end

const WG: u32 = 16u; // invocations per workgroup
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
@group(0) @binding(1) var<storage, read_write> out: array<E>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;
@group(0) @binding(3) var<storage, read> qkv: array<E>;

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

// Writes chunk `ch` of one head of out's token row `row`.
fn store_chunk(row: u32, h: u32, ch: u32, x: Chunk) {
  let base = row * p.C + h * HS;
  for (var c = 0u; c < CH4; c++) {
    let j = ch * CH4 + c;
    if (j < HS4) {
      st_out(base + 4u * j, HS - 4u * j, x[c]);
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

// att[i + t2] of the rows that are `on`, else 0.
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

fn att_set(i: vec4<u32>, t2: u32, on: vec4<bool>, v: vec4<f32>) {
  if (on.x) {
    att[i.x + t2] = v.x;
  }
  if (on.y) {
    att[i.y + t2] = v.y;
  }
  if (on.z) {
    att[i.z + t2] = v.z;
  }
  if (on.w) {
    att[i.w + t2] = v.w;
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let T = p.T;
  let BH = p.B * p.H;
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  if (id >= BH * ((T + 3u) / 4u)) {
    return;
  }
  let bh = id % BH;
  let b = bh / p.H;
  let h = bh % p.H;
  let t0 = 4u * (id / BH);
  let live = vec4(t0, t0 + 1u, t0 + 2u, t0 + 3u) < vec4(T);
  // Rows past T (last group) repeat row T − 1 and are never written.
  let t = min(vec4(t0, t0 + 1u, t0 + 2u, t0 + 3u), vec4(T - 1u));
  let a = (bh * T + t) * T; // offsets of att[b][h][t][0]
  let rows = b * T + t; // token rows of qkv and out

  // 1. Scores, and the running maximum and sum of each row.
  var m = vec4(-3.0e38); // exp(m − score) is 0 at the first key
  var l = vec4(0.0);
  for (var ch = 0u; ch < NCH; ch++) {
    let q0 = load_chunk(rows.x, 0u, h, ch);
    let q1 = load_chunk(rows.y, 0u, h, ch);
    let q2 = load_chunk(rows.z, 0u, h, ch);
    let q3 = load_chunk(rows.w, 0u, h, ch);
    for (var t2 = 0u; t2 <= t.w; t2++) {
      let on = (vec4(t2) <= t) & live;
      let k = load_chunk(b * T + t2, 1u, h, ch);
      var s = vec4(dot_chunk(q0, k), dot_chunk(q1, k), dot_chunk(q2, k), dot_chunk(q3, k));
      if (ch > 0u) {
        s += att_at(a, t2, on);
      }
      if (ch + 1u == NCH) {
        s *= SCALE;
        let m_new = select(m, max(m, s), on);
        l = select(l, l * exp(m - m_new) + exp(s - m_new), on);
        m = m_new;
      }
      att_set(a, t2, on, s);
    }
  }

  // 2. Probabilities, and out = Σ p · v.
  // Rows past T: finite stand-ins (nothing of theirs is written).
  let inv = 1.0 / select(vec4(1.0), l, live);
  m = select(vec4(0.0), m, live);
  for (var ch = 0u; ch < NCH; ch++) {
    var o0 = zero_chunk();
    var o1 = zero_chunk();
    var o2 = zero_chunk();
    var o3 = zero_chunk();
    for (var t2 = 0u; t2 <= t.w; t2++) {
      let on = (vec4(t2) <= t) & live;
      let pr = select(vec4(0.0), exp(att_at(a, t2, on) - m) * inv, on);
      if (ch + 1u == NCH) {
        att_set(a, t2, on, pr);
      }
      let v = load_chunk(b * T + t2, 2u, h, ch);
      o0 = add_scaled(o0, pr.x, v);
      o1 = add_scaled(o1, pr.y, v);
      o2 = add_scaled(o2, pr.z, v);
      o3 = add_scaled(o3, pr.w, v);
    }
    if (live.x) {
      store_chunk(rows.x, h, ch, o0);
    }
    if (live.y) {
      store_chunk(rows.y, h, ch, o1);
    }
    if (live.z) {
      store_chunk(rows.z, h, ch, o2);
    }
    if (live.w) {
      store_chunk(rows.w, h, ch, o3);
    }
  }

  // 3. Zeros above the diagonal.
  for (var t2 = t.x + 1u; t2 < T; t2++) {
    att_set(a, t2, (vec4(t2) > t) & live, vec4(0.0));
  }
}
