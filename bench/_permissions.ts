// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Imported first by every `*_bench.ts`: the benches read their WGSL files
 * (bench/kernels/) and the `MHC_BENCH_*` settings, and `deno bench` grants
 * nothing unless asked. Without those permissions this says how to run them,
 * instead of failing on the first file read.
 *
 * @module
 */

const missing = (["read", "env"] as const).filter((name) =>
  Deno.permissions.querySync({ name }).state !== "granted"
);
if (missing.length) {
  throw new Error(
    `the benches need ${
      missing.map((m) => `--allow-${m}`).join(" and ")
    }: run \`deno task bench\`, or \`deno bench -A\``,
  );
}
