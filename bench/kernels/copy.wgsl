// Bench yardstick: a plain copy in a compute shader, `dst = src`, one vec4
// per thread, 256 threads per workgroup (the layout of wgsl/pre.wgsl). It
// is what a plain kernel moves per second on an adapter through shader
// loads and stores (on lavapipe a kernel whose lanes each walk many vectors,
// such as wgsl/post.wgsl, can move more), to compare with the adapter's
// copyBufferToBuffer.

struct Params {
  count: u32, // vec4s in this chunk
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (g < params.count) {
    dst[g] = src[g];
  }
}
