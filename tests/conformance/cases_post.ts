// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance cases of the fused post mixing `x' = H_res·x + H_post·y` and
 * its backward.
 *
 * @module
 */

import { mhcPost, mhcPostBackward } from "@birkhoff/mhc";
import { type ConformanceCase, multilinearCase } from "./case.ts";
import { STREAM_SHAPES, streamSplit } from "./shapes.ts";

/** Every post case: forward and backward over the stream shapes. */
export const cases: ConformanceCase[] = STREAM_SHAPES.flatMap((s, i) => {
  const { n, C, T } = s;
  const shape = { n, C, T };
  const tag = `n=${n} C=${C} T=${T}`;
  const forward = {
    x: [T * n * C, "normal"],
    y: [T * C, "normal"],
    hPost: [T * n, "two"],
    hRes: [T * n * n, "unit"],
  } as const;
  return [
    {
      ...multilinearCase({
        name: `mhcPost ${tag}`,
        seed: 3000 + i,
        inputs: forward,
        run: async (b, a) => ({
          out: await b.mhcPost(a.x, a.y, a.hPost, a.hRes, shape),
        }),
        reference: (a) => ({ out: mhcPost(a.x, a.y, a.hPost, a.hRes, shape) }),
      }),
      split: streamSplit(s, "mhcPost", "tokens"),
    },
    {
      ...multilinearCase({
        name: `mhcPostBackward ${tag}`,
        seed: 4000 + i,
        inputs: { ...forward, gradOut: [T * n * C, "normal"] },
        run: async (b, a) => ({
          ...await b.mhcPostBackward(
            a.x,
            a.y,
            a.hPost,
            a.hRes,
            a.gradOut,
            shape,
          ),
        }),
        reference: (a) => ({
          ...mhcPostBackward(a.x, a.y, a.hPost, a.hRes, a.gradOut, shape),
        }),
      }),
      split: streamSplit(s, "mhcPostBackward", "tokens"),
    },
  ];
});
