// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Offline stand-in for `jsr:@std/assert@^1`, used only when jsr.io cannot be
 * reached (see README, "Tests without JSR"). It implements the subset of the
 * real package that this project uses, with the same names, signatures and
 * behaviour; it is never published and the library never imports it.
 *
 * @module
 */

/** Error thrown by every failed assertion, as in `@std/assert`. */
export class AssertionError extends Error {
  /** Creates an assertion error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function fmt(v: unknown): string {
  try {
    return Deno.inspect(v, { depth: 4, iterableLimit: 40 });
  } catch {
    return String(v);
  }
}

/** `===` or `Object.is`: `0` equals `-0` and `NaN` equals `NaN`. */
function same(a: unknown, b: unknown): boolean {
  return a === b || Object.is(a, b);
}

/**
 * Deep structural equality, as `@std/assert`'s `equal`: numbers, also inside
 * typed arrays, compare with {@linkcode same}.
 */
export function equal(a: unknown, b: unknown): boolean {
  if (same(a, b)) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date && b instanceof Date) {
    return a.getTime() === b.getTime();
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>,
      y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!same(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equal(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (
      !equal(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    ) {
      return false;
    }
  }
  return true;
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) {
    throw new AssertionError(msg || "Expected expression to be truthy");
  }
}

/** Asserts that `expr` is falsy. */
export function assertFalse(expr: unknown, msg = ""): void {
  if (expr) throw new AssertionError(msg || "Expected expression to be falsy");
}

/** Throws an `AssertionError` with `msg`. */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${msg ? `: ${msg}` : "."}`);
}

/** Asserts deep equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}Values are not equal.\n  actual:   ${
        fmt(actual)
      }\n  expected: ${fmt(expected)}`,
    );
  }
}

/** Asserts that `actual` and `expected` are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) {
    throw new AssertionError(
      msg ?? `Expected actual: ${fmt(actual)} not to be: ${fmt(expected)}`,
    );
  }
}

/** Asserts `Object.is(actual, expected)`. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}Values are not strictly equal.\n  actual:   ${
        fmt(actual)
      }\n  expected: ${fmt(expected)}`,
    );
  }
}

/**
 * Asserts `|actual − expected| <= tolerance`. As in `@std/assert` 1.x, the
 * default tolerance is relative: `|expected| · 1e-7` (one hundred thousandth
 * of a percent of the expected value), or `1e-7` when `expected` is not
 * finite. `msg` is appended to the message.
 */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  const tol = tolerance ??
    (Number.isFinite(expected) ? Math.abs(expected * 1e-7) : 1e-7);
  if (delta <= tol) return;
  const f = (n: number) => (Number.isInteger(n) ? n : n.toExponential());
  throw new AssertionError(
    `Expected actual: "${f(actual)}" to be close to "${f(expected)}": ` +
      `delta "${f(delta)}" is greater than "${f(tol)}"${
        msg ? `: ${msg}` : "."
      }`,
  );
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(
  actual: T,
  msg?: string,
): asserts actual is NonNullable<T> {
  if (actual === undefined || actual === null) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to not be null or undefined.`,
    );
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) {
    throw new AssertionError(msg ?? `Expect ${fmt(actual)} > ${fmt(expected)}`);
  }
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!(actual >= expected)) {
    throw new AssertionError(
      msg ?? `Expect ${fmt(actual)} >= ${fmt(expected)}`,
    );
  }
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) {
    throw new AssertionError(msg ?? `Expect ${fmt(actual)} < ${fmt(expected)}`);
  }
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!(actual <= expected)) {
    throw new AssertionError(
      msg ?? `Expect ${fmt(actual)} <= ${fmt(expected)}`,
    );
  }
}

/** Asserts that `actual` includes `expected`. */
export function assertStringIncludes(
  actual: string,
  expected: string,
  msg?: string,
): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to contain: "${expected}".`,
    );
  }
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (!expected.test(actual)) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to match: "${expected}".`,
    );
  }
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<
  // deno-lint-ignore no-explicit-any
  T extends abstract new (...args: any[]) => any,
>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    throw new AssertionError(
      msg || `Expected object to be an instance of "${expectedType.name}".`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function checkError<E extends Error>(
  e: unknown,
  ErrorClass: ErrorClass<E> | undefined,
  msgIncludes: string | undefined,
  msg: string | undefined,
  verb: "thrown" | "rejected",
): void {
  const pre = msg ? `${msg}: ` : "";
  if (ErrorClass && !(e instanceof Error)) {
    throw new AssertionError(
      `A non-Error object was ${verb}${msg ? `: ${msg}` : "."}`,
    );
  }
  if (ErrorClass && !(e instanceof ErrorClass)) {
    throw new AssertionError(
      `${pre}Expected error to be instance of "${ErrorClass.name}", but was "${
        (e as Error)?.constructor?.name
      }".`,
    );
  }
  if (msgIncludes !== undefined) {
    const m = e instanceof Error ? e.message : String(e);
    if (!m.includes(msgIncludes)) {
      throw new AssertionError(
        `${pre}Expected error message to include "${msgIncludes}", but got "${m}".`,
      );
    }
  }
}

/** Asserts that `fn` throws; optionally of a class, with a message substring. */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/** Asserts that `fn` throws an error of `ErrorClass`, with `msgIncludes`. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClassOrMsg?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): E | unknown {
  const ErrorClass = typeof errorClassOrMsg === "string"
    ? undefined
    : errorClassOrMsg;
  if (typeof errorClassOrMsg === "string") msg = errorClassOrMsg;
  try {
    fn();
  } catch (e) {
    checkError(e, ErrorClass, msgIncludes, msg, "thrown");
    return e;
  }
  throw new AssertionError(
    `${msg ? msg + ": " : ""}Expected function to throw.`,
  );
}

/**
 * Asserts that the promise returned by `fn` rejects. As in `@std/assert`, a
 * function that throws instead of returning a promise fails the assertion.
 */
export function assertRejects(
  fn: () => PromiseLike<unknown>,
  msg?: string,
): Promise<unknown>;
/** Asserts that `fn` rejects with `ErrorClass`, with `msgIncludes`. */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClassOrMsg?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): Promise<E | unknown> {
  const ErrorClass = typeof errorClassOrMsg === "string"
    ? undefined
    : errorClassOrMsg;
  if (typeof errorClassOrMsg === "string") msg = errorClassOrMsg;
  let promised = false;
  try {
    const result = fn();
    if (
      result && typeof result === "object" &&
      typeof (result as PromiseLike<unknown>).then === "function"
    ) {
      promised = true;
      await result;
    }
  } catch (e) {
    if (!promised) {
      throw new AssertionError(
        `Function throws when expected to reject${msg ? `: ${msg}` : "."}`,
      );
    }
    checkError(e, ErrorClass, msgIncludes, msg, "rejected");
    return e;
  }
  throw new AssertionError(
    `${msg ? msg + ": " : ""}Expected function to reject.`,
  );
}
