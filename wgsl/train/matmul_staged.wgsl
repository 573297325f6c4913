// One block of a product out(m, n) (+)= Σ_k A(m, k) · B(n, k), f32, for the
// trainer's dense layer (src/train/gpu/matmul.ts) when every row length is a
// multiple of 4. The three products of the layer are this one with
// different layouts (compile-time constants set by the host):
//   forward  out = inp · Wᵀ:  A = inp (rows m = t), B(n, k) = W[n][k]
//   dinp     = dout · W:      A = dout (rows m = t), B(n, k) = W[k][n]
//   dW       = doutᵀ · inp:   A(m, k) = dout[k][m] or inp[k][m], B the
//                             other, K = tokens (split over workgroups into
//                             partial sums that `reduce` adds in order).
//
// Layout for a CPU adapter such as lavapipe, where a load whose address
// differs between invocations is a loop over the SIMD lanes, and a load at
// a compile-time-constant address outside control flow is one load
// broadcast to the lanes: a workgroup copies a block of B (KB values of k ×
// NB columns, zeros past the ends) into workgroup memory; each invocation
// loads its RPL rows of A over those KB values of k once (16-byte loads),
// then walks the block with every loop unrolled by the host, so each B read
// is a constant index into workgroup memory, and accumulates RPL × NB
// sums with fma(), k in increasing order: deterministic, no atomics.
// Rows past M compute on the last row and are not written; k past K reads
// zeros.
//
// Grid: wid.x = block of WG·RPL rows, wid.y = block of NB columns, wid.z =
// part of k (NKB·KB values each); part z writes at out + z·part_stride.
//
// Per invocation: reads RPL·NKB·KB values of A and copies NKB·KB·NB / WG
// values of B; writes (or adds to) RPL·NB outputs.

// @specialize begin: host-set constants.
const WG: u32 = 64u; // invocations per workgroup
const RPL: u32 = 4u; // output rows per invocation (4 when A_COL = 1)
const KB: u32 = 64u; // values of k per block in workgroup memory (multiple of 4)
const NKB: u32 = 1u; // blocks of k per workgroup
const NB: u32 = 64u; // output columns per workgroup (multiple of 4)
const A_COL: u32 = 0u; // 1: A(m, k) = a[k·lda + m]; 0: A(m, k) = a[m·lda + k]
const B_KN: u32 = 0u; // 1: B(n, k) = b[k·ldb + n]; 0: B(n, k) = b[n·ldb + k]
const O_COL: u32 = 0u; // 1: out(m, n) at out[n·ldo + m]; 0: at out[m·ldo + n]
// @specialize end

const KV: u32 = KB / 4u; // vec4 per row of A per block (A_COL = 0)
const NV: u32 = NB / 4u; // vec4 per row of the output block
const STAGE: u32 = KB * NV; // vec4 of B per block

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32, // row stride of a, in floats (a multiple of 4)
  ldb: u32, // row stride of b
  ldo: u32, // row stride of out
  acc: u32, // 1: add to out; 0: overwrite
  part_stride: u32, // floats between the parts of out (wid.z)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;

// B(n0 + n, k0 + k) at bs[k·NV + n/4][n % 4] (B_KN = 1) or bs[n·KV + k/4][k % 4].
var<workgroup> bs: array<vec4<f32>, KB * NV>;

// Copies B(n0 .. n0 + NB, k0 .. k0 + KB) into bs, zeros past N and K.
fn stage(li: u32, n0: u32, k0: u32) {
  for (var i = li; i < STAGE; i += WG) {
    var k: u32;
    var n: u32;
    var at: u32;
    if (B_KN == 1u) {
      k = i / NV;
      n = (i % NV) * 4u;
      at = (k0 + k) * p.ldb + n0 + n;
    } else {
      n = i / KV;
      k = (i % KV) * 4u;
      at = (n0 + n) * p.ldb + k0 + k;
    }
    let ok = k0 + k < p.K && n0 + n < p.N;
    bs[i] = select(vec4(0.0), b[select(0u, at / 4u, ok)], ok);
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let M = p.M;
  let m0 = (wid.x * WG + li) * RPL;
  let n0 = wid.y * NB;
  let kz = wid.z * NKB * KB;
  let add = p.acc == 1u;
  let base = wid.z * p.part_stride;
  // @body: the host writes the unrolled body here (src/train/gpu/matmul.ts
  // `stagedBody`): for each block of k, the staging and the loads of A
  // between barriers, then one fma per output, row and k, each reading bs
  // at a constant index; then the stores.
}
