// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The offline stand-in of @std/assert (offline/std/assert) behaves like the
// real package on what this project relies on. Each behaviour is checked on
// the stand-in AND on `@std/assert` as this run resolves it: the real
// package from JSR when jsr.io answers (tools/with_std.ts), so there the two
// are compared; offline both names point at the stand-in and the fixed
// expectations below, taken from the real package's documentation and
// source, still hold it to the real semantics.
import * as resolved from "@std/assert";
import * as standIn from "../offline/std/assert/mod.ts";
import { describe, it } from "@std/testing/bdd";

type Assert = typeof standIn;
const IMPLEMENTATIONS: [string, Assert][] = [
  ["the offline stand-in", standIn],
  ["@std/assert as resolved in this run", resolved as unknown as Assert],
];

/** True when `fn` throws an `AssertionError` of the implementation `a`. */
function fails(a: Assert, fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (e instanceof a.AssertionError) return true;
    throw e;
  }
}

/** True when the promise of `fn` rejects with an `AssertionError` of `a`. */
async function rejects(
  a: Assert,
  fn: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await fn();
    return false;
  } catch (e) {
    if (e instanceof a.AssertionError) return true;
    throw e;
  }
}

for (const [name, a] of IMPLEMENTATIONS) {
  describe(name, () => {
    it("gives assertAlmostEquals a relative default tolerance of 1e-7", () => {
      // The examples of the real package's documentation.
      const cases: [number, number, number | undefined, boolean][] = [
        [0.01, 0.02, undefined, false],
        [1e-8, 1e-9, undefined, false],
        [1.000000001e-8, 1.000000002e-8, undefined, true],
        [0.01, 0.02, 0.1, true],
        [0.1 + 0.2, 0.3, 1e-16, true],
        [0.1 + 0.2, 0.3, 1e-17, false],
        // Relative, not absolute: 1e-7 apart passes at 1e3, fails near 0.
        [1000, 1000 + 5e-5, undefined, true],
        [1000, 1000 + 2e-4, undefined, false],
        [0, 5e-8, undefined, false],
        // A non-finite expected value falls back to an absolute 1e-7.
        [Infinity, Infinity, undefined, true],
        [NaN, NaN, undefined, true],
        [1, Infinity, undefined, false],
      ];
      for (const [actual, expected, tolerance, ok] of cases) {
        const failed = fails(
          a,
          () => a.assertAlmostEquals(actual, expected, tolerance),
        );
        if (failed === ok) {
          throw new Error(
            `assertAlmostEquals(${actual}, ${expected}, ${tolerance}) ${
              ok ? "failed" : "passed"
            }`,
          );
        }
      }
    });

    it("appends the message to assertAlmostEquals' own", () => {
      try {
        a.assertAlmostEquals(1, 2, 0.5, "the sum");
      } catch (e) {
        const m = (e as Error).message;
        if (!m.includes('to be close to "2"') || !m.endsWith(": the sum")) {
          throw new Error(`unexpected message: ${m}`);
        }
        return;
      }
      throw new Error("assertAlmostEquals(1, 2, 0.5) passed");
    });

    it("treats 0 and -0 as equal, and NaN as equal to itself, in assertEquals", () => {
      for (
        const [x, y] of [
          [0, -0],
          [NaN, NaN],
          [new Float32Array([0, NaN]), new Float32Array([-0, NaN])],
          [{ v: -0 }, { v: 0 }],
        ]
      ) {
        if (fails(a, () => a.assertEquals(x, y))) {
          throw new Error(`assertEquals(${String(x)}, ${String(y)}) failed`);
        }
      }
      if (!fails(a, () => a.assertEquals([1, 2], [1, 2, 3]))) {
        throw new Error("assertEquals([1, 2], [1, 2, 3]) passed");
      }
      if (!fails(a, () => a.assertStrictEquals(0, -0))) {
        throw new Error("assertStrictEquals(0, -0) passed");
      }
    });

    it("fails assertRejects when the function throws instead of rejecting", async () => {
      const sync = () => {
        throw new RangeError("now");
      };
      if (!await rejects(a, () => a.assertRejects(sync as never))) {
        throw new Error("a synchronous throw passed assertRejects");
      }
      if (!await rejects(a, () => a.assertRejects(() => Promise.resolve()))) {
        throw new Error("a resolved promise passed assertRejects");
      }
      await a.assertRejects(
        () => Promise.reject(new RangeError("later")),
        RangeError,
        "later",
      );
    });

    it("fails assertThrows on the wrong class or message", () => {
      const f = () => {
        throw new TypeError("bad type");
      };
      a.assertThrows(f, TypeError, "bad");
      if (!fails(a, () => a.assertThrows(f, RangeError))) {
        throw new Error("assertThrows accepted the wrong class");
      }
      if (!fails(a, () => a.assertThrows(f, TypeError, "other"))) {
        throw new Error("assertThrows accepted the wrong message");
      }
      if (!fails(a, () => a.assertThrows(() => {}))) {
        throw new Error("assertThrows passed a function that returned");
      }
    });
  });
}
