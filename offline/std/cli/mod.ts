// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Offline stand-in for `jsr:@std/cli@^1`, used only when jsr.io cannot be
 * reached. It re-exports the part of the real package that this project
 * uses: {@linkcode parseArgs}. The library never imports it.
 *
 * @module
 */

export { type Args, parseArgs, type ParseOptions } from "./parse_args.ts";
