// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Internal: checks of the `{ n, C, T }` options object shared by the stream ops.

import type { StreamShape } from "./types.ts";
import { checkObject, checkPositiveInt } from "./_validate.ts";

/** Checks a `{ n, C, T }` shape and returns it with validated fields. */
export function checkShape(options: StreamShape): StreamShape {
  checkObject("options", options);
  return {
    n: checkPositiveInt("n", options.n),
    C: checkPositiveInt("C", options.C),
    T: checkPositiveInt("T", options.T),
  };
}

/** Describes `[T, n, C]` with numbers, for error messages. */
export function tnc({ T, n, C }: StreamShape): string {
  return `[T, n, C] = [${T}, ${n}, ${C}]`;
}

/** Describes `[T, C]` with numbers, for error messages. */
export function tc({ T, C }: StreamShape): string {
  return `[T, C] = [${T}, ${C}]`;
}

/** Describes `[T, n]` with numbers, for error messages. */
export function tn({ T, n }: StreamShape): string {
  return `[T, n] = [${T}, ${n}]`;
}

/** Describes `[T, n, n]` with numbers, for error messages. */
export function tnn({ T, n }: StreamShape): string {
  return `[T, n, n] = [${T}, ${n}, ${n}]`;
}
