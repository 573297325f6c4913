// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Source specialisation of the trainer's kernels (`wgsl/train/`): a kernel
 * whose storage is read 16 bytes at a time marks those lines `// @vec4` and
 * gives their one-float versions on lines starting `// @scalar `;
 * {@linkcode scalarVariant} swaps them. {@linkcode setConst} rewrites a
 * `const` of the specialisation block. Both keep the line count, so compile
 * errors point at the line of the `.wgsl` file.
 *
 * @module
 */

const SCALAR = "// @scalar ";
const VEC4 = "// @vec4";

/**
 * The one-float variant of `code`: lines ending `// @vec4` are emptied, and
 * lines starting `// @scalar ` lose that prefix.
 *
 * @param code A kernel with `// @vec4` and `// @scalar ` lines.
 * @returns The variant.
 * @throws {Error} When `code` has no such lines (a malformed kernel).
 */
export function scalarVariant(code: string): string {
  if (!code.includes(SCALAR) || !code.includes(VEC4)) {
    throw new Error("kernel has no // @vec4 and // @scalar lines to swap");
  }
  return code.split("\n").map((line) => {
    if (line.endsWith(VEC4)) return "";
    if (line.startsWith(SCALAR)) return line.slice(SCALAR.length);
    return line;
  }).join("\n");
}

/**
 * `code` with the declaration `const name: type = …;` (a line of its own)
 * given the value `value` (WGSL text).
 *
 * @param code A kernel.
 * @param name The constant.
 * @param value Its new value, as WGSL.
 * @returns The rewritten kernel.
 * @throws {Error} When `code` does not declare the constant on a line.
 */
export function setConst(code: string, name: string, value: string): string {
  const re = new RegExp(`^const ${name}: (\\w+) = [^;]*;`, "m");
  if (!re.test(code)) {
    throw new Error(`kernel has no line declaring const ${name}`);
  }
  return code.replace(re, `const ${name}: $1 = ${value};`);
}
