// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * What the browser conformance page reports to the runner
 * (tools/test_browser.ts), one event at a time, through the function the
 * runner exposes on the page as {@linkcode REPORT_FUNCTION}. Plain JSON
 * values, so that they cross the DevTools protocol unchanged.
 *
 * @module
 */

/** Name of the page global the runner exposes to receive events. */
export const REPORT_FUNCTION = "mhcReport";

/** The page has found (or not found) its WebGPU adapter. */
export interface StartEvent {
  type: "start";
  /** `navigator.userAgent`. */
  userAgent: string;
  /** Vendor / architecture / description of the adapter, or null. */
  adapter: string | null;
  /** Whether the adapter has `shader-f16`. */
  f16: boolean;
  /** Number of cases after the filter. */
  cases: number;
  /** The backends, in run order. */
  backends: string[];
}

/** A backend is skipped as a whole (only webgpu-f16 without shader-f16). */
export interface SkipEvent {
  type: "skip";
  backend: string;
  /** Why, in a sentence. */
  reason: string;
  /** How many cases this skips. */
  cases: number;
}

/** One case on one backend: passed, or failed with the message. */
export interface CaseEvent {
  type: "case";
  backend: string;
  /** The case name, as in the Deno suite. */
  name: string;
  ok: boolean;
  /** Wall time of the case in milliseconds. */
  ms: number;
  /** The failure: the output, the worst element and the error (or a GPU or WGSL error). */
  error?: string;
}

/** Every case has run. */
export interface DoneEvent {
  type: "done";
  passed: number;
  failed: number;
  skipped: number;
}

/** The page itself broke (an exception outside any case). */
export interface FatalEvent {
  type: "fatal";
  error: string;
}

/** Any event of the page. */
export type PageEvent =
  | StartEvent
  | SkipEvent
  | CaseEvent
  | DoneEvent
  | FatalEvent;
