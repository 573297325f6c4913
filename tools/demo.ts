// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task demo`: builds the mHC playground (web/) for the browser and
 * serves it on http://127.0.0.1:8765/ until Ctrl-C.
 *
 * Flags: `--port=N` (0: any free port); `--cpu-only` leaves the WebGPU
 * trainer out of the build.
 *
 * @module
 */

import { buildPlayground, servePlayground } from "./browser/playground.ts";

/** The port the README tells people to open. */
const DEFAULT_PORT = 8765;

function parseFlags(args: string[]) {
  const flags = { port: DEFAULT_PORT, cpuOnly: false };
  for (const arg of args) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    if (key === "--cpu-only" && value === undefined) flags.cpuOnly = true;
    else if (
      key === "--port" && value !== undefined && /^\d+$/.test(value) &&
      +value < 65536
    ) {
      flags.port = +value;
    } else {
      throw new RangeError(
        `Unknown or malformed flag "${arg}": use --port=N or --cpu-only`,
      );
    }
  }
  return flags;
}

const flags = parseFlags(Deno.args);
const dist = await Deno.makeTempDir({ prefix: "mhc-playground-" });
try {
  console.error("== bundling the playground (deno bundle --platform browser)");
  await buildPlayground(dist, { cpuOnly: flags.cpuOnly });
  const server = servePlayground(dist, flags.port);
  console.error(
    `== the mHC playground is at ${server.origin}/ (Ctrl-C stops)\n` +
      "   WebGPU needs a secure context: open it as 127.0.0.1 or localhost.",
  );
  await new Promise<void>((resolve) =>
    Deno.addSignalListener("SIGINT", () => resolve())
  );
  await server.close();
} finally {
  await Deno.remove(dist, { recursive: true }).catch(() => {});
}
