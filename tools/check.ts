// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task check`: generated kernels up to date (`tools/gen_wgsl.ts
 * --check`), formatting, lint, type check of every TypeScript file,
 * `deno doc --lint mod.ts`, `deno publish --dry-run` (no slow types), and
 * each GitHub workflow against the workflow schema (action-validator, from
 * npm, one file per run). Stops at the first failure and exits non-zero.
 *
 * @module
 */

import { runDeno, stdFlags } from "./std_mode.ts";

const std = await stdFlags();
const steps: [string, string[]][] = [
  ["generated kernels", [
    "run",
    "--allow-read=.",
    "tools/gen_wgsl.ts",
    "--check",
  ]],
  ["format", ["fmt", "--check"]],
  ["lint", ["lint"]],
  ["type check", ["check", ...std, "."]],
  ["doc lint", ["doc", "--lint", "mod.ts"]],
  ["publish dry run", ["publish", "--dry-run", "--allow-dirty"]],
];
/** The workflow linter: a maintained npm package, pinned. */
const ACTION_VALIDATOR = "npm:@action-validator/cli@0.6.0";
for (const file of workflowFiles()) {
  steps.push([`workflow syntax, ${file}`, [
    "run",
    "--allow-read",
    "--allow-env",
    ACTION_VALIDATOR,
    file,
  ]]);
}
for (const [name, args] of steps) {
  console.error(`\n== ${name}: deno ${args.join(" ")}`);
  const code = await runDeno(args);
  if (code !== 0) {
    console.error(`check failed at step "${name}" (exit ${code})`);
    Deno.exit(code);
  }
}
console.error("\ncheck: all steps passed");

/** The `.github/workflows/*.yml` files, sorted. */
function workflowFiles(): string[] {
  const dir = ".github/workflows";
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => `${dir}/${e.name}`)
    .sort();
}
