// Token plus position embedding, forward: out[r, c] = wte[tokens[r], c] + wpe[r mod T, c]
// for the rows r = b·T + t of a batch of B sequences of T tokens.
// Per element: reads one token id (u32), one wte and one wpe value, writes one
// out value. One thread per element, threads along the channels (coalesced).
// A token id past the end of wte reads as a zero row (ids are checked on the host).

struct Params {
  rows: u32, // B·T
  T: u32, // sequence length
  C: u32, // width
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // [B·T, C]
@group(0) @binding(2) var<storage, read> tokens: array<u32>; // [B·T]
@group(0) @binding(3) var<storage, read> wte: array<f32>; // [V, C]
@group(0) @binding(4) var<storage, read> wpe: array<f32>; // [maxT, C]

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.rows * p.C) {
    return; // no barrier in this kernel
  }
  let row = i / p.C;
  let c = i - row * p.C;
  let t = row % p.T;
  let e = tokens[row] * p.C + c;
  var v = 0.0;
  if (e < arrayLength(&wte)) {
    v = wte[e];
  }
  out[i] = v + wpe[t * p.C + c];
}
