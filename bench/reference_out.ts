// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The TypeScript reference's fused post, forward and backward, with a new
 * output array per call against a caller-supplied one (`out`, issue 11
 * point 6), at the size where the new array is 40 MiB: n = 4, C = 1280,
 * T = 2048, float32. The two ways alternate call by call in one run; after
 * one warm-up call of each, the median, minimum and maximum of `reps` calls
 * are printed, with every call's time.
 *
 *   deno run bench/reference_out.ts [--reps=10] [--T=2048] [--backward]
 *
 * @module
 */

import { mhcPost, mhcPostBackward } from "../mod.ts";

const arg = (name: string, def: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : def;
};
const n = 4, C = 1280, T = arg("T", 2048), reps = arg("reps", 10);
const backward = Deno.args.includes("--backward");
const wave = (length: number, f: number) =>
  new Float32Array(length).map((_, i) => Math.sin(i * f));
const x = wave(T * n * C, 0.37), y = wave(T * C, 0.11);
const hPost = wave(T * n, 0.7), hRes = wave(T * n * n, 0.3);
const g = wave(T * n * C, 0.23);
const shape = { n, C, T };
const out = new Float32Array(T * n * C);
const grads = {
  x: new Float32Array(T * n * C),
  y: new Float32Array(T * C),
  hPost: new Float32Array(T * n),
  hRes: new Float32Array(T * n * n),
};

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function summary(ms: number[]): string {
  const s = ms.slice().sort((a, b) => a - b);
  return `median ${s[s.length >> 1].toFixed(0)} ms, min ${
    s[0].toFixed(0)
  }, max ${s[s.length - 1].toFixed(0)} over ${s.length} calls [${
    ms.map((t) => t.toFixed(0)).join(" ")
  }]`;
}

const calls: [string, () => unknown][] = backward
  ? [
    ["post backward, new arrays    ", () =>
      mhcPostBackward(x, y, hPost, hRes, g, shape)],
    ["post backward, supplied out  ", () =>
      mhcPostBackward(x, y, hPost, hRes, g, { ...shape, out: grads })],
  ]
  : [
    ["post, new output array       ", () => mhcPost(x, y, hPost, hRes, shape)],
    [
      "post, supplied output (out)  ",
      () => mhcPost(x, y, hPost, hRes, { ...shape, out }),
    ],
  ];
for (const [, fn] of calls) fn(); // warm-up
const times = calls.map(() => [] as number[]);
for (let r = 0; r < reps; r++) {
  calls.forEach(([, fn], i) => times[i].push(time(fn)));
}
console.log(`n = ${n}, C = ${C}, T = ${T}, float32, ${reps} calls each:`);
calls.forEach(([name], i) => console.log(`${name}${summary(times[i])}`));
