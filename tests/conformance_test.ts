// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The conformance suite: every case of tests/conformance/cases.ts runs on
 * every backend of tests/conformance/backends.ts and is compared, element
 * by element, with the float64 reference (conformance/check_case.ts: GPU
 * work runs inside validation and out-of-memory error scopes, so a
 * validation error fails the case). On the `webgpu-split` backend the
 * launches are recorded, and a case that claims to cover the split paths
 * must really have run in chunks (and on 2D grids where it says so).
 * tests/browser/ runs the same cases in headless Chromium
 * (`deno task test:browser`).
 */

import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import { type MhcBackend, MhcGpu, webgpuBackend } from "@birkhoff/mhc";
import { assertSplit, recordDispatches } from "./_dispatches.ts";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { BACKENDS } from "./conformance/backends.ts";
import type { ConformanceCase } from "./conformance/case.ts";
import { CASES } from "./conformance/cases.ts";
import { checkCase, compareOutputs } from "./conformance/check_case.ts";

const adapter = SKIP_GPU ? null : await navigator.gpu?.requestAdapter();
const HAS_F16 = adapter?.features.has("shader-f16") ?? false;
if (adapter && !HAS_F16) {
  // Only an adapter without the feature may skip the f16 backend, and the
  // run says so (with MHC_REQUIRE_GPU=1 too).
  console.warn(
    `WebGPU: the adapter${
      adapter.info?.device ? ` (${adapter.info.device})` : ""
    } lacks shader-f16; the webgpu-f16 conformance backend is skipped.`,
  );
}

/**
 * Runs `c` on `backend`. On the split backend the launches are recorded and
 * checked against `c.split`; a case with its own limits runs on a runtime
 * over the same device with those limits.
 */
async function runCase(
  backend: MhcBackend,
  c: ConformanceCase,
  split: boolean,
): Promise<Record<string, ArrayLike<number>>> {
  if (!backend.gpu) return await c.run(backend);
  const device = backend.gpu.device;
  if (!split || !c.split) {
    return await withErrorScopes(device, () => c.run(backend));
  }
  const gpu = c.split.limits
    ? await MhcGpu.create({ device, limits: c.split.limits })
    : backend.gpu;
  const log = recordDispatches(gpu);
  try {
    const b = gpu === backend.gpu ? backend : webgpuBackend(gpu);
    const got = await withErrorScopes(device, () => c.run(b));
    assertSplit(log.records, c.split.launches, c.name);
    return got;
  } finally {
    log.stop();
    if (gpu !== backend.gpu) gpu.destroy();
  }
}

for (const spec of BACKENDS) {
  describe({
    name: `conformance on the ${spec.name} backend`,
    ignore: (spec.gpu && SKIP_GPU) || (spec.f16 && !HAS_F16 && !!adapter),
    fn() {
      let backend: MhcBackend | undefined;
      beforeAll(async () => {
        backend = await spec.make();
      });
      afterAll(() => backend?.destroy());
      for (const c of CASES) {
        it(`${c.name} matches the float64 reference`, async () => {
          if (spec.name === "webgpu-split" && c.split) {
            const got = await runCase(backend!, c, true);
            compareOutputs(c, got, spec.name, spec.precision);
          } else {
            await checkCase(c, backend!, spec.name, spec.precision);
          }
        });
      }
    },
  });
}
