// Dense layer without bias in the llm.c layout (src/train/gpu/matmul.ts):
// inp [T, C], W [OC, C], out [T, OC], all f32 row-major.
//
// forward:  out  = inp · Wᵀ           out[t][o]  = Σ_c inp[t][c] · W[o][c]
// backward: dinp (+)= dout · W        dinp[t][c] = Σ_o dout[t][o] · W[o][c]
//           dW   (+)= doutᵀ · inp     dW[o][c]   = Σ_t dout[t][o] · inp[t][c]
//
// Every product is out[m][n] = Σ_k A(m, k) · B(k, n). One invocation owns a
// 16 × 16 block of one product's output, as 4 × 4 register blocks of 4 × 4
// (mat4x4). It walks k four at a time: it reads a 4 × 4 piece of A for each
// block row and of B for each block column, with four 16-byte loads along
// whichever index is contiguous in memory, and adds A-piece · B-piece to each
// register block. No workgroup memory, no barriers, no atomics: each output
// is a sum over k in increasing order, so the result is deterministic.
// (On llvmpipe every load whose address differs between invocations is a loop
// over the SIMD lanes, whether from storage or workgroup memory, so the
// kernel does as few loads per multiply-add as registers allow: staging tiles
// in workgroup memory only adds loads there.)
//
// Per output block: reads 16 rows of A and 16 columns of B over all of k,
// writes the 256 outputs (adding to them in the backward when acc = 1). Sizes
// may be anything: loads past the end of k read zeros, rows and columns past
// the end are computed from whatever lies there and never written.
//
// Entry points: `forward` (one product); `backward` (dW's blocks, then
// dinp's, in one dispatch; dW's alone when dw_only = 1). Invocation id = (wid.x + wid.y · nwg.x) · WG +
// local index (2D grid); ids past the last block do nothing.

// @specialize begin: vec4 storage, for C and OC multiples of 4. For other
// sizes the host swaps in the "// @scalar " lines below (same line count).
alias E = vec4<f32>; // @vec4
fn ld_a(e: u32, valid: u32) -> vec4<f32> { return a[e / 4u]; } // @vec4
fn ld_b(e: u32, valid: u32) -> vec4<f32> { return b[e / 4u]; } // @vec4
fn ld_b2(e: u32, valid: u32) -> vec4<f32> { return b2[e / 4u]; } // @vec4
fn st_out(e: u32, valid: u32, v: vec4<f32>, add: bool) { let i = e / 4u; if (add) { out[i] += v; } else { out[i] = v; } } // @vec4
fn st_out2(e: u32, valid: u32, v: vec4<f32>, add: bool) { let i = e / 4u; if (add) { out2[i] += v; } else { out2[i] = v; } } // @vec4
// @scalar alias E = f32;
// @scalar fn ld_a(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, a[e], valid > 0u), select(0.0, a[e + 1u], valid > 1u), select(0.0, a[e + 2u], valid > 2u), select(0.0, a[e + 3u], valid > 3u)); }
// @scalar fn ld_b(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, b[e], valid > 0u), select(0.0, b[e + 1u], valid > 1u), select(0.0, b[e + 2u], valid > 2u), select(0.0, b[e + 3u], valid > 3u)); }
// @scalar fn ld_b2(e: u32, valid: u32) -> vec4<f32> { return vec4(select(0.0, b2[e], valid > 0u), select(0.0, b2[e + 1u], valid > 1u), select(0.0, b2[e + 2u], valid > 2u), select(0.0, b2[e + 3u], valid > 3u)); }
// @scalar fn st_out(e: u32, valid: u32, v: vec4<f32>, add: bool) { for (var j = 0u; j < min(valid, 4u); j++) { if (add) { out[e + j] += v[j]; } else { out[e + j] = v[j]; } } }
// @scalar fn st_out2(e: u32, valid: u32, v: vec4<f32>, add: bool) { for (var j = 0u; j < min(valid, 4u); j++) { if (add) { out2[e + j] += v[j]; } else { out2[e + j] = v[j]; } } }
// @specialize end

const WG: u32 = 8u; // invocations per workgroup
const TB: u32 = 16u; // rows and columns of an invocation's output block

struct Params {
  T: u32, // tokens (rows of inp, out, dinp, dout)
  C: u32, // input width
  OC: u32, // output width
  acc: u32, // backward: 1 to add into dinp and dW, 0 to overwrite
  dw_only: u32, // backward: 1 to compute dW alone (dinp comes from matmul_staged.wgsl)
}

@group(0) @binding(0) var<uniform> p: Params;
// forward: out, inp, W. backward: dinp, dout, W, dW, inp.
@group(0) @binding(1) var<storage, read_write> out: array<E>;
@group(0) @binding(2) var<storage, read> a: array<E>;
@group(0) @binding(3) var<storage, read> b: array<E>;
@group(0) @binding(4) var<storage, read_write> out2: array<E>;
@group(0) @binding(5) var<storage, read> b2: array<E>;

// Pieces of A and B as matrices P with P[col][row]: A-pieces have rows m and
// columns k, B-pieces rows k and columns n, so that A-piece · B-piece is the
// 4 × 4 output block's contribution of k..k+3.

// A(m + i, k + kk) = a[(m + i)·lda + k + kk] (k contiguous; K % 4 == 0 in vec4).
fn a_rows(m: u32, k: u32, lda: u32, K: u32) -> mat4x4<f32> {
  let v = K - k;
  return transpose(mat4x4(
    ld_a(m * lda + k, v),
    ld_a((m + 1u) * lda + k, v),
    ld_a((m + 2u) * lda + k, v),
    ld_a((m + 3u) * lda + k, v),
  ));
}

// A(m + i, k + kk) = a[(k + kk)·lda + m + i] (m contiguous), zero for k + kk ≥ K.
fn a_cols(m: u32, k: u32, lda: u32, K: u32) -> mat4x4<f32> {
  let z = vec4(0.0);
  let last = K - 1u;
  return mat4x4(
    ld_a(k * lda + m, 4u),
    select(z, ld_a(min(k + 1u, last) * lda + m, 4u), k + 1u < K),
    select(z, ld_a(min(k + 2u, last) * lda + m, 4u), k + 2u < K),
    select(z, ld_a(min(k + 3u, last) * lda + m, 4u), k + 3u < K),
  );
}

// B(k + kk, n + j) = b[(n + j)·ldb + k + kk] (k contiguous; K % 4 == 0 in vec4).
fn b_rows(k: u32, n: u32, ldb: u32, K: u32) -> mat4x4<f32> {
  let v = K - k;
  return mat4x4(
    ld_b(n * ldb + k, v),
    ld_b((n + 1u) * ldb + k, v),
    ld_b((n + 2u) * ldb + k, v),
    ld_b((n + 3u) * ldb + k, v),
  );
}

// B(k + kk, n + j) = b[(k + kk)·ldb + n + j] (n contiguous), zero for k + kk ≥ K.
fn b_cols(k: u32, n: u32, ldb: u32, K: u32) -> mat4x4<f32> {
  let z = vec4(0.0);
  let last = K - 1u;
  return transpose(mat4x4(
    ld_b(k * ldb + n, 4u),
    select(z, ld_b(min(k + 1u, last) * ldb + n, 4u), k + 1u < K),
    select(z, ld_b(min(k + 2u, last) * ldb + n, 4u), k + 2u < K),
    select(z, ld_b(min(k + 3u, last) * ldb + n, 4u), k + 3u < K),
  ));
}

// The same as b_cols, from b2.
fn b2_cols(k: u32, n: u32, ldb: u32, K: u32) -> mat4x4<f32> {
  let z = vec4(0.0);
  let last = K - 1u;
  return transpose(mat4x4(
    ld_b2(k * ldb + n, 4u),
    select(z, ld_b2(min(k + 1u, last) * ldb + n, 4u), k + 1u < K),
    select(z, ld_b2(min(k + 2u, last) * ldb + n, 4u), k + 2u < K),
    select(z, ld_b2(min(k + 3u, last) * ldb + n, 4u), k + 3u < K),
  ));
}

// Writes block c (c[j][i] = output (m + i, n + j)) to out, row stride N.
fn store(m: u32, n: u32, M: u32, N: u32, c: mat4x4<f32>, add: bool) {
  let r = transpose(c);
  let valid = select(0u, N - n, n < N);
  for (var i = 0u; i < 4u; i++) {
    if (m + i < M && valid > 0u) {
      st_out((m + i) * N + n, valid, r[i], add);
    }
  }
}

// The same as store, to out2.
fn store2(m: u32, n: u32, M: u32, N: u32, c: mat4x4<f32>, add: bool) {
  let r = transpose(c);
  let valid = select(0u, N - n, n < N);
  for (var i = 0u; i < 4u; i++) {
    if (m + i < M && valid > 0u) {
      st_out2((m + i) * N + n, valid, r[i], add);
    }
  }
}

// An invocation's 16 × 16 output block as 4 × 4 register blocks: cij holds
// rows 4i..4i+3 and columns 4j..4j+3, with cij[col][row].
struct Block {
  c00: mat4x4<f32>,
  c01: mat4x4<f32>,
  c02: mat4x4<f32>,
  c03: mat4x4<f32>,
  c10: mat4x4<f32>,
  c11: mat4x4<f32>,
  c12: mat4x4<f32>,
  c13: mat4x4<f32>,
  c20: mat4x4<f32>,
  c21: mat4x4<f32>,
  c22: mat4x4<f32>,
  c23: mat4x4<f32>,
  c30: mat4x4<f32>,
  c31: mat4x4<f32>,
  c32: mat4x4<f32>,
  c33: mat4x4<f32>,
}

// Adds the contribution of k..k+3: A-pieces of rows 4i.., B-pieces of columns 4j...
fn mac(
  acc: ptr<function, Block>,
  a0: mat4x4<f32>,
  a1: mat4x4<f32>,
  a2: mat4x4<f32>,
  a3: mat4x4<f32>,
  b0: mat4x4<f32>,
  b1: mat4x4<f32>,
  b2: mat4x4<f32>,
  b3: mat4x4<f32>,
) {
  (*acc).c00 += a0 * b0;
  (*acc).c01 += a0 * b1;
  (*acc).c02 += a0 * b2;
  (*acc).c03 += a0 * b3;
  (*acc).c10 += a1 * b0;
  (*acc).c11 += a1 * b1;
  (*acc).c12 += a1 * b2;
  (*acc).c13 += a1 * b3;
  (*acc).c20 += a2 * b0;
  (*acc).c21 += a2 * b1;
  (*acc).c22 += a2 * b2;
  (*acc).c23 += a2 * b3;
  (*acc).c30 += a3 * b0;
  (*acc).c31 += a3 * b1;
  (*acc).c32 += a3 * b2;
  (*acc).c33 += a3 * b3;
}

// Writes block acc of rows m.., columns n.. of an M × N output to out.
fn store_block(acc: Block, m: u32, n: u32, M: u32, N: u32, add: bool) {
  store(m + 0u, n + 0u, M, N, acc.c00, add);
  store(m + 0u, n + 4u, M, N, acc.c01, add);
  store(m + 0u, n + 8u, M, N, acc.c02, add);
  store(m + 0u, n + 12u, M, N, acc.c03, add);
  store(m + 4u, n + 0u, M, N, acc.c10, add);
  store(m + 4u, n + 4u, M, N, acc.c11, add);
  store(m + 4u, n + 8u, M, N, acc.c12, add);
  store(m + 4u, n + 12u, M, N, acc.c13, add);
  store(m + 8u, n + 0u, M, N, acc.c20, add);
  store(m + 8u, n + 4u, M, N, acc.c21, add);
  store(m + 8u, n + 8u, M, N, acc.c22, add);
  store(m + 8u, n + 12u, M, N, acc.c23, add);
  store(m + 12u, n + 0u, M, N, acc.c30, add);
  store(m + 12u, n + 4u, M, N, acc.c31, add);
  store(m + 12u, n + 8u, M, N, acc.c32, add);
  store(m + 12u, n + 12u, M, N, acc.c33, add);
}

// The same as store_block, to out2.
fn store2_block(acc: Block, m: u32, n: u32, M: u32, N: u32, add: bool) {
  store2(m + 0u, n + 0u, M, N, acc.c00, add);
  store2(m + 0u, n + 4u, M, N, acc.c01, add);
  store2(m + 0u, n + 8u, M, N, acc.c02, add);
  store2(m + 0u, n + 12u, M, N, acc.c03, add);
  store2(m + 4u, n + 0u, M, N, acc.c10, add);
  store2(m + 4u, n + 4u, M, N, acc.c11, add);
  store2(m + 4u, n + 8u, M, N, acc.c12, add);
  store2(m + 4u, n + 12u, M, N, acc.c13, add);
  store2(m + 8u, n + 0u, M, N, acc.c20, add);
  store2(m + 8u, n + 4u, M, N, acc.c21, add);
  store2(m + 8u, n + 8u, M, N, acc.c22, add);
  store2(m + 8u, n + 12u, M, N, acc.c23, add);
  store2(m + 12u, n + 0u, M, N, acc.c30, add);
  store2(m + 12u, n + 4u, M, N, acc.c31, add);
  store2(m + 12u, n + 8u, M, N, acc.c32, add);
  store2(m + 12u, n + 12u, M, N, acc.c33, add);
}

// Row and column of the output block `id` of an M × N output.
fn block(id: u32, M: u32, N: u32) -> vec2<u32> {
  let cols = (N + TB - 1u) / TB;
  return vec2((id / cols) * TB, (id % cols) * TB);
}

// Output blocks of an M × N output.
fn blocks(M: u32, N: u32) -> u32 {
  return ((M + TB - 1u) / TB) * ((N + TB - 1u) / TB);
}

@compute @workgroup_size(WG)
fn forward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  // out[t][o]: M = T, N = OC, K = C; A = inp (k contiguous), B(k, n) = W[n][k].
  let M = p.T;
  let N = p.OC;
  let K = p.C;
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  if (id >= blocks(M, N)) {
    return;
  }
  let mn = block(id, M, N);
  let m = mn.x;
  let n = mn.y;
  var acc: Block;
  for (var k = 0u; k < K; k += 4u) {
    mac(
      &acc,
      a_rows(m, k, K, K),
      a_rows(m + 4u, k, K, K),
      a_rows(m + 8u, k, K, K),
      a_rows(m + 12u, k, K, K),
      b_rows(k, n, K, K),
      b_rows(k, n + 4u, K, K),
      b_rows(k, n + 8u, K, K),
      b_rows(k, n + 12u, K, K),
    );
  }
  store_block(acc, m, n, M, N, false);
}

@compute @workgroup_size(WG)
fn backward(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let T = p.T;
  let C = p.C;
  let OC = p.OC;
  let add = p.acc == 1u;
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  // dW's blocks first: they are the longer ones (K = T), so they start first.
  let first = blocks(OC, C);
  if (id < first) {
    // dW[o][c]: M = OC, N = C, K = T; A(o, t) = dout[t][o] (m contiguous),
    // B(t, c) = inp[t][c] (n contiguous).
    let mn = block(id, OC, C);
    let m = mn.x;
    let n = mn.y;
    var acc: Block;
    for (var k = 0u; k < T; k += 4u) {
      mac(
        &acc,
        a_cols(m, k, OC, T),
        a_cols(m + 4u, k, OC, T),
        a_cols(m + 8u, k, OC, T),
        a_cols(m + 12u, k, OC, T),
        b2_cols(k, n, C, T),
        b2_cols(k, n + 4u, C, T),
        b2_cols(k, n + 8u, C, T),
        b2_cols(k, n + 12u, C, T),
      );
    }
    store2_block(acc, m, n, OC, C, add);
  } else if (p.dw_only == 0u && id < first + blocks(T, C)) {
    // dinp[t][c]: M = T, N = C, K = OC; A = dout (k contiguous), B = W (n contiguous).
    let mn = block(id - first, T, C);
    let m = mn.x;
    let n = mn.y;
    var acc: Block;
    for (var k = 0u; k < OC; k += 4u) {
      mac(
        &acc,
        a_rows(m, k, OC, OC),
        a_rows(m + 4u, k, OC, OC),
        a_rows(m + 8u, k, OC, OC),
        a_rows(m + 12u, k, OC, OC),
        b_cols(k, n, C, OC),
        b_cols(k, n + 4u, C, OC),
        b_cols(k, n + 8u, C, OC),
        b_cols(k, n + 12u, C, OC),
      );
    }
    store_block(acc, m, n, T, C, add);
  }
}
