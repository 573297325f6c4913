// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Headless Chromium with WebGPU, driven by puppeteer-core (pinned here, the
 * one place the project imports it). Without a GPU, Chromium's WebGPU runs
 * on SwiftShader, on the CPU: `--enable-unsafe-webgpu` is all it needs
 * (not `--disable-gpu`, which would take the GPU process and WebGPU away).
 * The other flags keep it from reaching the network or asking anything on a
 * fresh machine; each launch gets a fresh profile, removed on close.
 *
 * @module
 */

// The pin lives here, in the specifier, rather than in deno.json: the dev
// tasks also run with offline/import_map.json, which replaces deno.json's
// imports.
// deno-lint-ignore no-import-prefix
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@25.16.0";

export type { Browser, Page };

/** The flags every launch passes, besides puppeteer's own defaults. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--no-first-run",
  "--no-default-browser-check",
];

const CANDIDATES = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
];

/**
 * The Chromium to run: `CHROME_PATH` when set, else the first of
 * `chromium`, `chromium-browser`, `google-chrome` and `google-chrome-stable`
 * found on `PATH`.
 *
 * @returns Its path.
 * @throws {Error} When none is found, with what to install.
 */
export async function findChromium(): Promise<string> {
  const env = Deno.env.get("CHROME_PATH");
  if (env) {
    if (!(await isFile(env))) {
      throw new Error(`CHROME_PATH is set to "${env}", which is not a file`);
    }
    return env;
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of CANDIDATES) {
      const path = `${dir}/${name}`;
      if (dir && await isFile(path)) return path;
    }
  }
  throw new Error(
    `No Chromium found: none of ${CANDIDATES.join(", ")} is on PATH. ` +
      "Install one (Debian: apt-get install chromium) or set CHROME_PATH.",
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** A launched browser and how to close it. */
export interface Chromium {
  /** The puppeteer handle. */
  browser: Browser;
  /** The executable and flags it runs with, for the log. */
  command: string;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with {@linkcode CHROMIUM_FLAGS} and a fresh
 * `--user-data-dir`.
 *
 * @param options `executablePath` (default {@linkcode findChromium}),
 *   `extraFlags`.
 * @returns The browser.
 */
export async function launchChromium(
  options: { executablePath?: string; extraFlags?: string[] } = {},
): Promise<Chromium> {
  const executablePath = options.executablePath ?? await findChromium();
  const profile = await Deno.makeTempDir({ prefix: "mhc-chromium-" });
  const args = [
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${profile}`,
    ...(options.extraFlags ?? []),
  ];
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args,
    });
  } catch (e) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    browser,
    command: [executablePath, ...args].join(" "),
    async close() {
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
