// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Builds and serves the mHC playground (web/): the library bundle the page
 * imports as `@birkhoff/mhc` through its import map, the page's own module,
 * the trainer worker with the CPU trainer, and the WebGPU trainer the worker
 * loads when the browser has an adapter; then web/ and the bundles from
 * 127.0.0.1. Used by `deno task demo` and `deno task test:demo`.
 *
 * @module
 */

import { bundleForBrowser, LIBRARY, writeBundleImportMap } from "./bundle.ts";
import { serveStatic, type StaticServer } from "./serve.ts";

const ROOT = new URL("../../", import.meta.url);
const path = (rel: string) => new URL(rel, ROOT).pathname;

/** Options of {@linkcode buildPlayground}. */
export interface BuildOptions {
  /**
   * Leave the WebGPU trainer out (`gpu_trainer.js` is then a stub that
   * says so): the page trains on the CPU even where the browser has
   * WebGPU, and says why.
   */
  cpuOnly?: boolean;
}

/**
 * Bundles the playground into `dist` with `deno bundle --platform browser`:
 * `mhc.js` (the library), `playground.js` (web/main.ts, importing the
 * library by name), `worker.js` (web/worker.ts) and `gpu_trainer.js`
 * (web/gpu_trainer.ts).
 *
 * @param dist The output directory (it must exist).
 * @param options What to leave out.
 * @returns Resolves when every bundle is written; throws if one fails.
 */
export async function buildPlayground(
  dist: string,
  options: BuildOptions = {},
): Promise<void> {
  const importMap = await writeBundleImportMap(dist);
  await bundleForBrowser(path("mod.ts"), `${dist}/mhc.js`, { importMap });
  await bundleForBrowser(path("web/main.ts"), `${dist}/playground.js`, {
    importMap,
    external: [LIBRARY],
  });
  await bundleForBrowser(path("web/worker.ts"), `${dist}/worker.js`, {
    importMap,
  });
  if (options.cpuOnly) {
    await Deno.writeTextFile(
      `${dist}/gpu_trainer.js`,
      "export function createGpuFactory() {\n" +
        '  return Promise.reject(new Error("this build leaves the WebGPU ' +
        'trainer out (--cpu-only)"));\n}\n',
    );
  } else {
    await bundleForBrowser(
      path("web/gpu_trainer.ts"),
      `${dist}/gpu_trainer.js`,
      { importMap },
    );
  }
}

/**
 * Serves web/ at `/` and the bundles at `/dist/`.
 *
 * @param dist The directory {@linkcode buildPlayground} wrote.
 * @param port The port (0: a free one).
 * @returns The server.
 */
export function servePlayground(dist: string, port = 0): StaticServer {
  return serveStatic({ "/": path("web/"), "/dist/": dist }, { port });
}
