// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// `deno bench` suite of the bandwidth yardsticks (SPEC §9): a TypeScript
// Float32Array.set copy (baseline), the adapter's copyBufferToBuffer and a
// WGSL copy kernel, each copying one [T, n, C] f32 buffer (C = 1280).

import "./_permissions.ts";
import { benchEnv, benchSizes, N, SMOKE } from "./_env.ts";
import { type CopyWork, gpuCopy, shaderCopy, tsCopy } from "./_copy.ts";
import { runBatch } from "./_timing.ts";

const env = await benchEnv();
const sizes = benchSizes(env.adapter);
const bytes = sizes.tokens(1280) * N * 1280 * 4;
const reps = sizes.denoBenchReps;
const group = `copy ${(bytes / 2 ** 20).toFixed(1)} MiB`;
const calls = `${reps} call${reps > 1 ? "s" : ""}`;
const n = SMOKE ? 1 : 10, warmup = SMOKE ? 0 : 1;

let ts: ReturnType<typeof tsCopy> | undefined;
Deno.bench({
  name: `Float32Array.set · ${calls}`,
  group,
  baseline: true,
  n,
  warmup,
  fn(b) {
    ts ??= tsCopy(bytes);
    b.start();
    for (let r = 0; r < reps; r++) ts.run();
    b.end();
  },
});

let live: CopyWork | undefined;
for (
  const [name, make] of [
    ["copyBufferToBuffer", () => gpuCopy(env, bytes)],
    ["WGSL copy kernel", () => shaderCopy(env, bytes)],
  ] as const
) {
  let work: CopyWork | undefined;
  Deno.bench({
    name: `${name} · ${calls}`,
    group,
    n,
    warmup,
    async fn(b) {
      if (!work) {
        ts = undefined;
        live?.dispose();
        live = work = await make();
      }
      b.start();
      await runBatch(env, name, work.record, reps);
      b.end();
    },
  });
}
