// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Reading a training text file (the Deno side of the data: `data.ts` stays
 * portable).
 *
 * @module
 */

import { type Dataset, textDataset } from "./data.ts";
import { UsageError } from "./errors.ts";

/**
 * Reads a data file and splits it (see {@linkcode textDataset}).
 *
 * @param path File path.
 * @param context Window length.
 * @returns The dataset.
 * @throws {UsageError} When the file is missing, unreadable, empty, not UTF-8 or too short.
 */
export async function fileDataset(
  path: string,
  context: number,
): Promise<Dataset> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "does not exist"
      : e instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : `cannot be read (${e instanceof Error ? e.message : String(e)})`;
    throw new UsageError(`data file ${path} ${why}`);
  }
  return textDataset(bytes, context, path);
}
