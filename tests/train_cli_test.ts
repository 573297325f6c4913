// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The training CLI as a user meets it: spawned as a subprocess, every
// mistake gives exit code 2 and a single "error: …" line on stderr, never a
// stack trace; --help lists every option with its default. Also checks the
// parts of `@std/cli`'s parseArgs that the CLI relies on (this runs against
// the real package when JSR is reachable and the offline stand-in otherwise).

import { describe, it } from "@std/testing/bdd";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { parseArgs } from "@std/cli/parse-args";

const MAIN = new URL("../src/train/main.ts", import.meta.url).pathname;
const OFFLINE_MAP = new URL("../offline/import_map.json", import.meta.url)
  .pathname;
// Run the CLI with the same @std source as this test run.
const STD_FLAGS = import.meta.resolve("@std/cli/parse-args").includes(
    "/offline/",
  )
  ? [`--import-map=${OFFLINE_MAP}`]
  : [];
/** The same choice for `deno task`, which makes it in tools/with_std.ts. */
const STD_MODE = STD_FLAGS.length ? "offline" : "jsr";
const ROOT = new URL("..", import.meta.url).pathname;

async function cli(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...STD_FLAGS, MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

describe("the training CLI", () => {
  it("answers every user mistake with one error line, exit code 2 and no stack trace", async () => {
    const dir = await Deno.makeTempDir({ prefix: "mhc_cli_" });
    try {
      await Deno.writeFile(`${dir}/empty.txt`, new Uint8Array());
      await Deno.writeTextFile(`${dir}/short.txt`, "hello world");
      await Deno.writeFile(
        `${dir}/binary.txt`,
        new Uint8Array(4000).map((_, i) => (i * 37) & 0xff),
      );
      await Deno.mkdir(`${dir}/bad`);
      await Deno.writeTextFile(
        `${dir}/bad/checkpoint.safetensors`,
        "this is not a checkpoint",
      );
      await Deno.mkdir(`${dir}/cut`);
      await Deno.writeFile(
        `${dir}/cut/checkpoint.safetensors`,
        new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123]),
      );
      const cases: [string[], RegExp][] = [
        [["--layers", "abc"], /--layers must be a positive integer, got "abc"/],
        [["--layers", "0"], /--layers must be a positive integer/],
        [["--bogus"], /unknown option --bogus/],
        [["stray"], /unexpected argument "stray"/],
        [["--mode", "xyz"], /--mode must be one of residual, hc, mhc/],
        [["--heads", "5"], /--heads 5 must divide --width 64/],
        [["--lr", "fast"], /--lr must be a number/],
        [["--lr"], /--lr needs a value/],
        [["--compare", "--mode", "hc"], /leave out --mode/],
        [
          ["--data", `${dir}/missing.txt`],
          /data file .*missing\.txt does not exist/,
        ],
        [["--data", `${dir}/empty.txt`], /data file .*empty\.txt is empty/],
        [
          ["--data", `${dir}/short.txt`],
          /has 11 bytes; --context 64 needs at least 130/,
        ],
        [["--data", `${dir}/binary.txt`], /is not valid UTF-8 text/],
        [["--resume", `${dir}/bad`], /checkpoint .* is corrupt: /],
        [
          ["--resume", `${dir}/cut`],
          /checkpoint .* is corrupt: header length 200 exceeds/,
        ],
        [["--resume", `${dir}/nothing`], /no such directory/],
        [["--resume", dir], /no checkpoint at /],
      ];
      const results = await Promise.all(
        cases.map(([args]) =>
          cli(
            args[0] === "--resume" ? args : [...args, "--out", `${dir}/out`],
            dir,
          )
        ),
      );
      results.forEach((r, i) => {
        const [args, want] = cases[i];
        const what = `train ${args.join(" ")}`;
        assertEquals(r.code, 2, `${what}: exit code (stderr: ${r.stderr})`);
        const lines = r.stderr.trimEnd().split("\n");
        assertEquals(lines.length, 1, `${what}: one line, got ${r.stderr}`);
        assertMatch(lines[0], /^error: /, what);
        assertMatch(lines[0], want, what);
        assert(!/\n\s+at /.test(r.stderr), `${what}: stack trace`);
      });
      // Nothing was created for the failed runs.
      const made = [];
      for await (const e of Deno.readDir(dir)) made.push(e.name);
      assert(!made.includes("out"), "an output directory was created");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  it("explains every option with its default under --help", async () => {
    const r = await cli(["--help"]);
    assertEquals(r.code, 0);
    for (
      const flag of [
        "--mode",
        "--layers",
        "--width",
        "--heads",
        "--context",
        "--batch",
        "--steps",
        "--lr",
        "--seed",
        "--streams",
        "--sinkhorn-iters",
        "--data",
        "--out",
        "--resume",
        "--compare",
        "--help",
      ]
    ) {
      assertStringIncludes(r.stdout, flag);
    }
    assertMatch(r.stdout, /--layers N\s+.*\(default: 4\)/);
    assertMatch(r.stdout, /--streams n\s+.*\(default: 4\)/);
    assertMatch(r.stdout, /--sinkhorn-iters N\s+.*\(default: 20\)/);
  });
});

describe("Ctrl-C during training", () => {
  it({
    name:
      "writes a checkpoint and exits with 130, and the resumed run repeats the uninterrupted losses exactly",
    ignore: Deno.build.os === "windows", // no SIGINT to send there
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "mhc_sigint_" });
      const args = [
        "--layers=1",
        "--width=8",
        "--heads=2",
        "--context=8",
        "--batch=2",
        "--streams=2",
        "--steps=2000",
        "--eval-every=400",
        "--checkpoint-every=1000",
        "--sample-bytes=0",
      ];
      const losses = async (run: string) =>
        (await Deno.readTextFile(`${run}/metrics.jsonl`)).split("\n")
          .filter((l) => l.includes('"type":"step"'))
          .map((l) => JSON.parse(l).loss as number);
      try {
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            ...STD_FLAGS,
            MAIN,
            ...args,
            "--out",
            `${dir}/cut`,
          ],
          stdout: "null",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
        // Wait until some steps are logged (the WebGPU trainer first
        // compiles its pipelines), then press Ctrl-C.
        for (let i = 0; i < 9000; i++) {
          await new Promise((r) => setTimeout(r, 20));
          const seen = await losses(`${dir}/cut`).catch(() => []);
          if (seen.length >= 20) break;
        }
        child.kill("SIGINT");
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr);
        assertEquals(out.code, 130, stderr);
        assertStringIncludes(
          stderr,
          `resume with: deno task train --resume ${dir}/cut`,
        );
        assert(!/\n\s+at /.test(stderr), "stack trace");
        const cut = await losses(`${dir}/cut`);
        assert(
          cut.length >= 20 && cut.length < 2000,
          `stopped after ${cut.length} steps`,
        );
        await Deno.stat(`${dir}/cut/checkpoint.safetensors`);
        const resumed = await cli(["--resume", `${dir}/cut`]);
        assertEquals(resumed.code, 0, resumed.stderr);
        const full = await cli([...args, "--out", `${dir}/full`]);
        assertEquals(full.code, 0, full.stderr);
        const a = await losses(`${dir}/full`), b = await losses(`${dir}/cut`);
        assertEquals(a.length, 2000);
        assertEquals(b, a);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
});

describe("Ctrl-C under deno task train", () => {
  it({
    name:
      "to the whole process group returns to the prompt only once the checkpoint is written, and --resume continues",
    ignore: Deno.build.os === "windows", // no process groups there
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "mhc_task_sigint_" });
      const run = `${dir}/run`;
      // Steps of about 0.1 s: a parent that returned at once would leave
      // the trainer in the middle of one, with no checkpoint yet.
      const args = [
        "--layers=2",
        "--width=48",
        "--heads=2",
        "--context=48",
        "--batch=8",
        "--streams=2",
        "--steps=40",
        "--eval-every=1000",
        "--checkpoint-every=1000",
        "--sample-bytes=0",
      ];
      const env = { NO_COLOR: "1", MHC_STD: STD_MODE };
      const steps = async () =>
        (await Deno.readTextFile(`${run}/metrics.jsonl`).catch(() => ""))
          .split("\n").filter((l) => l.includes('"type":"step"')).length;
      try {
        // `deno task train` as a shell runs a job: in a process group of
        // its own (detached: a new session, so its pid is the group's id).
        const task = new Deno.Command(Deno.execPath(), {
          args: ["task", "train", ...args, "--out", run],
          cwd: ROOT,
          detached: true,
          stdout: "null",
          stderr: "piped",
          env,
        }).spawn();
        const stderr = new Response(task.stderr).text();
        for (let i = 0; i < 3000 && await steps() < 3; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        // Ctrl-C as a terminal sends it: to every process of the group.
        Deno.kill(-task.pid, "SIGINT");
        const { code } = await task.status;
        // The prompt is back: the checkpoint must be there already.
        const saved = await Deno.stat(`${run}/checkpoint.safetensors`).then(
          (s) => s.isFile,
          () => false,
        );
        const done = await steps();
        const text = await stderr;
        assertEquals(code, 130, text);
        assert(saved, `no checkpoint when deno task returned:\n${text}`);
        assert(done >= 3 && done < 40, `stopped after ${done} steps`);
        assertStringIncludes(
          text,
          `resume with: deno task train --resume ${run}`,
        );
        const resumed = await new Deno.Command(Deno.execPath(), {
          args: ["task", "train", "--resume", run],
          cwd: ROOT,
          stdout: "null",
          stderr: "piped",
          env,
        }).output();
        assertEquals(
          resumed.code,
          0,
          new TextDecoder().decode(resumed.stderr),
        );
        assertEquals(await steps(), 40);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
});

describe("parseArgs as the CLI uses it", () => {
  it("keeps string options as strings, reads booleans and aliases, and reports unknown flags", () => {
    const unknown: string[] = [];
    const args = parseArgs(
      ["--layers", "12", "--lr=3e-3", "-h", "--compare", "--what", "x", "pos"],
      {
        string: ["layers", "lr"],
        boolean: ["compare", "help"],
        alias: { h: "help" },
        unknown: (a: string) => {
          unknown.push(a);
          return false;
        },
      },
    );
    assertEquals(args.layers, "12");
    assertEquals(args.lr, "3e-3");
    assertEquals(args.help, true);
    assertEquals(args.h, true);
    assertEquals(args.compare, true);
    assertEquals(unknown, ["--what", "pos"]);
    assertEquals(args._, []);
  });

  it("gives an empty string to a string option without a value and false to absent booleans", () => {
    const args = parseArgs(["--lr"], {
      string: ["lr"],
      boolean: ["compare"],
    });
    assertEquals(args.lr, "");
    assertEquals(args.compare, false);
  });

  it("applies defaults, negation and collection as documented", () => {
    const args = parseArgs(["--no-color", "--tag", "a", "--tag", "b", "7"], {
      boolean: ["color"],
      negatable: ["color"],
      collect: ["tag"],
      string: ["tag"],
      default: { width: 64 },
    });
    assertEquals(args.color, false);
    assertEquals(args.tag, ["a", "b"]);
    assertEquals(args.width, 64);
    assertEquals(args._, [7]);
  });
});
