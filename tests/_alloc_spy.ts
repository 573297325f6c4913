// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: counts the `Float32Array` and `Float64Array` constructions
 * that a piece of synchronous code makes, by replacing the two global
 * constructors with counting proxies while it runs.
 *
 * @module
 */

/** One construction seen by {@linkcode countFloatArrays}. */
export interface Construction {
  /** `"Float32Array"` or `"Float64Array"`. */
  type: string;
  /** Elements of the new array. */
  length: number;
}

/**
 * Runs `fn` with counting float-array constructors installed and returns
 * every construction it made (restoring the real constructors afterwards,
 * also when `fn` throws).
 *
 * @param fn Code to watch; a returned promise is awaited.
 * @returns The constructions, in order.
 */
export async function countFloatArrays(
  fn: () => unknown,
): Promise<Construction[]> {
  const seen: Construction[] = [];
  const g = globalThis as unknown as Record<string, unknown>;
  const real = {
    Float32Array: globalThis.Float32Array,
    Float64Array: globalThis.Float64Array,
  };
  for (const [type, ctor] of Object.entries(real)) {
    g[type] = new Proxy(ctor, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(
          target,
          args,
          newTarget === g[type] ? target : newTarget,
        ) as Float32Array | Float64Array;
        seen.push({ type, length: made.length });
        return made;
      },
    });
  }
  try {
    await fn();
  } finally {
    g.Float32Array = real.Float32Array;
    g.Float64Array = real.Float64Array;
  }
  return seen;
}
