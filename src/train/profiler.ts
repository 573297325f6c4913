// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Wall-clock time per named op, summed over calls: the per-op breakdown of a
 * training step that the report shows (and that guides which ops to move to
 * WebGPU first).
 *
 * @module
 */

/** Sums the time spent in each named op. */
export class Profiler {
  readonly #ms = new Map<string, number>();
  /** When false, {@linkcode add} records nothing (e.g. during evaluation). */
  enabled = true;

  /** @returns A start time for {@linkcode add}. */
  start(): number {
    return performance.now();
  }

  /**
   * Adds the time since `start` to the op `name`.
   *
   * @param name Op name.
   * @param start A time from {@linkcode start}.
   */
  add(name: string, start: number): void {
    if (!this.enabled) return;
    this.#ms.set(name, (this.#ms.get(name) ?? 0) + performance.now() - start);
  }

  /** @returns Milliseconds per op name since the last reset. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.#ms);
  }

  /** Forgets all times. */
  reset(): void {
    this.#ms.clear();
  }

  /**
   * Adds saved totals (from a checkpoint).
   *
   * @param totals Milliseconds per op name.
   */
  load(totals: Record<string, number>): void {
    for (const [k, v] of Object.entries(totals)) {
      if (typeof v === "number") this.#ms.set(k, (this.#ms.get(k) ?? 0) + v);
    }
  }
}
