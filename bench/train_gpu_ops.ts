// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Times the trainer's WebGPU dense layer (src/train/gpu/matmul.ts) and
 * causal self-attention (src/train/gpu/attention.ts) at the trainer's shapes
 * and prints GFLOP/s, next to their TypeScript CPU twins (src/train/ops/).
 * Not a test and not a `deno bench` suite: run
 *
 *   deno run -A tools/with_std.ts run -A bench/train_gpu_ops.ts [reps]
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
  encodeAttentionBackward,
  encodeAttentionForward,
} from "../src/train/gpu/attention.ts";
import {
  encodeMatmulBackward,
  encodeMatmulForward,
} from "../src/train/gpu/matmul.ts";
import {
  attentionBackward,
  attentionForward,
} from "../src/train/ops/attention.ts";
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

const us = (ms: number) => (ms * 1e3).toFixed(0);

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
    `matmul N=${N} C=${C} OC=${OC}: forward ${gf(flops, f.wall)} GFLOP/s ` +
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

// Attention: 2·B·H·T(T+1)/2·hs multiply-adds forward (scores and weighted
// sum), twice that backward.
for (
  const [B, T, C, H] of [[8, 64, 64, 4], [8, 64, 256, 8], [4, 128, 128, 4]]
) {
  const qkv = buffer(B * T * 3 * C), out = buffer(B * T * C);
  const att = buffer(B * H * T * T), dout = buffer(B * T * C);
  const dqkv = buffer(B * T * 3 * C), datt = buffer(B * H * T * T);
  const s = { B, T, C, H };
  const flops = 2 * B * H * (T * (T + 1) / 2) * (C / H) * 2;
  const f = await time((e) =>
    encodeAttentionForward(gpu, e, { out, att, qkv }, s)
  );
  const b = await time((e) =>
    encodeAttentionBackward(gpu, e, { dqkv, datt, dout, qkv, att }, s)
  );
  const x = new Float32Array(B * T * 3 * C).map(() => Math.random() - 0.5);
  const o = new Float32Array(B * T * C), a = new Float32Array(B * H * T * T);
  const g = new Float32Array(B * T * C).map(() => Math.random() - 0.5);
  const dx = new Float32Array(B * T * 3 * C), scratch = new Float32Array(T);
  const cf = cpuTwin(() => attentionForward(o, a, x, B, T, C, H));
  const cb = cpuTwin(() => attentionBackward(dx, scratch, g, x, a, B, T, C, H));
  console.log(
    `attention B=${B} T=${T} C=${C} H=${H}: forward ${
      gf(flops, f.wall)
    } GFLOP/s ` +
      `(${us(f.wall)} us wall, ${us(f.cpu)} us cpu), backward ` +
      `${gf(2 * flops, b.wall)} GFLOP/s (${us(b.wall)} us wall, ${
        us(b.cpu)
      } us cpu)` +
      ` | CPU twin: forward ${us(cf)} us, backward ${us(cb)} us`,
  );
  for (const buf of [qkv, out, att, dout, dqkv, datt]) buf.destroy();
}
gpu.destroy();
