// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Registers the `deno bench` suite of one kernel family: one group per op
 * and width, the TypeScript reference as the baseline, so that Deno prints
 * the WGSL kernels (and the unfused path) next to it. Every bench in a
 * group does the same work per iteration: `reps` calls on the same number
 * of tokens (on the GPU all `reps` in one submit, errors checked).
 *
 * `deno bench` times wall clock per iteration; `deno task bench:report`
 * gives the per-call GPU times, bandwidths and ratios.
 *
 * @module
 */

import { benchEnv, benchSizes, N, SMOKE, WIDTHS } from "./_env.ts";
import { benchCases, type Family, type Instance } from "./_cases.ts";
import { runBatch } from "./_timing.ts";

/**
 * Registers the benches of `family`.
 *
 * @param family The kernel family.
 * @returns When every bench is registered.
 */
export async function registerFamily(family: Family): Promise<void> {
  const env = await benchEnv();
  const sizes = benchSizes(env.adapter);
  const reps = sizes.denoBenchReps;
  const share = (T: number) =>
    Math.max(1, Math.round(T * sizes.denoBenchShare));
  let live: Instance | undefined;
  for (const c of benchCases(env, family, WIDTHS)) {
    const T = share(c.C ? sizes.tokens(c.C) : sizes.sinkhornTokens);
    const shape = c.C ? `n=${N} C=${c.C} T=${T}` : `n=${N} T=${T}`;
    const reference = c.backend === "reference";
    let inst: Instance | undefined;
    Deno.bench({
      name: `${c.op} · ${c.backend} · ${reps} call${reps > 1 ? "s" : ""}`,
      group: `${c.op} ${shape}`,
      baseline: reference,
      // The reference is slow at these sizes: fewer iterations.
      n: SMOKE ? 1 : reference ? 3 : 10,
      warmup: SMOKE ? 0 : 1,
      async fn(b) {
        if (!inst) {
          // Benches run one after another: free the previous case first.
          live?.dispose();
          live = inst = await c.setup(env, T);
        }
        const { run, record } = inst;
        b.start();
        if (run) {
          for (let r = 0; r < reps; r++) run();
        } else {
          await runBatch(env, `${c.op} ${c.backend}`, record!, reps);
        }
        b.end();
      },
    });
  }
}
