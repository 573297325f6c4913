// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The error type of the training CLI: a mistake of the user (a bad flag, a
 * missing data file, a corrupt checkpoint) that the CLI prints as one line,
 * without a stack trace, before exiting with a non-zero code.
 *
 * @module
 */

/** An error caused by the user's input, shown as one line. */
export class UsageError extends Error {
  /** @param message One sentence-case line saying what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
