// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The documentation points at things that exist: every relative link of the
// user documentation resolves to a file, and a published page links only to
// published files (deno.json "publish"); every "SPEC §N" cited in the code
// and the docs is a section of docs/SPEC.md.
import { assert, assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

/** The user documentation: the README and the pages it links to. */
const PAGES = [
  "README.md",
  "docs/SPEC.md",
  "docs/TRAINING.md",
  "bench/RESULTS.md",
];

const config = JSON.parse(read("deno.json")) as {
  publish: { include: string[]; exclude?: string[] };
};

/** True when `path` (relative to the root) is in the published package. */
function published(path: string): boolean {
  const covers = (entry: string) =>
    entry.endsWith("/") ? path.startsWith(entry) : path === entry;
  return config.publish.include.some(covers) &&
    !(config.publish.exclude ?? []).some(covers);
}

/** Relative link targets of a markdown page, resolved from the root. */
function links(page: string): string[] {
  const text = read(page).replace(/```[\s\S]*?```/g, "");
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
    const url = new URL(target.split("#")[0], new URL(page, ROOT));
    out.push(url.pathname.slice(ROOT.pathname.length));
  }
  return out;
}

/** Files of the repository with the given extensions (no generated code). */
function* files(dir: string, ext: RegExp): Generator<string> {
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) {
      if (!e.name.startsWith(".") && e.name !== "kernels") {
        yield* files(`${path}/`, ext);
      }
    } else if (ext.test(e.name)) {
      yield path;
    }
  }
}

describe("the documentation", () => {
  it("links only to files that exist, and published pages only to published files", () => {
    let checked = 0;
    for (const page of PAGES) {
      for (const target of links(page)) {
        checked++;
        const stat = Deno.statSync(new URL(target, ROOT));
        assert(stat.isFile, `${page} links to ${target}, not a file`);
        if (published(page)) {
          assert(
            published(target),
            `${page} is published but links to ${target}, which is not`,
          );
        }
      }
    }
    assert(published("README.md") && published("docs/SPEC.md"));
    assert(checked >= 4, `only ${checked} links found`);
  });

  it("cites only sections that docs/SPEC.md has", () => {
    const sections = new Set(
      [...read("docs/SPEC.md").matchAll(/^## (\d+)\. /gm)].map((m) => m[1]),
    );
    assertEquals(
      [...sections],
      ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
    );
    const cited = new Map<string, string>();
    for (
      const path of [
        "README.md",
        "mod.ts",
        "docs/TRAINING.md",
        "bench/RESULTS.md",
        ...files("src/", /\.ts$/),
        ...files("wgsl/", /\.wgsl$/),
        ...files("tests/", /\.ts$/),
        ...files("bench/", /\.(ts|wgsl)$/),
      ]
    ) {
      const text = read(path);
      // "SPEC §3", "SPEC §3, §6", "SPEC §6 (HC) or §7", and the README's
      // "(§4)" column of the API table.
      const chains = [
        ...text.matchAll(/SPEC §\d+(?:[^§\n]{0,12}§\d+)*/g),
        ...text.matchAll(/\(§\d+\)/g),
      ];
      for (const chain of chains) {
        for (const m of chain[0].matchAll(/§(\d+)/g)) cited.set(m[1], path);
      }
    }
    assert(cited.size >= 8, `only ${cited.size} sections cited`);
    for (const [section, path] of cited) {
      assert(sections.has(section), `${path} cites SPEC §${section}`);
    }
  });
});
