// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Offline stand-in for `jsr:@std/testing@^1/bdd`, used only when jsr.io
 * cannot be reached. Like the real module, each top-level `describe`
 * registers one `Deno.test`, and nested `describe`/`it` blocks run as its
 * steps. Only the surface this project uses is implemented.
 *
 * @module
 */

/** A test body, as in `@std/testing/bdd`. */
export type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/** Options of an `it` or `describe` block (subset of the real ones). */
export interface BlockOptions {
  /** Block name. */
  name: string;
  /** Skip the block. */
  ignore?: boolean;
  /** Check for leaked async ops (top level only). */
  sanitizeOps?: boolean;
  /** Check for leaked resources (top level only). */
  sanitizeResources?: boolean;
}

/** Definition of an `it` block given as an object. */
export interface ItDefinition extends BlockOptions {
  /** The test body. */
  fn: TestFn;
}

/** Definition of a `describe` block given as an object. */
export interface DescribeDefinition extends BlockOptions {
  /** The body, which declares the nested blocks. */
  fn?: () => void;
}

type Hook = () => void | Promise<void>;

interface Suite {
  name: string;
  ignore: boolean;
  children: (Suite | Case)[];
  beforeAll: Hook[];
  afterAll: Hook[];
  beforeEach: Hook[];
  afterEach: Hook[];
}

interface Case {
  name: string;
  ignore: boolean;
  fn: TestFn;
}

let current: Suite | null = null;

function isSuite(x: Suite | Case): x is Suite {
  return "children" in x;
}

async function runSuite(
  s: Suite,
  t: Deno.TestContext,
  each: Suite[],
): Promise<void> {
  for (const h of s.beforeAll) await h();
  const chain = [...each, s];
  try {
    for (const child of s.children) {
      if (isSuite(child)) {
        await t.step({
          name: child.name,
          ignore: child.ignore,
          fn: (u) => runSuite(child, u, chain),
        });
      } else {
        await t.step({
          name: child.name,
          ignore: child.ignore,
          fn: async (u) => {
            for (const p of chain) for (const h of p.beforeEach) await h();
            try {
              await child.fn(u);
            } finally {
              for (const p of [...chain].reverse()) {
                for (const h of p.afterEach) {
                  await h();
                }
              }
            }
          },
        });
      }
    }
  } finally {
    for (const h of s.afterAll) await h();
  }
}

function parse<F>(
  a: string | (BlockOptions & { fn?: F }),
  b?: F | Partial<BlockOptions>,
  c?: F,
): BlockOptions & { fn?: F } {
  if (typeof a !== "string") return a;
  if (typeof b === "function") return { name: a, fn: b as F };
  return { ...(b as Partial<BlockOptions>), name: a, fn: c };
}

/** Declares a group of tests. */
export function describe(name: string, fn: () => void): void;
/** Declares a group of tests with options. */
export function describe(
  name: string,
  options: Partial<BlockOptions>,
  fn: () => void,
): void;
/** Declares a group of tests from a definition object. */
export function describe(definition: DescribeDefinition): void;
export function describe(
  a: string | DescribeDefinition,
  b?: (() => void) | Partial<BlockOptions>,
  c?: () => void,
): void {
  const def = parse<() => void>(a, b, c);
  const suite: Suite = {
    name: def.name,
    ignore: def.ignore ?? false,
    children: [],
    beforeAll: [],
    afterAll: [],
    beforeEach: [],
    afterEach: [],
  };
  const parent = current;
  current = suite;
  try {
    def.fn?.();
  } finally {
    current = parent;
  }
  if (parent) {
    parent.children.push(suite);
  } else {
    Deno.test({
      name: suite.name,
      ignore: suite.ignore,
      sanitizeOps: def.sanitizeOps,
      sanitizeResources: def.sanitizeResources,
      fn: (t) => runSuite(suite, t, []),
    });
  }
}

/** Declares one test. */
export function it(name: string, fn: TestFn): void;
/** Declares one test with options. */
export function it(
  name: string,
  options: Partial<BlockOptions>,
  fn: TestFn,
): void;
/** Declares one test from a definition object. */
export function it(definition: ItDefinition): void;
export function it(
  a: string | ItDefinition,
  b?: TestFn | Partial<BlockOptions>,
  c?: TestFn,
): void {
  const def = parse<TestFn>(a, b, c);
  const fn = def.fn;
  if (!fn) throw new TypeError(`it "${def.name}" needs a test function`);
  if (current) {
    current.children.push({ name: def.name, ignore: def.ignore ?? false, fn });
  } else {
    Deno.test({
      name: def.name,
      ignore: def.ignore,
      sanitizeOps: def.sanitizeOps,
      sanitizeResources: def.sanitizeResources,
      fn,
    });
  }
}

function hook(
  kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach",
  fn: Hook,
): void {
  if (!current) throw new Error(`${kind} must be called inside describe`);
  current[kind].push(fn);
}

/** Runs `fn` once before the tests of the enclosing `describe`. */
export function beforeAll(fn: Hook): void {
  hook("beforeAll", fn);
}

/** Runs `fn` once after the tests of the enclosing `describe`. */
export function afterAll(fn: Hook): void {
  hook("afterAll", fn);
}

/** Runs `fn` before each test of the enclosing `describe`. */
export function beforeEach(fn: Hook): void {
  hook("beforeEach", fn);
}

/** Runs `fn` after each test of the enclosing `describe`. */
export function afterEach(fn: Hook): void {
  hook("afterEach", fn);
}
