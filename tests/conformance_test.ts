// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The conformance suite: every case of tests/conformance/cases.ts runs on
 * every backend of tests/conformance/backends.ts and is compared, element
 * by element, with the float64 reference. GPU work runs inside validation
 * and out-of-memory error scopes, so a validation error fails the case.
 */

import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import type { MhcBackend } from "@birkhoff/mhc";
import { SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { BACKENDS } from "./conformance/backends.ts";
import { CASES } from "./conformance/cases.ts";
import { assertAllClose } from "./conformance/tolerance.ts";

const HAS_F16 = !SKIP_GPU &&
  ((await navigator.gpu?.requestAdapter())?.features.has("shader-f16") ??
    false);

for (const spec of BACKENDS) {
  describe({
    name: `conformance on the ${spec.name} backend`,
    ignore: (spec.gpu && SKIP_GPU) || (spec.f16 && !HAS_F16),
    fn() {
      let backend: MhcBackend | undefined;
      beforeAll(async () => {
        backend = await spec.make();
      });
      afterAll(() => backend?.destroy());
      for (const c of CASES) {
        it(`${c.name} matches the float64 reference`, async () => {
          const b = backend!;
          const got = b.gpu
            ? await withErrorScopes(b.gpu.device, () => c.run(b))
            : await c.run(b);
          const want = c.truth();
          for (const [name, expected] of Object.entries(want)) {
            if (!(name in got)) throw new Error(`output ${name} is missing`);
            assertAllClose(
              got[name],
              expected,
              c.tolerance(name, spec.precision),
              `${c.name} on ${spec.name}: ${name}`,
            );
          }
        });
      }
    },
  });
}
