// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * First measurement of the fused post kernel against the copy bandwidth of
 * the same adapter, in the same run (SPEC §9).
 *
 *   deno run -A bench/post_first_measure.ts [--T=2048] [--reps=7] [--batch=10]
 *
 * Post bytes per token: reads (n+1)·C + n² + n elements and writes n·C
 * elements, of 4 bytes for f32 (f16 line: stream elements 2 bytes,
 * coefficients 4). Copy bytes: read + write of the copied buffer. Each rep
 * records `batch` dispatches (or copies) into one submit and waits for it;
 * after a warm-up rep, the median of `reps` reps is reported. Everything
 * runs inside validation and out-of-memory error scopes.
 *
 * @module
 */

import { encodeMhcPost, MhcGpu, type StreamPrecision } from "../mod.ts";

const arg = (name: string, def: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : def;
};
const n = 4, C = 1280;
const T = arg("T", 2048), reps = arg("reps", 7), batch = arg("batch", 10);

const gpu = await MhcGpu.create();
const { device } = gpu;
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;
const buffer = (bytes: number, fill?: (i: number) => number) => {
  const b = device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage });
  if (fill) {
    device.queue.writeBuffer(
      b,
      0,
      new Float32Array(b.size / 4).map((_, i) => fill(i)),
    );
  }
  return b;
};

async function time(record: (enc: GPUCommandEncoder) => Promise<void> | void) {
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < batch; i++) await record(enc);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (r > 0) times.push((performance.now() - t0) / 1000 / batch); // r = 0 warms up
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

device.pushErrorScope("out-of-memory");
device.pushErrorScope("validation");

const rows: string[] = [];
const report = (what: string, bytes: number, seconds: number) => {
  const gbs = bytes / seconds / 1e9;
  rows.push(
    `| ${what} | ${(bytes / 1e6).toFixed(1)} MB | ${
      (seconds * 1e3).toFixed(2)
    } ms | ${gbs.toFixed(2)} GB/s |`,
  );
  return gbs;
};

const results: Record<string, number> = {};
for (const precision of ["f32", "f16"] as StreamPrecision[]) {
  if (precision === "f16" && !gpu.f16) continue;
  const es = precision === "f16" ? 2 : 4;
  const b = {
    x: buffer(T * n * C * es, (i) => (i % 13) - 6),
    y: buffer(T * C * es, (i) => (i % 7) - 3),
    hPost: buffer(T * n * 4, () => 1),
    hRes: buffer(T * n * n * 4, () => 0.25),
    out: buffer(T * n * C * es),
  };
  const bytes = T * (((n + 1) * C + n * C) * es + (n * n + n) * 4);
  const s = await time((enc) =>
    encodeMhcPost(gpu, enc, b, { n, C, T, precision })
  );
  results[precision] = report(`fused post, ${precision} streams`, bytes, s);
  for (const v of Object.values(b)) v.destroy();
}

// Copy yardstick: the same bytes as the f32 post moves.
const copyBytes = T * (2 * n + 1) * C * 4;
const src = buffer(copyBytes / 2, (i) => i), dst = buffer(copyBytes / 2);
const sc = await time((enc) =>
  enc.copyBufferToBuffer(src, 0, dst, 0, copyBytes / 2)
);
results.copy = report("copyBufferToBuffer (read + write)", copyBytes, sc);

const validation = await device.popErrorScope();
const oom = await device.popErrorScope();
if (validation || oom) {
  throw new Error(`WebGPU error: ${(validation ?? oom)!.message}`);
}

console.log(`adapter: ${gpu.adapterName}`);
console.log(`n=${n} C=${C} T=${T}, ${batch} per submit, median of ${reps}`);
console.log("| kernel | bytes per call | time per call | bandwidth |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
console.log(
  `fused post f32 / copy: ${(100 * results.f32 / results.copy).toFixed(0)} %`,
);
gpu.destroy();
