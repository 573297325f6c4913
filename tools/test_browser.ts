// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * `deno task test:browser`: the conformance suite in headless Chromium.
 *
 * 1. Bundles the library (mod.ts → `mhc.js`) and the browser entry of the
 *    suite (tests/browser/conformance_page.ts → `conformance.js`, importing
 *    the library bundle through the page's import map) with
 *    `deno bundle --platform browser`, into a temporary directory.
 * 2. Serves tests/browser/ and the bundles from 127.0.0.1 on a free port.
 * 3. Opens the page in headless Chromium (tools/browser/chromium.ts), which
 *    runs every case of tests/conformance/cases.ts on every backend of
 *    tests/conformance/backends.ts on the browser's WebGPU, with the Deno
 *    suite's check and tolerances, and reports each result back.
 *
 * Exits non-zero on any failed case (a mismatch, a WGSL compile error, a
 * GPU validation error), any console error or uncaught exception of the
 * page, a page that stops reporting, or a run that checked nothing.
 *
 * Flags: `--filter=TEXT` runs the cases whose name contains TEXT;
 * `--backend=NAME` runs one backend; `--timeout=SECONDS` (default 1500)
 * bounds the whole page run; `--serve` only bundles and serves, and prints
 * the URL to open in a browser of your own.
 *
 * @module
 */

import {
  bundleForBrowser,
  LIBRARY,
  writeBundleImportMap,
} from "./browser/bundle.ts";
import { launchChromium } from "./browser/chromium.ts";
import { serveStatic } from "./browser/serve.ts";
import {
  type PageEvent,
  REPORT_FUNCTION,
  type StartEvent,
} from "../tests/browser/events.ts";

const ROOT = new URL("../", import.meta.url);
const path = (rel: string) => new URL(rel, ROOT).pathname;

function parseFlags(args: string[]) {
  const flags = { filter: "", backend: "", timeout: 1500, serve: false };
  for (const arg of args) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    if (key === "--serve" && value === undefined) flags.serve = true;
    else if (key === "--filter" && value !== undefined) flags.filter = value;
    else if (key === "--backend" && value !== undefined) flags.backend = value;
    else if (key === "--timeout" && value !== undefined && +value > 0) {
      flags.timeout = +value;
    } else {
      throw new RangeError(
        `Unknown or malformed flag "${arg}": use --filter=TEXT, ` +
          "--backend=NAME, --timeout=SECONDS or --serve",
      );
    }
  }
  return flags;
}

const flags = parseFlags(Deno.args);
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const dist = await Deno.makeTempDir({ prefix: "mhc-browser-" });
const cleanup: (() => Promise<void>)[] = [
  () => Deno.remove(dist, { recursive: true }),
];

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  console.error(`test:browser: ${e instanceof Error ? e.stack : e}`);
} finally {
  for (const f of cleanup.reverse()) await f().catch(() => {});
}
Deno.exit(exitCode);

async function main(): Promise<number> {
  console.error("== bundling for the browser (deno bundle --platform browser)");
  const importMap = await writeBundleImportMap(dist);
  await bundleForBrowser(path("mod.ts"), `${dist}/mhc.js`, { importMap });
  await bundleForBrowser(
    path("tests/browser/conformance_page.ts"),
    `${dist}/conformance.js`,
    { importMap, external: [LIBRARY] },
  );

  const server = serveStatic({ "/": path("tests/browser/"), "/dist/": dist });
  cleanup.push(() => server.close());
  const query = new URLSearchParams();
  if (flags.filter) query.set("filter", flags.filter);
  if (flags.backend) query.set("backend", flags.backend);
  const url = `${server.origin}/${query.size ? `?${query}` : ""}`;

  if (flags.serve) {
    console.error(`serving the conformance page at ${url} (Ctrl-C stops)`);
    await new Promise<void>((resolve) =>
      Deno.addSignalListener("SIGINT", () => resolve())
    );
    return 0;
  }

  const chromium = await launchChromium();
  cleanup.push(() => chromium.close());
  console.error(`== ${await chromium.browser.version()}: ${chromium.command}`);
  const page = await chromium.browser.newPage();

  const problems: string[] = [];
  const failures: string[] = [];
  let start: StartEvent | undefined;
  let finished!: (summary: string | null) => void;
  const done = new Promise<string | null>((r) => finished = r);

  page.on("console", (m) => {
    const line = `console.${m.type()}: ${m.text()}`;
    console.error(`  ${line}`);
    if (m.type() === "error") problems.push(line);
  });
  page.on("pageerror", (e) => {
    const line = `uncaught exception in the page: ${
      e instanceof Error ? e.stack ?? e.message : e
    }`;
    console.error(`  ${line}`);
    problems.push(line);
  });
  page.on("requestfailed", (r) => {
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("error", (e) => {
    problems.push(`the page crashed: ${e.message}`);
    finished(null);
  });
  chromium.browser.on("disconnected", () => finished(null));

  await page.exposeFunction(REPORT_FUNCTION, (e: PageEvent) => {
    switch (e.type) {
      case "start":
        start = e;
        console.error(
          `== ${e.userAgent}\n== adapter: ${e.adapter ?? "NONE"}, ` +
            `shader-f16: ${e.f16}; ${e.cases} cases on ${
              e.backends.join(", ")
            }`,
        );
        break;
      case "skip":
        console.error(`skip ${e.backend}: ${e.reason} (${e.cases} cases)`);
        break;
      case "case":
        console.error(
          `${e.ok ? "ok  " : "FAIL"} ${e.backend} ${e.name} (${
            e.ms.toFixed(0)
          } ms)`,
        );
        if (!e.ok) {
          console.error(`     ${e.error}`);
          failures.push(`${e.backend} ${e.name}\n     ${e.error}`);
        }
        break;
      case "done": {
        const expected = start ? start.cases * start.backends.length : NaN;
        const seen = e.passed + e.failed + e.skipped;
        if (seen !== expected) {
          problems.push(`${seen} results reported, ${expected} expected`);
        }
        if (e.passed === 0) problems.push("no case passed: nothing checked");
        finished(
          `${e.passed} passed, ${e.failed} failed, ${e.skipped} skipped`,
        );
        break;
      }
      case "fatal":
        problems.push(`the page failed: ${e.error}`);
        finished(null);
        break;
    }
  });

  const timer = setTimeout(() => {
    problems.push(`the page did not finish within ${flags.timeout} s`);
    finished(null);
  }, flags.timeout * 1000);
  console.error(`== opening ${url}`);
  await page.goto(url);
  const summary = await done;
  clearTimeout(timer);

  console.error(`\n== browser conformance (${elapsed()})`);
  for (const f of failures) console.error(`FAIL ${f}`);
  for (const p of problems) console.error(`ERROR ${p}`);
  console.error(summary ?? "the run did not complete");
  const ok = summary !== null && failures.length === 0 &&
    problems.length === 0;
  console.error(ok ? "browser conformance: ok" : "browser conformance: FAILED");
  return ok ? 0 : 1;
}
