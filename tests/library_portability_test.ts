// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The library (everything reachable from mod.ts) must run in a browser: it
// imports nothing outside the repository and calls no Deno-only API.
import { assert, assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";

const root = new URL("../", import.meta.url);

async function libraryModules(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("mod.ts", root).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules.map((m) => m.specifier);
}

/** Source with comments removed, so that JSDoc examples do not count. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:])\/\/.*$/gm,
    "$1",
  );
}

describe("the library reachable from mod.ts", () => {
  it("imports only files inside the repository", async () => {
    const modules = await libraryModules();
    assert(modules.length > 10, `only ${modules.length} modules found`);
    const outside = modules.filter((s) => !s.startsWith(root.href));
    assertEquals(outside, []);
  });

  it("never touches the training code, the tests or the stand-ins", async () => {
    const modules = await libraryModules();
    const wrong = modules.filter((s) =>
      /\/(src\/train|tests|offline|bench|tools)\//.test(
        s.slice(root.href.length - 1),
      )
    );
    assertEquals(wrong, []);
  });

  it("keeps each directory's private modules (_*.ts) to itself", async () => {
    // src/_validate.ts is shared by src/reference/ and src/gpu/; a module in
    // one of those importing the other's private files is a layering error.
    const wrong: string[] = [];
    for (const specifier of await libraryModules()) {
      const dir = specifier.slice(0, specifier.lastIndexOf("/") + 1);
      const text = code(await Deno.readTextFile(new URL(specifier)));
      for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
        const target = new URL(m[1], specifier).href;
        const name = target.slice(target.lastIndexOf("/") + 1);
        const shared = target === new URL("src/_validate.ts", root).href;
        if (name.startsWith("_") && !target.startsWith(dir) && !shared) {
          wrong.push(`${specifier.slice(root.href.length)} → ${m[1]}`);
        }
      }
    }
    assertEquals(wrong, []);
  });

  it("calls no Deno-only API", async () => {
    const offenders: string[] = [];
    for (const specifier of await libraryModules()) {
      const text = code(await Deno.readTextFile(new URL(specifier)));
      if (/\bDeno\s*\./.test(text)) offenders.push(specifier);
    }
    assertEquals(offenders, []);
  });
});

describe("the trainer's portable core", () => {
  // What a web page imports: the step on either device, its choice, the
  // data batches, the optimiser and the model. The CLI, files and
  // checkpoints live in other modules.
  const entries = ["src/train/trainer.ts", "src/train/devices.ts"];

  async function coreModules(): Promise<string[]> {
    const all = new Set<string>();
    for (const entry of entries) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", new URL(entry, root).pathname],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(out.success, new TextDecoder().decode(out.stderr));
      const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
        modules: { specifier: string }[];
      };
      for (const m of info.modules) all.add(m.specifier);
    }
    return [...all];
  }

  it("reaches both devices and calls no Deno-only API", async () => {
    const modules = await coreModules();
    for (const want of ["cpu/device.ts", "gpu/device.ts", "gpu/model.ts"]) {
      assert(
        modules.some((s) => s.endsWith(`/src/train/${want}`)),
        `${want} is not reached`,
      );
    }
    const offenders: string[] = [];
    for (const specifier of modules) {
      assert(specifier.startsWith(root.href), `${specifier} is outside`);
      const text = code(await Deno.readTextFile(new URL(specifier)));
      if (/\bDeno\s*\./.test(text)) offenders.push(specifier);
    }
    assertEquals(offenders, []);
  });
});
