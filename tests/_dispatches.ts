// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: records what `MhcGpu.encodeTokens` really dispatched, so that
 * a test can assert that a launch was cut into chunks and laid out on a 2D
 * grid, instead of trusting that the result alone proves it.
 *
 * It wraps `encodeTokens` of one runtime and hands it an encoder whose
 * compute passes log every `dispatchWorkgroups(x, y)` before forwarding it.
 * Nothing is recomputed: the grids are the ones sent to the device.
 *
 * @module
 */

import type { MhcGpu, TokenDispatch } from "@birkhoff/mhc";

/** One `encodeTokens` call: its label, `T` and the grids it dispatched. */
export interface DispatchRecord {
  /** The launch's label, e.g. `"mhcPostBackward"`. */
  label: string;
  /** Tokens of the launch. */
  T: number;
  /** `[x, y]` of every `dispatchWorkgroups`, one per non-empty chunk. */
  grids: [number, number][];
}

/** A live recording; see {@linkcode recordDispatches}. */
export interface DispatchLog {
  /** Every launch since the last `clear()`, in order. */
  readonly records: DispatchRecord[];
  /** Forgets the records so far. */
  clear(): void;
  /** Restores the runtime's own `encodeTokens`. */
  stop(): void;
}

/**
 * Starts recording the token-indexed launches of `gpu`.
 *
 * @param gpu The runtime to watch.
 * @returns The log.
 */
export function recordDispatches(gpu: MhcGpu): DispatchLog {
  const records: DispatchRecord[] = [];
  const own = gpu.encodeTokens;
  gpu.encodeTokens = function (
    this: MhcGpu,
    encoder: GPUCommandEncoder,
    d: TokenDispatch,
  ): void {
    const record: DispatchRecord = { label: d.label, T: d.T, grids: [] };
    records.push(record);
    const spy = {
      beginComputePass(descriptor?: GPUComputePassDescriptor) {
        const pass = encoder.beginComputePass(descriptor);
        const dispatch = pass.dispatchWorkgroups.bind(pass);
        pass.dispatchWorkgroups = (x: number, y = 1, z = 1) => {
          record.grids.push([x, y]);
          dispatch(x, y, z);
        };
        return pass;
      },
    } as unknown as GPUCommandEncoder;
    own.call(this, spy, d);
  };
  return {
    records,
    clear: () => void records.splice(0),
    stop: () => {
      gpu.encodeTokens = own;
    },
  };
}

/** What one launch must have done on a runtime with tightened limits. */
export interface SplitExpectation {
  /** The launch's label. */
  label: string;
  /** True when at least one of its chunks must use a 2D grid (`y > 1`). */
  grid2d: boolean;
}

/**
 * Throws unless every expected launch was recorded, and each time ran in two
 * chunks or more (and, where asked, on a 2D grid).
 *
 * @param records What was recorded.
 * @param expected The launches to check.
 * @param what Names the case in messages.
 */
export function assertSplit(
  records: readonly DispatchRecord[],
  expected: readonly SplitExpectation[],
  what: string,
): void {
  for (const { label, grid2d } of expected) {
    const runs = records.filter((r) => r.label === label);
    if (runs.length === 0) {
      throw new Error(
        `${what}: no launch labelled "${label}" (got ${
          [...new Set(records.map((r) => r.label))].join(", ") || "none"
        })`,
      );
    }
    for (const r of runs) {
      const plan = r.grids.map(([x, y]) => `${x}×${y}`).join(", ");
      if (r.grids.length < 2) {
        throw new Error(
          `${what}: "${label}" (T = ${r.T}) ran in ${r.grids.length} chunk(s), expected 2 or more: ${plan}`,
        );
      }
      if (grid2d && !r.grids.some(([, y]) => y > 1)) {
        throw new Error(
          `${what}: "${label}" (T = ${r.T}) used no 2D grid: ${plan}`,
        );
      }
    }
  }
}
