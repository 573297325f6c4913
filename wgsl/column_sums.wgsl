// Copyright 2026 the @birkhoff/mhc authors. MIT license.
//
// Column sums of a [T, width] f32 matrix over its rows (tokens), for the
// first `cols` columns, in a fixed order (deterministic, no atomics): one
// workgroup per column (looping when the grid is smaller); invocation w sums
// rows w, w + 64, … in order, then a fixed tree combines the 64 partials.
// Columns below `split` go to out_a, the others to out_b (at column −
// split). When the host splits the tokens into chunks, the chunks run in
// order and each after the first adds to the sums so far (`accumulate`).
//
// Used by the mHC and HC coefficient backwards: g_b = Σ_t g_h (K columns)
// and the three g_α (3 columns).
//
// Per token, in elements: reads `cols`; writes nothing per token.

struct ColumnSumParams {
  /** Rows (tokens) of this dispatch. */
  tokens: u32,
  /** Row length of the matrix. */
  width: u32,
  /** Columns to sum, <= width. */
  cols: u32,
  /** First column that goes to out_b. */
  split: u32,
  /** 1: add to the outputs (a later chunk); 0: overwrite them. */
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> params: ColumnSumParams;
@group(0) @binding(1) var<storage, read> matrix: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_a: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_b: array<f32>;

var<workgroup> cs_part: array<f32, 64>;

@compute @workgroup_size(64)
fn column_sums(
  @builtin(local_invocation_index) w: u32,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  // Workgroup-stride loop over columns: the grid may hold fewer workgroups.
  for (var c = wg.x + wg.y * nwg.x; c < params.cols; c += nwg.x * nwg.y) {
    var s = 0.0;
    for (var t = w; t < params.tokens; t += 64u) {
      s += matrix[t * params.width + c];
    }
    cs_part[w] = s;
    workgroupBarrier();
    for (var h = 32u; h > 0u; h >>= 1u) {
      if (w < h) {
        cs_part[w] += cs_part[w + h];
      }
      workgroupBarrier();
    }
    if (w == 0u) {
      var total = cs_part[0];
      if (c < params.split) {
        if (params.accumulate != 0u) {
          total += out_a[c];
        }
        out_a[c] = total;
      } else {
        if (params.accumulate != 0u) {
          total += out_b[c - params.split];
        }
        out_b[c - params.split] = total;
      }
    }
    workgroupBarrier(); // cs_part is reused by the next column
  }
}
