// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno run -A tools/with_std.ts <subcommand> [args…]` runs
 * `deno <subcommand> [args…]` with `@std/*` resolved from JSR when it can be
 * reached, and from the offline stand-ins otherwise (see `std_mode.ts`).
 *
 * @module
 */

import { runDeno, stdFlags } from "./std_mode.ts";

const [sub, ...rest] = Deno.args;
if (!sub) {
  console.error(
    "usage: deno run -A tools/with_std.ts <deno subcommand> [args...]",
  );
  Deno.exit(2);
}
Deno.exit(await runDeno([sub, ...(await stdFlags()), ...rest]));
