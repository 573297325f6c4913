// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Offline stand-in for `jsr:@std/cli@^1/parse-args`, used only when jsr.io
 * cannot be reached. `parseArgs` has the real package's name, parameters and
 * behaviour (minimist-style parsing with the `string`, `boolean`, `default`,
 * `alias`, `negatable`, `collect`, `unknown`, `stopEarly` and `"--"`
 * options); its result type is the loose form of the real one (a record with
 * `_`). The library never imports it.
 *
 * @module
 */

/** The value returned by {@linkcode parseArgs}. */
export type Args<
  // deno-lint-ignore no-explicit-any
  TArgs extends Record<string, unknown> = Record<string, any>,
> = TArgs & {
  /** The arguments that are not options. */
  _: Array<string | number>;
  /** With the `"--"` option: the arguments after `--`. */
  "--"?: Array<string>;
};

/** Options of {@linkcode parseArgs}, as in `@std/cli`. */
export interface ParseOptions {
  /** When `true`, arguments after `--` go to `["--"]` instead of `_`. */
  "--"?: boolean;
  /** Maps a name to one or more aliases. */
  alias?: Record<string, string | readonly string[] | undefined>;
  /**
   * Names always parsed as booleans, or `true` to parse every `--name`
   * without `=` as a boolean. Booleans default to `false`.
   */
  boolean?: boolean | string | readonly string[];
  /** Default values by name. */
  default?: Record<string, unknown>;
  /** Stop parsing at the first non-option; the rest goes to `_`. */
  stopEarly?: boolean;
  /** Names always parsed as strings. */
  string?: string | readonly string[];
  /** Names whose values are collected into arrays. */
  collect?: string | readonly string[];
  /** Names that `--no-<name>` sets to `false`. */
  negatable?: string | readonly string[];
  /**
   * Called with every argument not declared in the options; returning
   * `false` leaves it out of the result.
   */
  unknown?: (arg: string, key?: string, value?: unknown) => unknown;
}

type Nested = { [key: string]: unknown };

const list = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : [...v];

/** A string that `Number()` turns into a finite number (not blank). */
function numeric(s: string): boolean {
  return /\S/.test(s) && Number.isFinite(Number(s));
}

function has(obj: Nested, path: string[]): boolean {
  let o: unknown = obj;
  for (const k of path) {
    if (typeof o !== "object" || o === null || !Object.hasOwn(o, k)) {
      return false;
    }
    o = (o as Nested)[k];
  }
  return true;
}

function put(obj: Nested, path: string[], value: unknown, collect: boolean) {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== "object" || next === null) o[k] = {};
    o = o[k] as Nested;
  }
  const last = path[path.length - 1];
  if (collect) {
    const prev = o[last];
    if (Array.isArray(prev)) {
      prev.push(value);
      return;
    }
    o[last] = prev ? [prev, value] : [value];
    return;
  }
  o[last] = value;
}

/**
 * Parses command-line arguments into an object, as `parseArgs` of
 * `@std/cli`. `--name value`, `--name=value`, `-n value`, grouped short
 * flags (`-abc`), `--no-name` for negatable names, and `--` are understood.
 * Values that look like numbers become numbers unless the name is a string
 * option.
 *
 * @param args The arguments, usually `Deno.args`.
 * @param options How to parse them.
 * @returns The parsed options, with the non-option arguments in `_`.
 *
 * @example Strings, booleans and defaults
 * ```ts
 * import { parseArgs } from "@std/cli/parse-args";
 * import { assertEquals } from "@std/assert";
 *
 * const args = parseArgs(["--width", "64", "--compare"], {
 *   string: ["width", "lr"],
 *   boolean: ["compare"],
 *   default: { lr: "0.003" },
 * });
 * assertEquals(args, { _: [], width: "64", lr: "0.003", compare: true });
 * ```
 */
export function parseArgs<
  // deno-lint-ignore no-explicit-any
  TArgs extends Record<string, unknown> = Record<string, any>,
>(args: string[], options: ParseOptions = {}): Args<TArgs> {
  const aliases = new Map<string, string[]>();
  for (const [key, value] of Object.entries(options.alias ?? {})) {
    if (value === undefined) throw new TypeError("Alias value must be defined");
    const names = list(value);
    aliases.set(key, names);
    for (const name of names) {
      aliases.set(name, [key, ...names.filter((n) => n !== name)]);
    }
  }
  const withAliases = (names: string[]): Set<string> => {
    const set = new Set<string>();
    for (const name of names.filter(Boolean)) {
      set.add(name);
      for (const a of aliases.get(name) ?? []) set.add(a);
    }
    return set;
  };
  const allBooleans = options.boolean === true;
  const booleans = withAliases(
    typeof options.boolean === "boolean" ? [] : list(options.boolean),
  );
  const strings = withAliases(list(options.string));
  const collects = withAliases(list(options.collect));
  const negatables = withAliases(list(options.negatable));
  const unknown = options.unknown ?? ((a: string): unknown => a);
  const isBoolean = (key: string) =>
    booleans.has(key) || (aliases.get(key) ?? []).some((a) => booleans.has(a));

  const out: Nested & { _: Array<string | number> } = { _: [] };
  const set = (key: string, raw: unknown, arg: string, collect: boolean) => {
    const declared = booleans.has(key) || strings.has(key) ||
      aliases.has(key) || (allBooleans && /^--[^=]+$/.test(arg));
    if (!declared && unknown(arg, key, raw) === false) return;
    let value = raw;
    if (typeof value === "string" && !strings.has(key) && numeric(value)) {
      value = Number(value);
    }
    const c = collect && collects.has(key);
    for (const name of [key, ...(aliases.get(key) ?? [])]) {
      put(out, name.split("."), value, c);
    }
  };

  let rest: string[] = [];
  const dd = args.indexOf("--");
  if (dd !== -1) {
    rest = args.slice(dd + 1);
    args = args.slice(0, dd);
  }
  const boolWord = (s: string | undefined) => s === "true" || s === "false";

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const long = /^--(no-)?(.+?)(?:=(.+))?$/s.exec(arg);
    if (long) {
      const [, neg, name, inline] = long;
      if (inline !== undefined) {
        // `--no-x=v` keeps the `no-` in the name, as the real parser does.
        const key = neg ? `no-${name}` : name;
        set(key, booleans.has(key) ? inline !== "false" : inline, arg, true);
        continue;
      }
      if (neg && negatables.has(name)) {
        set(name, false, arg, false);
        continue;
      }
      const key = neg ? `no-${name}` : name;
      const next = args[i + 1];
      if (next) {
        if (!isBoolean(key) && !allBooleans && !next.startsWith("-")) {
          set(key, next, arg, true);
          i++;
          continue;
        }
        if (boolWord(next)) {
          set(key, next !== "false", arg, true);
          i++;
          continue;
        }
      }
      set(key, strings.has(key) ? "" : true, arg, true);
      continue;
    }
    if (/^-./s.test(arg) && arg !== "-") {
      const letters = arg.slice(1);
      let consumedRest = false;
      for (let j = 0; j < letters.length - 1; j++) {
        const letter = letters[j], tail = letters.slice(j + 1);
        if (tail === "-") {
          set(letter, tail, arg, true);
          continue;
        }
        if (/[A-Za-z]/.test(letter)) {
          const inline = /=(.+)/s.exec(tail);
          if (inline) {
            set(letter, inline[1], arg, true);
            consumedRest = true;
            break;
          }
          if (/-?\d+(\.\d*)?(e-?\d+)?$/.test(tail)) {
            set(letter, tail, arg, true);
            consumedRest = true;
            break;
          }
        }
        if (j + 1 < letters.length - 1 && /\W/.test(letters[j + 1])) {
          set(letter, tail, arg, true);
          consumedRest = true;
          break;
        }
        set(letter, strings.has(letter) ? "" : true, arg, true);
      }
      if (consumedRest) continue;
      const key = letters[letters.length - 1];
      if (key === "-") continue;
      const next = args[i + 1];
      if (next) {
        if (!/^(-|--)[^-]/.test(next) && !isBoolean(key)) {
          set(key, next, arg, true);
          i++;
          continue;
        }
        if (boolWord(next)) {
          set(key, next !== "false", arg, true);
          i++;
          continue;
        }
      }
      set(key, strings.has(key) ? "" : true, arg, true);
      continue;
    }
    if (unknown(arg) !== false) {
      out._.push(strings.has("_") || !numeric(arg) ? arg : Number(arg));
    }
    if (options.stopEarly) {
      out._.push(...args.slice(i + 1));
      break;
    }
  }

  for (const [key, value] of Object.entries(options.default ?? {})) {
    const path = key.split(".");
    if (has(out, path)) continue;
    put(out, path, value, false);
    for (const a of aliases.get(key) ?? []) {
      put(out, a.split("."), value, false);
    }
  }
  for (const key of booleans) {
    const path = key.split(".");
    if (!has(out, path)) put(out, path, collects.has(key) ? [] : false, false);
  }
  for (const key of strings) {
    const path = key.split(".");
    if (!has(out, path) && collects.has(key)) put(out, path, [], false);
  }
  if (options["--"]) out["--"] = rest;
  else out._.push(...rest);
  return out as Args<TArgs>;
}
