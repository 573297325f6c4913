// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper for the WebGPU trainer's ops whose error bound differs from
 * element to element (the bound is derived per element from the inputs, in
 * float64): `|actual − expected| <= bound[i]` for EVERY element, and a
 * message naming the worst one. Also the seeded data the op tests share.
 *
 * @module
 */

import { AssertionError } from "@std/assert";
import { rng } from "./_rand.ts";

/** Unit roundoff of float32, 2⁻²⁴. */
export const U = 2 ** -24;

/**
 * Asserts `|actual[i] − expected[i]| <= bound[i]` for every `i` (NaN fails).
 *
 * @param actual The GPU's result.
 * @param expected The CPU twin's result.
 * @param bound The error bound of each element.
 * @param label Names the output in the message.
 */
export function assertWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: ArrayLike<number>,
  label: string,
): void {
  if (actual.length !== expected.length || bound.length !== expected.length) {
    throw new AssertionError(
      `${label}: lengths ${actual.length} and ${bound.length}, expected ${expected.length}`,
    );
  }
  let bad = 0, worst = -1, worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= bound[i])) {
      bad++;
      const ratio = Number.isNaN(err) ? Infinity : err / bound[i];
      if (worst < 0 || ratio > worstRatio) [worst, worstRatio] = [i, ratio];
    }
  }
  if (bad > 0) {
    throw new AssertionError(
      `${label}: ${bad} of ${expected.length} elements outside their bound; ` +
        `worst at [${worst}]: got ${actual[worst]}, expected ${
          expected[worst]
        } (error ${
          Math.abs(actual[worst] - expected[worst]).toExponential(2)
        }, bound ${bound[worst].toExponential(2)})`,
    );
  }
}

/** Seeded float32 data for the op tests. */
export interface Data {
  /** `length` standard normal deviates times `scale`, as float32. */
  normals(length: number, scale?: number): Float32Array;
  /** `length` uniform integers in `[0, bound)`. */
  ints(length: number, bound: number): Uint32Array;
}

/**
 * @param seed Any integer; equal seeds give equal data.
 * @returns A seeded source of test data.
 */
export function data(seed: number): Data {
  const r = rng(seed);
  return {
    normals: (length, scale = 1) => Float32Array.from(r.normals(length, scale)),
    ints: (length, bound) => Uint32Array.from({ length }, () => r.int(bound)),
  };
}
