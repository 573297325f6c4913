// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Chooses where `@std/*` comes from for the dev tasks: the real packages on
 * JSR (as mapped in deno.json) when jsr.io answers, or the offline stand-ins
 * in `offline/` when it does not. `MHC_STD=jsr` or `MHC_STD=offline` forces a
 * choice. The library itself never imports `@std`. {@linkcode runDeno} runs
 * the `deno` child, passes signals on to it and waits for it.
 *
 * @module
 */

/** Path of the offline import map, relative to the repository root. */
export const OFFLINE_IMPORT_MAP: string =
  new URL("../offline/import_map.json", import.meta.url)
    .pathname;

/** Returns true when jsr.io answers within `timeoutMs`. */
export async function jsrReachable(timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch("https://jsr.io/@std/assert/meta.json", {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Returns the extra flags for a `deno` subcommand: `[]` to use JSR, or
 * `["--import-map=…"]` for the offline stand-ins. Prints one line saying which.
 */
export async function stdFlags(): Promise<string[]> {
  const forced = Deno.env.get("MHC_STD");
  if (forced !== undefined && forced !== "jsr" && forced !== "offline") {
    throw new RangeError(`MHC_STD must be "jsr" or "offline", got "${forced}"`);
  }
  const online = forced ? forced === "jsr" : await jsrReachable();
  if (online) {
    console.error("@std: using the real packages from JSR");
    return [];
  }
  console.error(
    `@std: jsr.io unreachable${
      forced ? " (MHC_STD=offline)" : ""
    }; using the offline stand-ins in offline/`,
  );
  return [`--import-map=${OFFLINE_IMPORT_MAP}`];
}

/**
 * Environment additions for the `deno` child. On Linux, Deno's WebGPU goes
 * through the Vulkan loader, whose window-system probing (libwayland) prints
 * `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` when
 * that variable is unset, as in a bare SSH, container or CI shell. It is
 * harmless (no window system is needed for compute), but it reads like a
 * failure, so when the variable is unset the child gets a private, empty
 * directory of its own: `$TMPDIR/mhc-xdg-<uid>` (mode 0700).
 */
export function childEnv(): Record<string, string> {
  if (Deno.build.os !== "linux" || Deno.env.get("XDG_RUNTIME_DIR")) return {};
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/mhc-xdg-${Deno.uid()}`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
  } catch {
    return {}; // Not ours or not writable: keep the warning, not an error.
  }
  return { XDG_RUNTIME_DIR: dir };
}

/** Signals a dev task passes on to its `deno` child (Unix). */
const FORWARDED: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Runs `deno <args>` with inherited stdio and returns its exit code once the
 * child has exited.
 *
 * Signals. A terminal's Ctrl-C reaches every process of the foreground
 * group, and a plain `kill` only the process it names. So that the child
 * sees each signal exactly once either way (the trainer treats a second
 * Ctrl-C as "exit without a checkpoint"), on Unix the child runs in its own
 * session, and SIGINT, SIGTERM and SIGHUP sent to this process are passed
 * on to it; this process never exits before its child, so a prompt comes
 * back only when the child's work (a checkpoint, say) is done. On Windows,
 * where Ctrl-C reaches every process of the console, Ctrl-C is only kept
 * from ending this process early. The child's environment gets
 * {@linkcode childEnv}.
 */
export async function runDeno(args: string[]): Promise<number> {
  const unix = Deno.build.os !== "windows";
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    env: childEnv(),
    detached: unix,
  }).spawn();
  const listeners = (unix ? FORWARDED : ["SIGINT" as const]).map((
    signal,
  ) => {
    const pass = () => {
      if (!unix) return;
      try {
        child.kill(signal);
      } catch {
        // The child has exited already.
      }
    };
    Deno.addSignalListener(signal, pass);
    return () => Deno.removeSignalListener(signal, pass);
  });
  try {
    const { code } = await child.status;
    return code;
  } finally {
    for (const remove of listeners) remove();
  }
}
