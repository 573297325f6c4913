// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The live progress line: redrawn in place on a terminal, printed as plain
 * lines (at most every few seconds) when stderr is a file or a pipe.
 *
 * @module
 */

const enc = new TextEncoder();

/** A status line on stderr, with log lines printed above it. */
export class ProgressLine {
  readonly #tty: boolean;
  readonly #quiet: boolean;
  #shown = false;
  #lastPlain = 0;

  /**
   * @param quiet Print nothing at all.
   */
  constructor(quiet = false) {
    this.#quiet = quiet;
    this.#tty = !quiet && Deno.stderr.isTerminal();
  }

  /**
   * Shows the current status.
   *
   * @param text One line.
   */
  update(text: string): void {
    if (this.#quiet) return;
    if (this.#tty) {
      const cols = consoleWidth();
      const line = text.length >= cols ? text.slice(0, cols - 1) : text;
      Deno.stderr.writeSync(enc.encode(`\r\x1b[2K${line}`));
      this.#shown = true;
      return;
    }
    const now = performance.now();
    if (now - this.#lastPlain >= 10_000) {
      this.#lastPlain = now;
      Deno.stderr.writeSync(enc.encode(text + "\n"));
    }
  }

  /**
   * Prints a line above the status line.
   *
   * @param text One or more lines.
   */
  log(text: string): void {
    if (this.#quiet) return;
    this.clear();
    Deno.stderr.writeSync(enc.encode(text + "\n"));
  }

  /** Removes the status line. */
  clear(): void {
    if (this.#tty && this.#shown) {
      Deno.stderr.writeSync(enc.encode("\r\x1b[2K"));
      this.#shown = false;
    }
  }
}

function consoleWidth(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 120;
  }
}

/**
 * @param seconds A duration.
 * @returns It as `1h02m`, `3m05s` or `42s`.
 */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${
      String(Math.floor((s % 3600) / 60)).padStart(2, "0")
    }m`;
  }
  if (s >= 60) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
  return `${s}s`;
}
