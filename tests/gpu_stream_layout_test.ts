// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The layouts of the token-walking stream kernels (post forward, pre and
// post backward, src/gpu/_streams.ts). Long rows get several lanes per
// token (and, in the backwards, a workgroup reduction); the conformance
// shapes split only the one-lane layout of short rows, so here long rows are
// cut into chunks and laid out on 2D grids, and compared element by element
// with the float64 reference under the conformance tolerances (f32 and f16
// streams). Both layouts are deterministic: two runs agree bit for bit.
import { assert, assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  type MhcBackend,
  MhcGpu,
  type MhcGpuLimits,
  mhcPost,
  mhcPostBackward,
  mhcPreBackward,
  type StreamPrecision,
  webgpuBackend,
} from "@birkhoff/mhc";
import {
  LANES_WIDE,
  ONE_LANE_MAX_VECTORS,
  WG_POST,
  WG_REDUCE,
} from "../src/gpu/_streams.ts";
import { assertSplit, recordDispatches } from "./_dispatches.ts";
import { requireDevice, SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { HAS_F16 } from "./_encode.ts";
import { type ConformanceCase, multilinearCase } from "./conformance/case.ts";
import { compareOutputs } from "./conformance/check_case.ts";

/**
 * A long-row shape and its limits: the binding limit holds `chunk` tokens of
 * `x` (a multiple of the offset quantum of every binding), which make
 * `chunk / (WG / LANES_WIDE)` workgroups (WG: WG_POST or WG_REDUCE), more
 * than `perDim`, so
 * each full chunk needs a 2D grid.
 */
interface WideShape {
  n: number;
  C: number;
  T: number;
  chunk: number;
  perDim: number;
}

/**
 * n = 4, C = 268 (vec4 rows of 67 vectors): offset quantum 16 tokens,
 * chunks of 32 tokens (4 workgroups, 2×2 grids) and a tail of 13.
 * n = 4, C = 66 (the scalar path, rows of 66 values): quantum 32 tokens
 * (64 with f16 streams), chunks of 64 (8 workgroups, 3×3 grids) and a tail
 * of 6.
 */
const WIDE: readonly WideShape[] = [
  { n: 4, C: 268, T: 45, chunk: 32, perDim: 2 },
  { n: 4, C: 66, T: 70, chunk: 64, perDim: 3 },
];

/** A short-row shape (one lane per token), for the determinism check. */
const SHORT = { n: 3, C: 64, T: 77 };

function limitsOf(
  s: WideShape,
  precision: StreamPrecision,
): Partial<MhcGpuLimits> {
  return {
    maxStorageBufferBindingSize: s.chunk * s.n * s.C *
      (precision === "f16" ? 2 : 4),
    maxComputeWorkgroupsPerDimension: s.perDim,
  };
}

/** The post forward and the backward cases of a shape, built like the conformance cases. */
function cases(s: { n: number; C: number; T: number }): ConformanceCase[] {
  const { n, C, T } = s, shape = { n, C, T };
  const tag = `n=${n} C=${C} T=${T}`;
  return [
    multilinearCase({
      name: `mhcPost ${tag}`,
      seed: 7000 + C,
      inputs: {
        x: [T * n * C, "normal"],
        y: [T * C, "normal"],
        hPost: [T * n, "two"],
        hRes: [T * n * n, "unit"],
      },
      run: async (b, a) => ({
        out: await b.mhcPost(a.x, a.y, a.hPost, a.hRes, shape),
      }),
      reference: (a) => ({ out: mhcPost(a.x, a.y, a.hPost, a.hRes, shape) }),
    }),
    multilinearCase({
      name: `mhcPostBackward ${tag}`,
      seed: 7100 + C,
      inputs: {
        x: [T * n * C, "normal"],
        y: [T * C, "normal"],
        hPost: [T * n, "two"],
        hRes: [T * n * n, "unit"],
        gradOut: [T * n * C, "normal"],
      },
      run: async (b, a) => ({
        ...await b.mhcPostBackward(a.x, a.y, a.hPost, a.hRes, a.gradOut, shape),
      }),
      reference: (a) => ({
        ...mhcPostBackward(a.x, a.y, a.hPost, a.hRes, a.gradOut, shape),
      }),
    }),
    multilinearCase({
      name: `mhcPreBackward ${tag}`,
      seed: 7200 + C,
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
  ];
}

const label = (c: ConformanceCase) => c.name.split(" ")[0];
/** Invocations per workgroup of a case's kernel. */
const wgOf = (c: ConformanceCase) =>
  label(c) === "mhcPost" ? WG_POST : WG_REDUCE;

describe({
  name: "the token-walking stream kernels",
  ignore: SKIP_GPU,
  fn() {
    it("take the wide layout for the long rows tested here", () => {
      for (const s of WIDE) {
        const cv = s.C % 4 === 0 ? s.C / 4 : s.C;
        assert(cv > ONE_LANE_MAX_VECTORS, `C = ${s.C} is a long row`);
        for (const wg of [WG_POST, WG_REDUCE]) {
          assertEquals(s.chunk % (wg / LANES_WIDE), 0);
          assert(s.chunk / (wg / LANES_WIDE) > s.perDim);
        }
      }
    });

    for (const precision of ["f32", "f16"] as StreamPrecision[]) {
      for (const s of WIDE) {
        it({
          name:
            `match the reference on long rows cut into chunks on 2D grids ` +
            `(n=${s.n} C=${s.C} T=${s.T}, ${precision} streams)`,
          ignore: precision === "f16" && !HAS_F16,
          async fn() {
            const device = await requireDevice();
            const gpu = await MhcGpu.create({
              device,
              limits: limitsOf(s, precision),
            });
            const backend: MhcBackend = webgpuBackend(gpu, { precision });
            const log = recordDispatches(gpu);
            try {
              for (const c of cases(s)) {
                log.clear();
                const got = await withErrorScopes(device, () => c.run(backend));
                assertSplit(
                  log.records,
                  [{ label: label(c), grid2d: true }],
                  c.name,
                );
                // Every full chunk ran as chunk / tokens-per-workgroup
                // workgroups: the wide layout, not the one-lane one.
                const groups = s.chunk / (wgOf(c) / LANES_WIDE);
                const [x, y] = log.records[0].grids[0];
                assert(x * y >= groups && x * y < groups + x, `${x}×${y}`);
                compareOutputs(c, got, `webgpu ${precision}`, precision);
              }
            } finally {
              log.stop();
            }
          },
        });
      }
    }

    it("give the same bits on every run, in both layouts", async () => {
      const device = await requireDevice();
      const gpu = await MhcGpu.create({ device });
      const backend = webgpuBackend(gpu);
      for (const s of [SHORT, WIDE[0]]) {
        for (const c of cases(s)) {
          const a = await withErrorScopes(device, () => c.run(backend));
          const b = await withErrorScopes(device, () => c.run(backend));
          for (const [name, v] of Object.entries(a)) {
            assertEquals(
              new Uint32Array(Float32Array.from(v).buffer),
              new Uint32Array(Float32Array.from(b[name]).buffer),
              `${c.name}: ${name}`,
            );
          }
        }
      }
    });
  },
});
