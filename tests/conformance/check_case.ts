// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Conformance helper: runs one case on one backend and compares every
 * output, element by element, with the float64 reference. Both runners use
 * it: tests/conformance_test.ts in Deno and the browser page in
 * tests/browser/, so the two check the same cases with the same tolerances.
 * It calls no Deno API.
 *
 * @module
 */

import type { MhcBackend } from "@birkhoff/mhc";
import { withErrorScopes } from "../_error_scopes.ts";
import type { ConformanceCase } from "./case.ts";
import { assertAllClose, type Precision } from "./tolerance.ts";

/**
 * Runs `c` on `backend` (GPU work inside validation and out-of-memory error
 * scopes, so a failed dispatch or a rejected shader fails the case) and
 * asserts that every output is within its tolerance of the reference.
 *
 * @param c The case.
 * @param backend The backend under test.
 * @param backendName Names the backend in failure messages.
 * @param precision The backend's stream precision.
 * @returns Resolves when every element of every output matches.
 */
export async function checkCase(
  c: ConformanceCase,
  backend: MhcBackend,
  backendName: string,
  precision: Precision,
): Promise<void> {
  const got = backend.gpu
    ? await withErrorScopes(backend.gpu.device, () => c.run(backend))
    : await c.run(backend);
  compareOutputs(c, got, backendName, precision);
}

/**
 * Asserts that every output of a run of `c` is within its tolerance of the
 * float64 reference, element by element.
 *
 * @param c The case.
 * @param got The outputs of the run.
 * @param backendName Names the backend in failure messages.
 * @param precision The backend's stream precision.
 */
export function compareOutputs(
  c: ConformanceCase,
  got: Record<string, ArrayLike<number>>,
  backendName: string,
  precision: Precision,
): void {
  const want = c.truth();
  for (const [name, expected] of Object.entries(want)) {
    if (!(name in got)) throw new Error(`output ${name} is missing`);
    assertAllClose(
      got[name],
      expected,
      c.tolerance(name, precision),
      `${c.name} on ${backendName}: ${name}`,
    );
  }
}
