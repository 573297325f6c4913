// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * A small deterministic random number generator (xoshiro128**) whose whole
 * state is four 32-bit integers, so that a checkpoint can save and restore it
 * exactly.
 *
 * @module
 */

/** The saved state of an {@linkcode Rng}: four unsigned 32-bit integers. */
export type RngState = [number, number, number, number];

/** Mixes a 32-bit seed (splitmix32) into one well-spread state word. */
function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** generator with an exportable state. */
export class Rng {
  #s: Uint32Array = new Uint32Array(4);

  /**
   * Seeds the generator from an integer seed and an optional stream number,
   * so that one seed gives several independent streams.
   *
   * @param seed Any integer.
   * @param stream A stream number (0 by default).
   */
  constructor(seed: number, stream = 0) {
    let x = (seed >>> 0) ^ Math.imul(stream + 1, 0x2545f491);
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x + i);
      this.#s[i] = x;
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** @returns The next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** @returns A uniform number in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * @param n The number of outcomes, a positive integer below 2^32.
   * @returns A uniform integer in [0, n).
   */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** @returns A standard normal sample (Box-Muller, no cached spare). */
  normal(): number {
    const u1 = 1 - this.uniform(); // in (0, 1]
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Draws an index from a discrete distribution.
   *
   * @param probs Probabilities (summing to 1).
   * @param offset Where the distribution starts in `probs`.
   * @param length How many entries it has.
   * @returns An index in [0, length).
   */
  categorical(probs: ArrayLike<number>, offset = 0, length?: number): number {
    const len = length ?? probs.length - offset;
    let u = this.uniform();
    for (let i = 0; i < len - 1; i++) {
      u -= probs[offset + i];
      if (u < 0) return i;
    }
    return len - 1;
  }

  /** @returns A copy of the state, for a checkpoint. */
  getState(): RngState {
    return [this.#s[0], this.#s[1], this.#s[2], this.#s[3]];
  }

  /**
   * Restores a state saved by {@linkcode getState}.
   *
   * @param state Four unsigned 32-bit integers, not all zero.
   */
  setState(state: readonly number[]): void {
    if (
      state.length !== 4 ||
      !state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32) ||
      state.every((v) => v === 0)
    ) {
      throw new RangeError(
        "RNG state must be four unsigned 32-bit integers, not all zero",
      );
    }
    this.#s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
