// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The synthetic corpus: deterministic, prefix-free, and with an entropy rate
// that is computed exactly and confirmed by the source's own best predictor.

import { describe, it } from "@std/testing/bdd";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertLess,
  assertNotEquals,
} from "@std/assert";
import {
  generateText,
  makeWordSource,
  sourceEntropy,
} from "../src/train/corpus.ts";
import { textDataset } from "../src/train/data.ts";
import { UsageError } from "../src/train/errors.ts";

describe("the synthetic word source", () => {
  const src = makeWordSource(1);
  const N = src.tokens.length;

  it("has a stationary distribution that the chain leaves unchanged", () => {
    let sum = 0;
    for (let j = 0; j < N; j++) {
      let next = 0;
      for (let i = 0; i < N; i++) {
        next += src.stationary[i] * src.transitions[i * N + j];
      }
      assertAlmostEquals(next, src.stationary[j], 1e-12);
      assert(src.stationary[j] > 0);
      sum += src.stationary[j];
    }
    assertAlmostEquals(sum, 1, 1e-12);
  });

  it("uses a prefix-free set of token strings", () => {
    for (const a of src.tokens) {
      for (const b of src.tokens) {
        if (a !== b) assert(!b.startsWith(a), `${a} is a prefix of ${b}`);
      }
    }
  });

  it("computes the same entropy rate per byte and per token over mean length", () => {
    const h = sourceEntropy(src);
    assertAlmostEquals(h.perByte, h.perToken / h.meanTokenBytes, 1e-12);
    assert(h.perByte > 0.05 && h.perByte < 2);
  });

  it("has an entropy rate that its own optimal predictor reaches on generated text", () => {
    // Independent of sourceEntropy: parse the text back into tokens and
    // score every byte with p(byte | previous token, bytes of this token).
    const h = sourceEntropy(src).perByte;
    const text = new TextDecoder().decode(generateText(src, 150_000, 9));
    const index = new Map(src.tokens.map((t, i) => [t, i]));
    let pos = 0, prev = -1, total = 0, count = 0;
    while (pos < text.length) {
      const j = src.tokens.findIndex((t) => text.startsWith(t, pos));
      if (j < 0) break; // the cut-off last token
      const tok = src.tokens[j];
      if (prev >= 0) {
        for (let k = 0; k < tok.length; k++) {
          let num = 0, den = 0;
          for (let c = 0; c < N; c++) {
            const p = src.transitions[prev * N + c];
            const t = src.tokens[c];
            if (p === 0 || !t.startsWith(tok.slice(0, k))) continue;
            den += p;
            if (t[k] === tok[k]) num += p;
          }
          total -= Math.log(num / den);
          count++;
        }
      }
      prev = index.get(tok)!;
      pos += tok.length;
    }
    assert(count > 100_000);
    // Standard error of a mean over ~1.5e5 weakly dependent bytes is ~0.003.
    assertAlmostEquals(total / count, h, 0.015);
  });

  it("generates the same text from the same seed and different text from another", () => {
    const a = generateText(src, 2000, 5), b = generateText(src, 2000, 5);
    assertEquals(a, b);
    assertNotEquals(a, generateText(src, 2000, 6));
    assertNotEquals(makeWordSource(2).tokens, src.tokens);
  });
});

describe("a user's text file", () => {
  it("is split into training bytes and a last tenth for validation", () => {
    const bytes = new TextEncoder().encode("abcdefghij".repeat(100));
    const d = textDataset(bytes, 16, "f");
    assertEquals(d.val.length, 100);
    assertEquals(d.train.length, 900);
    assertEquals(d.entropy, undefined);
  });

  it("must hold a training and a validation window", () => {
    const bytes = new TextEncoder().encode("x".repeat(33));
    let err: unknown;
    try {
      textDataset(bytes, 16, "f");
    } catch (e) {
      err = e;
    }
    assert(err instanceof UsageError);
    assertLess(err.message.split("\n").length, 2);
  });
});
