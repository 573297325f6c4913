// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The default training data: a deterministic synthetic text source whose
 * entropy rate is known exactly, so that a report can draw the best loss a
 * model could reach.
 *
 * The source is a first-order Markov chain over a small vocabulary of
 * pseudo-words. Each token is a body of lowercase letters followed by one of
 * the terminators `" "`, `", "` or `".\n"`, so the set of token strings is
 * prefix-free and the byte stream can be parsed back into tokens as it is
 * read. Seen byte by byte, the source is a unifilar finite-state source: its
 * state is (previous token, bytes of the current token so far), and each
 * emitted byte determines the next state. Hence
 *
 * ```
 * entropy rate h = Σ_s π(s) · H(next byte | s)      (nats per byte)
 *                = H(token | previous token) / E[token length]
 * ```
 *
 * with `π` the stationary distribution, computed by solving a linear system.
 * A model that sees a window of `T` bytes cannot know the state at the start
 * of the window, so its best mean loss over the window lies in
 * `[h, h + H(S)/T]`, with `H(S)` the entropy of the stationary state.
 *
 * @module
 */

import { Rng } from "./rng.ts";

/** A Markov chain over prefix-free token strings. */
export interface WordSource {
  /** Token strings (body + terminator), prefix-free. */
  tokens: string[];
  /** Transition probabilities `[N, N]`, row `i` = distribution after token `i`. */
  transitions: Float64Array;
  /** Stationary distribution of the chain, `[N]`. */
  stationary: Float64Array;
}

/** Exact entropy figures of a {@linkcode WordSource}, in nats. */
export interface SourceEntropy {
  /** Entropy rate per byte, `Σ_s π(s) H(next byte | s)`. */
  perByte: number;
  /** Entropy rate per token, `Σ_i π_i H(P_i)`. */
  perToken: number;
  /** Mean bytes per token under the stationary distribution. */
  meanTokenBytes: number;
  /** Entropy `H(S)` of the byte-level state at a random position. */
  stateEntropy: number;
}

const CONSONANTS = "bdfgklmnprstvz";
const VOWELS = "aeiou";

/** Sizes of the default source. */
const BODIES = 40, COMMA_TOKENS = 8, PERIOD_TOKENS = 10;

/**
 * Builds the default source from a seed: pseudo-word tokens and a sparse
 * random transition matrix that is irreducible and aperiodic (every token can
 * be followed by the next and the one after in a fixed cycle).
 *
 * @param seed Integer seed.
 * @returns The source, with its stationary distribution.
 */
export function makeWordSource(seed: number): WordSource {
  const rng = new Rng(seed, 101);
  const bodies = new Set<string>();
  while (bodies.size < BODIES) {
    const syllables = 1 + rng.int(3);
    let w = "";
    for (let s = 0; s < syllables; s++) {
      w += CONSONANTS[rng.int(CONSONANTS.length)] + VOWELS[rng.int(5)];
      if (rng.uniform() < 0.2) w += "nrs"[rng.int(3)];
    }
    bodies.add(w);
  }
  const list = [...bodies];
  const tokens = list.map((b) => b + " ");
  for (let i = 0; i < COMMA_TOKENS; i++) tokens.push(list[i * 3] + ", ");
  for (let i = 0; i < PERIOD_TOKENS; i++) tokens.push(list[i * 4 + 1] + ".\n");
  const N = tokens.length;
  const transitions = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    const next = new Set([(i + 1) % N, (i + 2) % N]);
    const extra = 2 + rng.int(5);
    while (next.size < 2 + extra) next.add(rng.int(N));
    let sum = 0;
    for (const j of next) {
      const w = -Math.log(1 - rng.uniform()); // exponential weights
      transitions[i * N + j] = w;
      sum += w;
    }
    for (const j of next) transitions[i * N + j] /= sum;
  }
  return { tokens, transitions, stationary: stationaryOf(transitions, N) };
}

/**
 * Solves `π P = π`, `Σ π = 1` by Gaussian elimination with partial pivoting.
 *
 * @param P Row-stochastic `[N, N]` matrix of an irreducible chain.
 * @param N Number of states.
 * @returns The stationary distribution.
 */
export function stationaryOf(P: Float64Array, N: number): Float64Array {
  // Rows 0..N-2 of (Pᵀ − I) π = 0, last row Σ π = 1.
  const A = new Float64Array(N * (N + 1));
  for (let r = 0; r < N - 1; r++) {
    for (let c = 0; c < N; c++) A[r * (N + 1) + c] = P[c * N + r];
    A[r * (N + 1) + r] -= 1;
  }
  for (let c = 0; c < N; c++) A[(N - 1) * (N + 1) + c] = 1;
  A[(N - 1) * (N + 1) + N] = 1;
  for (let col = 0; col < N; col++) {
    let piv = col;
    for (let r = col + 1; r < N; r++) {
      if (Math.abs(A[r * (N + 1) + col]) > Math.abs(A[piv * (N + 1) + col])) {
        piv = r;
      }
    }
    if (piv !== col) {
      for (let c = 0; c <= N; c++) {
        const t = A[col * (N + 1) + c];
        A[col * (N + 1) + c] = A[piv * (N + 1) + c];
        A[piv * (N + 1) + c] = t;
      }
    }
    const d = A[col * (N + 1) + col];
    for (let r = 0; r < N; r++) {
      if (r === col) continue;
      const f = A[r * (N + 1) + col] / d;
      if (f === 0) continue;
      for (let c = col; c <= N; c++) {
        A[r * (N + 1) + c] -= f * A[col * (N + 1) + c];
      }
    }
  }
  const pi = new Float64Array(N);
  for (let i = 0; i < N; i++) pi[i] = A[i * (N + 1) + N] / A[i * (N + 1) + i];
  return pi;
}

const plogp = (p: number): number => (p > 0 ? -p * Math.log(p) : 0);

/**
 * Computes the exact entropy rate of a source, per byte and per token, and
 * the entropy of its byte-level state (see the module doc).
 *
 * @param src The source.
 * @returns Entropies in nats.
 */
export function sourceEntropy(src: WordSource): SourceEntropy {
  const { tokens, transitions: P, stationary: pi } = src;
  const N = tokens.length;
  let perToken = 0, meanTokenBytes = 0;
  for (let i = 0; i < N; i++) {
    let h = 0;
    for (let j = 0; j < N; j++) h += plogp(P[i * N + j]);
    perToken += pi[i] * h;
    meanTokenBytes += pi[i] * tokens[i].length;
  }
  // Byte-level states (previous token i, prefix p of the current token).
  let perByte = 0, stateEntropy = 0;
  for (let i = 0; i < N; i++) {
    // For each prefix: total mass, and mass per next byte.
    const mass = new Map<string, number>();
    const next = new Map<string, Map<string, number>>();
    for (let j = 0; j < N; j++) {
      const p = P[i * N + j];
      if (p === 0) continue;
      const tok = tokens[j];
      for (let k = 0; k < tok.length; k++) {
        const prefix = tok.slice(0, k);
        mass.set(prefix, (mass.get(prefix) ?? 0) + p);
        let m = next.get(prefix);
        if (!m) next.set(prefix, m = new Map());
        m.set(tok[k], (m.get(tok[k]) ?? 0) + p);
      }
    }
    for (const [prefix, m] of mass) {
      const ps = (pi[i] * m) / meanTokenBytes; // π(state)
      stateEntropy += plogp(ps);
      let h = 0;
      for (const q of next.get(prefix)!.values()) h += plogp(q / m);
      perByte += ps * h;
    }
  }
  return { perByte, perToken, meanTokenBytes, stateEntropy };
}

/**
 * Generates `length` bytes of text from a source, starting from a token drawn
 * from the stationary distribution.
 *
 * @param src The source.
 * @param length Number of bytes.
 * @param seed Integer seed of the sampling.
 * @returns ASCII bytes.
 */
export function generateText(
  src: WordSource,
  length: number,
  seed: number,
): Uint8Array {
  const rng = new Rng(seed, 202);
  const N = src.tokens.length;
  const bytes = src.tokens.map((t) => new TextEncoder().encode(t));
  const out = new Uint8Array(length);
  let tok = rng.categorical(src.stationary);
  let pos = 0;
  while (pos < length) {
    tok = rng.categorical(src.transitions, tok * N, N);
    const b = bytes[tok];
    out.set(b.subarray(0, Math.min(b.length, length - pos)), pos);
    pos += b.length;
  }
  return out;
}
