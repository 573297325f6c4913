// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Times the trainer's WebGPU dense layer (src/train/gpu/matmul.ts) at the
 * trainer's shapes and prints GFLOP/s, next to its TypeScript CPU twin
 * (src/train/ops/matmul.ts). Not a test and not a `deno bench` suite: run
 *
 *   deno run -A tools/with_std.ts run -A bench/train_matmul_variants.ts [reps]
 *
 * Each figure records `reps` dispatches into one command buffer and submits
 * it once; the best of 3 submits is reported, as wall-clock time per
 * dispatch and, on Linux, as process CPU time per dispatch (llvmpipe runs
 * the kernels on the CPU threads of this process, so CPU time is the
 * steadier figure on a busy machine). Wall time includes the fixed cost of a
 * dispatch (about 0.2 ms on lavapipe).
 *
 * @module
 */

import { MhcGpu } from "../mod.ts";
import {
  encodeMatmulBackward,
  encodeMatmulForward,
} from "../src/train/gpu/matmul.ts";
import { matmulBackward, matmulForward } from "../src/train/ops/matmul.ts";

const reps = Number(Deno.args[0] ?? 20);
const gpu = await MhcGpu.create();
const device = gpu.device;
console.log(
  `adapter: ${gpu.adapterName || "unknown"}, ${reps} dispatches per submit`,
);

/** Process CPU time in ms (utime + stime), or NaN off Linux. */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]
      .split(" ");
    return (Number(f[11]) + Number(f[12])) * 1000 / 100;
  } catch {
    return NaN;
  }
}

function buffer(floats: number): GPUBuffer {
  const b = device.createBuffer({
    size: floats * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  const f = new Float32Array(b.getMappedRange());
  for (let i = 0; i < floats; i++) f[i] = Math.random() - 0.5;
  b.unmap();
  return b;
}

async function time(
  record: (e: GPUCommandEncoder) => Promise<void>,
): Promise<{ wall: number; cpu: number }> {
  let wall = Infinity, cpu = Infinity;
  for (let s = 0; s < 4; s++) {
    const e = device.createCommandEncoder();
    for (let i = 0; i < reps; i++) await record(e);
    const t0 = performance.now(), c0 = cpuMs();
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (s === 0) continue; // warm-up
    wall = Math.min(wall, (performance.now() - t0) / reps);
    cpu = Math.min(cpu, (cpuMs() - c0) / reps);
  }
  return { wall, cpu };
}

function cpuTwin(fn: () => void): number {
  fn();
  const n = 5, t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t0) / n;
}

const gf = (flops: number, ms: number) => (flops / ms / 1e6).toFixed(2);
const shapes: [number, number, number][] = [
  [512, 64, 192],
  [512, 64, 64],
  [512, 64, 256],
  [512, 256, 64],
  [512, 256, 256],
  [512, 384, 384],
];
for (const [N, C, OC] of shapes) {
  const inp = buffer(N * C), w = buffer(OC * C), out = buffer(N * OC);
  const dout = buffer(N * OC), dinp = buffer(N * C), dw = buffer(OC * C);
  const flops = 2 * N * C * OC;
  const f = await time((e) =>
    encodeMatmulForward(gpu, e, { out, inp, w }, { N, C, OC })
  );
  const b = await time((e) =>
    encodeMatmulBackward(gpu, e, { dinp, dw, dout, inp, w }, {
      N,
      C,
      OC,
      accumulate: true,
    })
  );
  const x = new Float32Array(N * C).map(() => Math.random() - 0.5);
  const wx = new Float32Array(OC * C).map(() => Math.random() - 0.5);
  const o = new Float32Array(N * OC), di = new Float32Array(N * C);
  const dW = new Float32Array(OC * C);
  const cf = cpuTwin(() => matmulForward(o, x, wx, N, C, OC));
  const cb = cpuTwin(() => matmulBackward(di, dW, o, x, wx, N, C, OC));
  console.log(
    `N=${N} C=${C} OC=${OC}: forward ${gf(flops, f.wall)} GFLOP/s ` +
      `(${(f.wall * 1e3).toFixed(0)} us wall, ${
        (f.cpu * 1e3).toFixed(0)
      } us cpu)` +
      `, backward ${gf(2 * flops, b.wall)} GFLOP/s ` +
      `(${(b.wall * 1e3).toFixed(0)} us wall, ${
        (b.cpu * 1e3).toFixed(0)
      } us cpu)` +
      ` | CPU twin: forward ${gf(flops, cf)} GFLOP/s (${
        (cf * 1e3).toFixed(0)
      } us)` +
      `, backward ${gf(2 * flops, cb)} GFLOP/s (${(cb * 1e3).toFixed(0)} us)`,
  );
  for (const buf of [inp, w, out, dout, dinp, dw]) buf.destroy();
}
gpu.destroy();
