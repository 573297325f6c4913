// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: a small seeded pseudo-random generator, so that every test
 * that draws random data draws the same data on every run.
 *
 * The uniform stream is mulberry32 (32-bit state); normal deviates come from
 * the Box-Muller transform of two uniforms.
 *
 * @module
 */

/** A seeded source of uniform and normal deviates. */
export interface Rng {
  /** A uniform deviate in `[0, 1)`. */
  uniform(): number;
  /** A standard normal deviate. */
  normal(): number;
  /** A uniform integer in `[0, bound)`. */
  int(bound: number): number;
  /** A `Float64Array` of `length` normal deviates times `scale`. */
  normals(length: number, scale?: number): Float64Array;
}

/**
 * Creates a generator from a 32-bit `seed`.
 *
 * @param seed Any integer; equal seeds give equal streams.
 * @returns The generator.
 */
export function rng(seed: number): Rng {
  let state = seed >>> 0;
  let spare: number | undefined;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  return {
    uniform,
    normal,
    int: (bound) => Math.floor(uniform() * bound),
    normals(length, scale = 1) {
      const out = new Float64Array(length);
      for (let i = 0; i < length; i++) out[i] = scale * normal();
      return out;
    },
  };
}
