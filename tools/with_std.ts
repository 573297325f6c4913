// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno run -A tools/with_std.ts <subcommand> [args…]` runs
 * `deno <subcommand> [args…]` with `@std/*` resolved from JSR when it can be
 * reached, and from the offline stand-ins otherwise (see `std_mode.ts`).
 * Ctrl-C and other termination signals go to the child, once, and this
 * process exits only after the child has.
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
