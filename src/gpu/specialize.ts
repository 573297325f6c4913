// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Specialisation of kernel sources: the stream kernels (`wgsl/pre*.wgsl`,
 * `wgsl/post*.wgsl`) and, with `withConstants`, the Sinkhorn and coefficient
 * kernels; plus the source cache, the f16 switch of the coefficient kernels
 * (`withPrecision`) and `f32Bits` for uniform words.
 *
 * Every constant that host code and a kernel share has one definition, in
 * the host, and is written into the kernel's `const NAME: u32 = …u;` line by
 * `withConstants` (the value in the `.wgsl` file is only a valid default).
 * Invariants between constants are checked with `assertInvariant` when the
 * source is built.
 *
 * Each stream kernel file begins with a block between `// @specialize begin` and
 * `// @specialize end` that fixes the stream storage type, `n` and the
 * vector width, as valid WGSL defaults (f32, n = 4, vec4). This module
 * rewrites the block for one `(n, width, precision)`, so that every
 * pipeline has `N` as a compile-time constant (loops fully unrolled, the
 * token's streams held in registers) and uses `vec4` loads when `C % 4 == 0`.
 * Line numbers are kept, so compile errors point into the `.wgsl` file.
 *
 * @module
 */

import type { StreamPrecision } from "./runtime.ts";

/** One specialisation of a stream kernel. */
export interface StreamVariant {
  /** Streams per token, 1 to 8. */
  n: number;
  /** Channels per vector: 4 (`C % 4 == 0`) or 1. */
  width: 1 | 4;
  /** Storage type of the streams. */
  precision: StreamPrecision;
}

const BEGIN = "// @specialize begin";
const END = "// @specialize end";

/**
 * Returns `code` with its specialisation block rewritten for `v`, and
 * `extra` sources appended (e.g. the shared reduction).
 *
 * @param code A stream kernel with a specialisation block.
 * @param v The variant.
 * @param extra Sources appended after the kernel.
 * @returns WGSL for the variant.
 * @throws {Error} When the block is missing (the kernel file is malformed).
 */
export function specializeStreams(
  code: string,
  v: StreamVariant,
  extra: readonly string[] = [],
): string {
  const lines = code.split("\n");
  const b = lines.findIndex((l) => l.startsWith(BEGIN));
  const e = lines.findIndex((l) => l.startsWith(END));
  if (b < 0 || e < b) {
    throw new Error(
      `stream kernel has no "${BEGIN}" … "${END}" block to specialise`,
    );
  }
  const s = v.precision === "f16" ? "f16" : "f32";
  const block = v.width === 4
    ? [
      `alias S = ${s};`,
      `const N: u32 = ${v.n}u;`,
      "alias SV = vec4<S>;",
      "alias AV = vec4<f32>;",
      "fn hdot(a: AV, b: AV) -> f32 { return dot(a, b); }",
    ]
    : [
      `alias S = ${s};`,
      `const N: u32 = ${v.n}u;`,
      "alias SV = S;",
      "alias AV = f32;",
      "fn hdot(a: AV, b: AV) -> f32 { return a * b; }",
    ];
  // Keep the line count of the block, so line numbers stay those of the file.
  while (block.length < e - b - 1) block.push("");
  const out = [
    (v.precision === "f16" ? "enable f16; " : "") + lines[b],
    ...block,
    ...lines.slice(e),
  ];
  return [...lines.slice(0, b), ...out, ...extra].join("\n");
}

/**
 * The cache key of a stream kernel variant.
 *
 * @param kernel Kernel name.
 * @param v The variant.
 * @returns A short key such as `"post|n=4|w=4|f32"`.
 */
export function variantKey(kernel: string, v: StreamVariant): string {
  return `${kernel}|n=${v.n}|w=${v.width}|${v.precision}`;
}

const sources = new Map<string, string>();

/**
 * Returns the kernel source cached under `key`, building it on first use.
 * Specialising a kernel (string splits, regular expressions over several
 * hundred lines) would otherwise run on every encode call, before the
 * runtime's pipeline cache is even consulted. Sources depend only on the
 * key, not on the device, so one cache serves every runtime.
 *
 * @param key The pipeline's cache key (it must determine the source).
 * @param build Builds the source.
 * @returns The source.
 */
export function cachedSource(key: string, build: () => string): string {
  let code = sources.get(key);
  if (code === undefined) {
    code = build();
    sources.set(key, code);
  }
  return code;
}

/**
 * Returns `code` with each `const NAME: u32 = …u;` line named in `values`
 * rewritten to the given value (the kernels' compile-time constants, such as
 * `N`). Line numbers are kept, so compile errors point into the `.wgsl` file.
 * Internal.
 *
 * @param code WGSL source.
 * @param values Constant name → non-negative integer.
 * @returns The specialised source.
 * @throws {Error} When a constant's line is missing or appears twice.
 */
export function withConstants(
  code: string,
  values: Record<string, number>,
): string {
  let out = code;
  for (const [name, value] of Object.entries(values)) {
    const re = new RegExp(`^const ${name}: u32 = \\d+u;`, "gm");
    const hits = out.match(re)?.length ?? 0;
    if (hits !== 1) {
      throw new Error(
        `kernel has ${hits} lines "const ${name}: u32 = …u;", expected 1`,
      );
    }
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  return out;
}

/**
 * Returns a coefficient kernel's source for a stream `precision`: with
 * `"f16"`, its line `alias XT = f32;` (the storage type of `x` and `g_x`)
 * becomes `alias XT = f16;` and f16 is enabled. Internal.
 *
 * @param code WGSL source with an `alias XT = f32;` line.
 * @param precision Storage precision of the streams.
 * @returns The specialised source.
 * @throws {Error} When the alias line is missing.
 */
export function withPrecision(
  code: string,
  precision: StreamPrecision,
): string {
  if (precision === "f32") return code;
  const from = "alias XT = f32;";
  if (!code.includes(from)) {
    throw new Error(`coefficient kernel lacks "${from}" to specialise`);
  }
  return "enable f16;\n" + code.replaceAll(from, "alias XT = f16;");
}

/**
 * Returns the value of the kernel constant `const NAME: u32 = …u;` in
 * `code`, to check a kernel's assumptions about constants it keeps for
 * itself. Internal.
 *
 * @param code WGSL source.
 * @param name Constant name.
 * @returns Its value.
 * @throws {Error} When the line is missing or appears twice.
 */
export function constantValue(code: string, name: string): number {
  const hits = [
    ...code.matchAll(new RegExp(`^const ${name}: u32 = (\\d+)u;`, "gm")),
  ];
  if (hits.length !== 1) {
    throw new Error(
      `kernel has ${hits.length} lines "const ${name}: u32 = …u;", expected 1`,
    );
  }
  return Number(hits[0][1]);
}

/**
 * Throws when a kernel's invariant does not hold for the constants it is
 * being specialised with: a clear error at pipeline creation instead of
 * wrong results. Internal.
 *
 * @param ok The invariant.
 * @param what What it says, for the message.
 * @throws {Error} When `ok` is false.
 */
export function assertInvariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`kernel invariant violated: ${what}`);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bits of `value` rounded to f32, as a u32 uniform word. Internal. */
export function f32Bits(value: number): number {
  scratchF32[0] = value;
  return scratchU32[0];
}

const UNROLL = "// @unroll";
const FOR = /^(\s*)for \(var (\w+) = 0u; \2 < (\w+); \2\+\+\) \{\s*$/;

/**
 * Returns `code` with every loop marked by a `// @unroll` line unrolled:
 * the marked line must be followed by `for (var v = 0u; v < BOUND; v++) {`
 * where `BOUND` is a key of `bounds` (or a literal such as `4u`), and the loop
 * becomes `BOUND` copies of its body, each in its own braces, with the
 * variable `v` replaced by the literal index (`3u`). Loops are unrolled
 * from the last marker up, so nested marked loops unroll inside out. The
 * source as written (loops) stays valid WGSL with the same meaning.
 * Internal.
 *
 * A shader compiler then sees constant indices: in the coefficient kernels
 * the reads of the bound block of `φ` become uniform loads, which a CPU
 * adapter such as lavapipe turns into one scalar load broadcast to the
 * SIMD lanes instead of one load per lane.
 *
 * @param code WGSL source.
 * @param bounds Loop bound name → trip count.
 * @returns The unrolled source.
 * @throws {Error} When a marker is not followed by a loop of that form, its
 *   bound is unknown, or its braces do not close.
 */
export function unrollLoops(
  code: string,
  bounds: Record<string, number>,
): string {
  const lines = code.split("\n");
  for (let m = lines.length - 1; m >= 0; m--) {
    if (lines[m].trim() !== UNROLL) continue;
    const head = FOR.exec(lines[m + 1] ?? "");
    if (!head) {
      throw new Error(
        `"${UNROLL}" must precede "for (var v = 0u; v < BOUND; v++) {"`,
      );
    }
    const [, indent, v, bound] = head;
    const literal = /^(\d+)u?$/.exec(bound);
    const count = literal ? Number(literal[1]) : bounds[bound];
    if (count === undefined) {
      throw new Error(`unrolled loop bound ${bound} has no value`);
    }
    let depth = 0, end = -1;
    for (let i = m + 1; i < lines.length && end < 0; i++) {
      for (const ch of lines[i]) {
        if (ch === "{") depth++;
        if (ch === "}" && --depth === 0) end = i;
      }
    }
    if (end < 0) throw new Error(`unrolled loop over ${v} does not close`);
    const body = lines.slice(m + 2, end);
    const name = new RegExp(`\\b${v}\\b`, "g");
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      out.push(`${indent}{`);
      for (const l of body) out.push(l.replace(name, `${i}u`));
      out.push(`${indent}}`);
    }
    lines.splice(m, end - m + 1, ...out);
  }
  return lines.join("\n");
}

/**
 * Returns `code` with the block between `// @vector NAME begin` and
 * `// @vector NAME end` set to a width of 4 or left scalar. The block holds
 * valid scalar defaults: `const NAME: u32 = 1u;`, aliases `alias A = T;`,
 * and helpers whose body is `return v;` (component `e` of `v`) or
 * `return s[0];` (pack an `array<f32, NAME>`). For width 4 the constant
 * becomes `4u`, each alias `vec4<T>`, `return v;` becomes `return v[e];`
 * and `return s[0];` becomes `return vec4(s[0], s[1], s[2], s[3]);`.
 * Line numbers are kept. Internal.
 *
 * @param code WGSL source with the block.
 * @param name The block's constant, e.g. `XW`.
 * @param width 1 (unchanged) or 4.
 * @returns The specialised source.
 * @throws {Error} When the block is missing.
 */
export function withVectorWidth(
  code: string,
  name: string,
  width: 1 | 4,
): string {
  const lines = code.split("\n");
  const b = lines.findIndex((l) => l.trim() === `// @vector ${name} begin`);
  const e = lines.findIndex((l) => l.trim() === `// @vector ${name} end`);
  if (b < 0 || e < b) {
    throw new Error(`kernel has no "// @vector ${name} begin … end" block`);
  }
  if (width === 1) return code;
  for (let i = b + 1; i < e; i++) {
    lines[i] = lines[i]
      .replace(`const ${name}: u32 = 1u;`, `const ${name}: u32 = 4u;`)
      .replace(/^alias (\w+) = (.+);$/, "alias $1 = vec4<$2>;")
      .replace("{ return v; }", "{ return v[e]; }")
      .replace("{ return s[0]; }", "{ return vec4(s[0], s[1], s[2], s[3]); }");
  }
  return lines.join("\n");
}

/** `fn name(v: T, e: u32) -> f32 { return BODY; }`: a component accessor. */
const ACCESSOR =
  /^fn (\w+)\((\w+): [^,()]+, (\w+): u32\) -> f32 \{ return (.+); \}$/gm;
/** `fn name(s: array<f32, W>) -> T { return BODY; }`: a packer. */
const PACKER =
  /^fn (\w+)\((\w+): array<f32, \w+>\) -> [\w<>]+ \{ return (.+); \}$/gm;

/**
 * Returns `code` with every call of its one-line component accessors and
 * packers (the helpers of a `// @vector` block, see `withVectorWidth`)
 * replaced by the helper's body, where the call's arguments are an
 * identifier and, for an accessor, a literal index (as after
 * `unrollLoops`). The helpers stay defined. A shader compiler then has no
 * calls to inline: on lavapipe, thousands of such calls in an unrolled
 * kernel made its compilation several times slower. Internal.
 *
 * @param code WGSL source.
 * @returns The source with those calls inlined.
 */
export function inlineAccessors(code: string): string {
  let out = code;
  for (const [, name, v, e, body] of code.matchAll(ACCESSOR)) {
    const call = new RegExp(`\\b${name}\\((\\w+), (\\d+u)\\)`, "g");
    out = out.replace(
      call,
      (_, id: string, idx: string) =>
        "(" + body.replace(new RegExp(`\\b${v}\\b`, "g"), id)
          .replace(new RegExp(`\\b${e}\\b`, "g"), idx) +
        ")",
    );
  }
  for (const [, name, v, body] of code.matchAll(PACKER)) {
    const call = new RegExp(`\\b${name}\\((\\w+)\\)`, "g");
    out = out.replace(
      call,
      (_, id: string) =>
        "(" + body.replace(new RegExp(`\\b${v}\\b`, "g"), id) + ")",
    );
  }
  return out;
}

/**
 * `a * b`, `a / b` or `a % b` of two literals, not right after another
 * `*`, `/` or `%` (WGSL evaluates those left to right).
 */
const FOLD_PRODUCT = /(?<![*/%]\s*)(?<![\w.)\]]\s*)\b(\d+)u ([*/%]) (\d+)u\b/g;

/**
 * Returns `code` with the named `u32` constants replaced by their values
 * outside their declarations, literal `let`s replaced by their value in
 * their block, and the arithmetic of `u32` literals that this
 * and `unrollLoops` leave behind folded: `2u * 4u + 3u` becomes `11u`. Only
 * `*`, `/`, `%` and `+` between two literals are folded, and only where
 * WGSL's precedence and left-to-right order give the same value, so the
 * meaning is unchanged. A shader compiler then parses one literal where the
 * unrolled source had a tree of expressions: on lavapipe, parsing and
 * validating the unrolled coefficient kernels took seconds. Internal.
 *
 * @param code WGSL source.
 * @param values Constant name → non-negative integer value; only the
 *   names that `code` declares as `const NAME: u32` are replaced.
 * @returns The folded source.
 */
export function foldConstants(
  code: string,
  values: Record<string, number>,
): string {
  const names = Object.keys(values).filter((k) =>
    Number.isInteger(values[k]) && values[k] >= 0 &&
    new RegExp(`^\\s*const ${k}: u32 =`, "m").test(code)
  );
  const name = names.length
    ? new RegExp(`(?<!\\.)\\b(${names.join("|")})\\b(?!\\s*:)`, "g")
    : null;
  // Lets and vars of the enclosing blocks, innermost last: name → its
  // literal, or null when it is not a literal (it then hides outer ones).
  const scopes: Map<string, string | null>[] = [new Map()];
  const out: string[] = [];
  for (const line of code.split("\n")) {
    if (/^\s*(const|override|alias|\/\/|\*|\/\*\*)/.test(line)) {
      out.push(line);
      continue;
    }
    // A declaration's name is kept; what follows it is substituted.
    const decl = /^(\s*(?:let|var)\s+)(\w+)(.*)$/.exec(line);
    const head = decl ? decl[1] + decl[2] : "";
    let l = decl ? decl[3] : line;
    if (name) l = l.replace(name, (k) => `${values[k]}u`);
    const visible = new Map<string, string>();
    for (const scope of scopes) {
      for (const [k, v] of scope) {
        if (v === null) visible.delete(k);
        else visible.set(k, v);
      }
    }
    for (const [k, v] of visible) {
      l = l.replace(new RegExp(`(?<![.\\w])${k}\\b(?!\\s*:)`, "g"), v);
    }
    for (let changed = true; changed;) {
      const before = l;
      l = l.replace(FOLD_PRODUCT, (_, a: string, op: string, b: string) => {
        const [x, y] = [Number(a), Number(b)];
        return `${
          op === "*" ? x * y : op === "/" ? Math.floor(x / y) : x % y
        }u`;
      });
      // a + b: neither side bound tighter, and no - or * / % before it.
      l = l.replace(
        /(?<![-*/%]\s*)(?<![\w.)\]]\s*)\b(\d+)u \+ (\d+)u\b(?!\s*[*/%])/g,
        (_, a, b) => `${Number(a) + Number(b)}u`,
      );
      // (a) → a, unless it is a call's argument list.
      l = l.replace(/(?<![\w\]])\((\d+u)\)/g, "$1");
      changed = l !== before;
    }
    l = head + l;
    if (decl) {
      const literal = /^\s*let \w+ = (\d+u);$/.exec(l);
      scopes[scopes.length - 1].set(decl[2], literal ? literal[1] : null);
      if (literal) continue;
    }
    for (const ch of l) {
      if (ch === "{") scopes.push(new Map());
      if (ch === "}" && scopes.length > 1) scopes.pop();
    }
    out.push(l);
  }
  return out.join("\n");
}

/**
 * The source a block kernel compiles: `unrollLoops` with `bounds`, then
 * `inlineAccessors`, then `foldConstants` with `constants` and `bounds`.
 * Internal.
 *
 * @param code WGSL source, its constants already set (`withConstants`).
 * @param bounds Loop bound name → trip count (also folded as constants).
 * @param constants The values set in `code`, folded where it uses them.
 * @returns The unrolled, inlined and folded source.
 */
export function unrollAndFold(
  code: string,
  bounds: Record<string, number>,
  constants: Record<string, number>,
): string {
  return foldConstants(
    inlineAccessors(unrollLoops(code, bounds)),
    { ...constants, ...bounds },
  );
}
