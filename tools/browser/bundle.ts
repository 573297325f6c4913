// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Bundles modules for the browser with `deno bundle --platform browser`:
 * the library itself (mod.ts → one self-contained ES module), and page
 * entries that import `@birkhoff/mhc` as an external, so that a page loads
 * the library from that one bundle through an import map, as a user's page
 * would.
 *
 * @module
 */

import { runDeno, stdFlags } from "../std_mode.ts";

const ROOT = new URL("../../", import.meta.url);

/** The name pages import the library by. */
export const LIBRARY = "@birkhoff/mhc";

/**
 * Writes the import map a bundle resolves with: `@std/*` as the dev tasks
 * resolve it (the JSR mappings of deno.json, or the offline stand-ins when
 * jsr.io is unreachable; see tools/std_mode.ts), and `@birkhoff/mhc` mapped
 * to mod.ts explicitly (`deno bundle --external` silently bundles nothing
 * when the external name resolves only through the package's own name).
 * Targets are made absolute, so the map can live anywhere.
 *
 * @param dir Directory to write `import_map.json` into.
 * @returns Its path.
 */
export async function writeBundleImportMap(dir: string): Promise<string> {
  const std = await stdFlags();
  const flag = std.find((f) => f.startsWith("--import-map="));
  const source = flag
    ? new URL(`file://${flag.slice("--import-map=".length)}`)
    : new URL("deno.json", ROOT);
  const { imports = {} } = JSON.parse(await Deno.readTextFile(source)) as {
    imports?: Record<string, string>;
  };
  const resolved: Record<string, string> = {};
  for (const [k, v] of Object.entries(imports)) {
    resolved[k] = /^[a-z]+:/.test(v) ? v : new URL(v, source).href;
  }
  resolved[LIBRARY] = new URL("mod.ts", ROOT).href;
  const path = `${dir}/import_map.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ imports: resolved }, null, 2) + "\n",
  );
  return path;
}

/**
 * Runs `deno bundle --platform browser` on one entry and checks that it
 * wrote a non-empty file.
 *
 * @param entry The entry module (path or URL).
 * @param out The output file.
 * @param options `importMap` (from {@linkcode writeBundleImportMap});
 *   `external`: specifiers left as imports (e.g. {@linkcode LIBRARY}).
 * @returns Resolves when the bundle is written; throws if it is not.
 */
export async function bundleForBrowser(
  entry: string,
  out: string,
  options: { importMap: string; external?: string[] },
): Promise<void> {
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    `--import-map=${options.importMap}`,
    ...(options.external ?? []).map((e) => `--external=${e}`),
    "-o",
    out,
    entry,
  ];
  const code = await runDeno(args);
  const size = await Deno.stat(out).then((s) => s.size, () => 0);
  if (code !== 0 || size === 0) {
    throw new Error(
      `deno ${args.join(" ")} failed (exit ${code}, ${size} bytes written)`,
    );
  }
}
