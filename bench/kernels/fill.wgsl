// Bench helper: fills a buffer with pseudo-random values in [lo, hi), so
// that large inputs need no upload. fill_f32 writes one f32 per word;
// fill_f16 packs two f16 values per word. The value of element i depends
// only on (seed, i), never on how the buffer is split into chunks.

struct Params {
  words: u32, // words in this chunk
  first: u32, // index of the chunk's first word in the buffer
  seed: u32,
  lo: f32,
  hi: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

// A 32-bit integer hash (xorshift-multiply rounds).
fn mix32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn value(i: u32) -> f32 {
  let u = f32(mix32(i ^ mix32(params.seed)) >> 8u) / 16777216.0;
  return params.lo + (params.hi - params.lo) * u;
}

fn word_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn fill_f32(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = word_index(wid, nwg, lid);
  if (w < params.words) {
    out[w] = bitcast<u32>(value(params.first + w));
  }
}

@compute @workgroup_size(256)
fn fill_f16(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = word_index(wid, nwg, lid);
  if (w < params.words) {
    let i = 2u * (params.first + w);
    out[w] = pack2x16float(vec2f(value(i), value(i + 1u)));
  }
}
