// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance cases of the pre-aggregation `u = H_pre·x` and its backward.
 *
 * @module
 */

import { mhcPre, mhcPreBackward } from "@birkhoff/mhc";
import { type ConformanceCase, multilinearCase } from "./case.ts";
import { STREAM_SHAPES, streamSplit } from "./shapes.ts";

/** Every pre case: forward and backward over the stream shapes. */
export const cases: ConformanceCase[] = STREAM_SHAPES.flatMap((s, i) => {
  const { n, C, T } = s;
  const shape = { n, C, T };
  const tag = `n=${n} C=${C} T=${T}`;
  return [
    {
      ...multilinearCase({
        name: `mhcPre ${tag}`,
        seed: 1000 + i,
        inputs: { x: [T * n * C, "normal"], hPre: [T * n, "unit"] },
        run: async (b, a) => ({ u: await b.mhcPre(a.x, a.hPre, shape) }),
        reference: (a) => ({ u: mhcPre(a.x, a.hPre, shape) }),
      }),
      split: streamSplit(s, "mhcPre", "elementwise"),
    },
    {
      ...multilinearCase({
        name: `mhcPreBackward ${tag}`,
        seed: 2000 + i,
        inputs: {
          x: [T * n * C, "normal"],
          hPre: [T * n, "unit"],
          gradU: [T * C, "normal"],
        },
        run: async (b, a) => ({
          ...await b.mhcPreBackward(a.x, a.hPre, a.gradU, shape),
        }),
        reference: (a) => ({ ...mhcPreBackward(a.x, a.hPre, a.gradU, shape) }),
      }),
      split: streamSplit(s, "mhcPreBackward", "tokens"),
    },
  ];
});
