// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Browser entry of the conformance suite: runs every case of
 * tests/conformance/cases.ts on every backend of
 * tests/conformance/backends.ts, with the same check as the Deno suite
 * (tests/conformance/check_case.ts), on the browser's WebGPU. Each result
 * goes to the runner through `globalThis.mhcReport` when the runner exposes
 * it (tools/test_browser.ts), and to the page's log in any case, so the
 * page also works opened by hand (`deno task test:browser --serve`).
 *
 * Query parameters: `filter` keeps the cases whose name contains it;
 * `backend` keeps one backend by name.
 *
 * @module
 */

import type { MhcBackend } from "@birkhoff/mhc";
import { BACKENDS } from "../conformance/backends.ts";
import { CASES } from "../conformance/cases.ts";
import { checkCase } from "../conformance/check_case.ts";
import { type PageEvent, REPORT_FUNCTION } from "./events.ts";

type Report = (event: PageEvent) => Promise<void>;

const log = document.getElementById("log");
const status = document.getElementById("status");

async function emit(event: PageEvent): Promise<void> {
  if (log) log.textContent += describe(event) + "\n";
  const report = (globalThis as Record<string, unknown>)[REPORT_FUNCTION] as
    | Report
    | undefined;
  if (report) await report(event);
}

function describe(e: PageEvent): string {
  switch (e.type) {
    case "start":
      return `adapter: ${e.adapter ?? "none"} (shader-f16: ${e.f16}); ` +
        `${e.cases} cases on ${e.backends.join(", ")}`;
    case "skip":
      return `skip ${e.backend}: ${e.reason} (${e.cases} cases)`;
    case "case":
      return `${e.ok ? "ok  " : "FAIL"} ${e.backend} ${e.name} (${
        e.ms.toFixed(0)
      } ms)${e.error ? `\n     ${e.error}` : ""}`;
    case "done":
      return `${e.passed} passed, ${e.failed} failed, ${e.skipped} skipped`;
    case "fatal":
      return `fatal: ${e.error}`;
  }
}

/** The message of an error, with its name and the chain of causes. */
function message(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const own = `${e.name}: ${e.message}`;
  return e.cause === undefined ? own : `${own} (cause: ${message(e.cause)})`;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const filter = params.get("filter") ?? "";
  const only = params.get("backend");
  const cases = CASES.filter((c) => c.name.includes(filter));
  const backends = BACKENDS.filter((b) => only === null || b.name === only);
  if (backends.length === 0) throw new RangeError(`No backend "${only}"`);

  const adapter = await navigator.gpu?.requestAdapter() ?? null;
  const info = adapter?.info;
  const f16 = adapter?.features.has("shader-f16") ?? false;
  await emit({
    type: "start",
    userAgent: navigator.userAgent,
    adapter: adapter
      ? [info?.vendor, info?.architecture, info?.description]
        .filter((s) => s).join(" / ")
      : null,
    f16,
    cases: cases.length,
    backends: backends.map((b) => b.name),
  });

  let passed = 0, failed = 0, skipped = 0;
  for (const spec of backends) {
    // The page requires WebGPU: only f16 streams may be missing, as an
    // optional feature of the adapter.
    if (spec.f16 && adapter && !f16) {
      skipped += cases.length;
      await emit({
        type: "skip",
        backend: spec.name,
        reason: "the adapter has no shader-f16",
        cases: cases.length,
      });
      continue;
    }
    let backend: MhcBackend | undefined, makeError: string | undefined;
    try {
      backend = await spec.make();
    } catch (e) {
      makeError = `the ${spec.name} backend could not be created: ${
        message(e)
      }`;
    }
    for (const c of cases) {
      const t0 = performance.now();
      let error = makeError;
      if (backend) {
        try {
          await checkCase(c, backend, spec.name, spec.precision);
        } catch (e) {
          error = message(e);
        }
      }
      if (error === undefined) passed++;
      else failed++;
      await emit({
        type: "case",
        backend: spec.name,
        name: c.name,
        ok: error === undefined,
        ms: performance.now() - t0,
        ...(error === undefined ? {} : { error }),
      });
    }
    backend?.destroy();
  }
  await emit({ type: "done", passed, failed, skipped });
  if (status) {
    status.textContent =
      `${passed} passed, ${failed} failed, ${skipped} skipped`;
  }
}

main().catch(async (e) => {
  console.error(e);
  if (status) status.textContent = "the page failed: see the log";
  await emit({ type: "fatal", error: message(e) });
});
