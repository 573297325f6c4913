// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task train`: the command-line entry point. User mistakes print one
 * line (`error: …`) and exit with code 2; Ctrl-C finishes the current step,
 * writes a checkpoint and exits with code 130.
 *
 * @module
 */

import { helpText, parseCommand } from "./cli.ts";
import { UsageError } from "./errors.ts";
import { ProgressLine } from "./progress.ts";
import { execute, Interrupted, type StopSignal } from "./run.ts";

async function main(args: string[]): Promise<number> {
  const cmd = parseCommand(args);
  if (cmd.help) {
    console.log(helpText());
    return 0;
  }
  const stop: StopSignal = { requested: false };
  const ui = new ProgressLine();
  const onSigint = () => {
    if (stop.requested) {
      ui.log("second Ctrl-C: exiting without a checkpoint");
      Deno.exit(130);
    }
    stop.requested = true;
    ui.log("Ctrl-C: finishing the current step, then writing a checkpoint…");
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    await execute(cmd, stop, ui);
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      code = 2;
    } else if (e instanceof Interrupted) {
      console.error(e.message);
      code = 130;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(`error: ${msg.split("\n")[0]}`);
      if (Deno.env.get("MHC_DEBUG") && e instanceof Error) {
        console.error(e.stack);
      }
      code = 1;
    }
  }
  Deno.exit(code);
}
