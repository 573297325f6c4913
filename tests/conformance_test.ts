// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The conformance suite: every case of tests/conformance/cases.ts runs on
 * every backend of tests/conformance/backends.ts and is compared, element
 * by element, with the float64 reference (conformance/check_case.ts: GPU
 * work runs inside validation and out-of-memory error scopes, so a
 * validation error fails the case). tests/browser/ runs the same cases in
 * headless Chromium (`deno task test:browser`).
 */

import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import type { MhcBackend } from "@birkhoff/mhc";
import { SKIP_GPU } from "./_gpu.ts";
import { BACKENDS } from "./conformance/backends.ts";
import { CASES } from "./conformance/cases.ts";
import { checkCase } from "./conformance/check_case.ts";

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
        it(
          `${c.name} matches the float64 reference`,
          () => checkCase(c, backend!, spec.name, spec.precision),
        );
      }
    },
  });
}
