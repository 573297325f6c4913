// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The dev-task wrapper (tools/with_std.ts): on Linux it gives Deno's WebGPU a
// runtime directory when XDG_RUNTIME_DIR is unset, so a bare shell sees no
// "XDG_RUNTIME_DIR is invalid or not set" lines; it keeps one that is set.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { GPU_REQUIRED } from "./_gpu.ts";

const WITH_STD = new URL("../tools/with_std.ts", import.meta.url).pathname;
const STD_MODE = import.meta.resolve("@std/assert").includes("/offline/")
  ? "offline"
  : "jsr";
const WARNING = "XDG_RUNTIME_DIR is invalid or not set";
const PROBE = `const a = await navigator.gpu?.requestAdapter();
console.log(Deno.env.get("XDG_RUNTIME_DIR") ?? "(unset)", a ? "adapter" : "none");`;

/** Runs `deno <args>` with this environment minus XDG_RUNTIME_DIR, plus `extra`. */
async function withoutRuntimeDir(args: string[], extra = {}) {
  const env: Record<string, string> = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  Object.assign(env, { MHC_STD: STD_MODE }, extra);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

describe("tools/with_std.ts", () => {
  it({
    name: "gives WebGPU a private runtime dir when XDG_RUNTIME_DIR is unset",
    ignore: Deno.build.os !== "linux",
    fn: async () => {
      const bare = await withoutRuntimeDir(["eval", PROBE]);
      const task = await withoutRuntimeDir([
        "run",
        "-A",
        WITH_STD,
        "eval",
        PROBE,
      ]);
      assertEquals(task.code, 0, task.stderr);
      const [dir, adapter] = task.stdout.trim().split(" ");
      assert(dir.includes("mhc-xdg-"), `child saw XDG_RUNTIME_DIR=${dir}`);
      assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assert(!task.stderr.includes(WARNING), task.stderr);
      if (GPU_REQUIRED) {
        // CI runs on lavapipe, where the bare run shows what is avoided.
        assertEquals(adapter, "adapter");
        assertStringIncludes(bare.stderr, WARNING);
      }
    },
  });

  it("keeps an XDG_RUNTIME_DIR that is set", async () => {
    const task = await withoutRuntimeDir(
      [
        "run",
        "-A",
        WITH_STD,
        "eval",
        "console.log(Deno.env.get('XDG_RUNTIME_DIR'))",
      ],
      { XDG_RUNTIME_DIR: "/tmp/mhc-own-runtime-dir" },
    );
    assertEquals(task.code, 0, task.stderr);
    assertEquals(task.stdout.trim(), "/tmp/mhc-own-runtime-dir");
  });
});
