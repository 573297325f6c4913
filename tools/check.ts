// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task check`: generated kernels up to date (`tools/gen_wgsl.ts
 * --check`), formatting, lint, type check of every TypeScript file,
 * `deno doc --lint mod.ts`, and `deno publish --dry-run` (no slow types).
 * Stops at the first failure and exits non-zero.
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
for (const [name, args] of steps) {
  console.error(`\n== ${name}: deno ${args.join(" ")}`);
  const code = await runDeno(args);
  if (code !== 0) {
    console.error(`check failed at step "${name}" (exit ${code})`);
    Deno.exit(code);
  }
}
console.error("\ncheck: all steps passed");
