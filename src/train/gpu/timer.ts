// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Per-op GPU time of a training step from timestamp queries. Before each op
 * the step encoder records a marker: an empty compute pass that writes a
 * timestamp at its start. The time between two markers is the GPU time of
 * the op between them (passes of one command buffer run in order). Markers
 * also work around passes that the library records itself, which take no
 * `timestampWrites` from the caller.
 *
 * Without the adapter's `timestamp-query` feature the timer is disabled and
 * records nothing. Portable: no Deno API.
 *
 * @module
 */

const QUERY_RESOLVE = 0x200, COPY_SRC = 0x04;

/** Marker timestamps of one step, named by the op that follows each. */
export class GpuTimer {
  /** False when the device cannot write timestamps. */
  readonly enabled: boolean;
  /** Most markers a step may record. */
  readonly capacity: number;
  readonly #querySet?: GPUQuerySet;
  readonly #resolve?: GPUBuffer;
  #names: string[] = [];
  #totals = new Map<string, number>();

  /**
   * @param device The device; timestamps need `timestamp-query`.
   * @param capacity Most markers per step.
   * @param enable False to disable even where timestamps exist.
   */
  constructor(device: GPUDevice, capacity: number, enable = true) {
    this.capacity = capacity;
    this.enabled = enable && device.features.has("timestamp-query");
    if (this.enabled) {
      this.#querySet = device.createQuerySet({
        label: "step timer",
        type: "timestamp",
        count: capacity,
      });
      this.#resolve = device.createBuffer({
        label: "step timer resolve",
        size: capacity * 8,
        usage: QUERY_RESOLVE | COPY_SRC,
      });
    }
  }

  /** Bytes {@linkcode finish} copies into a readback buffer. */
  get bytes(): number {
    return this.enabled ? this.capacity * 8 : 0;
  }

  /** Starts a new step: forgets the markers of the last one. */
  begin(): void {
    this.#names = [];
  }

  /**
   * Records a marker: the ops recorded after it, up to the next marker, are
   * timed as `name`.
   *
   * @param encoder The step's encoder.
   * @param name Op name.
   */
  mark(encoder: GPUCommandEncoder, name: string): void {
    if (!this.enabled) return;
    if (this.#names.length >= this.capacity - 1) {
      throw new RangeError(
        `step timer holds ${this.capacity} markers; the step records more`,
      );
    }
    encoder.beginComputePass({
      label: `t:${name}`,
      timestampWrites: {
        querySet: this.#querySet!,
        beginningOfPassWriteIndex: this.#names.length,
      },
    }).end();
    this.#names.push(name);
  }

  /**
   * Records the closing marker and copies the step's timestamps into
   * `dst` at `offset` (a multiple of 8).
   *
   * @param encoder The step's encoder.
   * @param dst A `COPY_DST` buffer (the readback slot).
   * @param offset Byte offset in `dst`.
   * @returns The op names of the intervals, for {@linkcode add}.
   */
  finish(encoder: GPUCommandEncoder, dst: GPUBuffer, offset: number): string[] {
    if (!this.enabled) return [];
    const names = this.#names;
    encoder.beginComputePass({
      label: "t:end",
      timestampWrites: {
        querySet: this.#querySet!,
        beginningOfPassWriteIndex: names.length,
      },
    }).end();
    const count = names.length + 1;
    encoder.resolveQuerySet(this.#querySet!, 0, count, this.#resolve!, 0);
    encoder.copyBufferToBuffer(this.#resolve!, 0, dst, offset, count * 8);
    this.#names = [];
    return names;
  }

  /**
   * Adds the intervals of a finished step to the totals.
   *
   * @param names What {@linkcode finish} returned for that step.
   * @param stamps Its timestamps in nanoseconds (`names.length + 1`).
   */
  add(names: string[], stamps: BigUint64Array): void {
    for (let i = 0; i < names.length; i++) {
      const ns = Number(stamps[i + 1] - stamps[i]);
      if (!(ns >= 0)) continue; // a counter that wrapped or reset
      this.#totals.set(
        names[i],
        (this.#totals.get(names[i]) ?? 0) + ns / 1e6,
      );
    }
  }

  /** @returns Milliseconds per op name, summed over the steps added. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.#totals);
  }

  /**
   * Adds saved totals.
   *
   * @param totals Milliseconds per op name.
   */
  load(totals: Record<string, number>): void {
    for (const [k, v] of Object.entries(totals)) {
      if (typeof v === "number") {
        this.#totals.set(k, (this.#totals.get(k) ?? 0) + v);
      }
    }
  }

  /** Frees the query set and its buffer. */
  destroy(): void {
    this.#querySet?.destroy();
    this.#resolve?.destroy();
  }
}
