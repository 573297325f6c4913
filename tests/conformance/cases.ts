// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Registry of the conformance cases: one line per case file.
 *
 * @module
 */

import type { ConformanceCase } from "./case.ts";
import { cases as pre } from "./cases_pre.ts";
import { cases as post } from "./cases_post.ts";
import { cases as sinkhorn } from "./cases_sinkhorn.ts";
import { cases as coefficients } from "./cases_coefficients.ts";
import { cases as hc } from "./cases_hc.ts";

/** Every case, run on every backend by tests/conformance_test.ts. */
export const CASES: readonly ConformanceCase[] = [
  ...pre,
  ...post,
  ...sinkhorn,
  ...coefficients,
  ...hc,
];
