// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * WebGPU dense layer without bias, the twin of `src/train/ops/matmul.ts`:
 * `out = inp · Wᵀ` with `inp [N, C]`, `W [OC, C]`, `out [N, OC]`, and its
 * backward `dinp = dout · W`, `dW = doutᵀ · inp`. Deterministic (no
 * atomics; every sum in a fixed order).
 *
 * When `C` and `OC` are multiples of 4, the forward and `dinp` run the
 * staged kernel (`wgsl/train/matmul_staged.wgsl`: a block of the weight in
 * workgroup memory, read at constant indices by fully unrolled code, which
 * a CPU adapter such as lavapipe turns into broadcasts instead of per-lane
 * loads), and `dW` the tiled kernel (`wgsl/train/matmul.wgsl`, 16 × 16
 * outputs per invocation), so a backward is two dispatches. Other sizes run
 * the tiled kernel alone, reading one float at a time (a second
 * specialisation of its source), forward in one dispatch and backward in
 * one. The staged pipelines are compiled per shape (sizes are constants of
 * the unrolled code): a few seconds each on lavapipe.
 *
 * @module
 */

import type { MhcGpu } from "../../../mod.ts";
import { withConstants } from "../../gpu/specialize.ts";
import { matmulWgsl } from "../kernels/matmul.ts";
import { matmulReduceWgsl } from "../kernels/matmul_reduce.ts";
import { matmulStagedWgsl } from "../kernels/matmul_staged.ts";
import { checkBinding, checkSizes } from "./_check.ts";
import { scalarVariant } from "./_specialize.ts";
import { type Binding, dispatch } from "./dispatch.ts";

/** Invocations per workgroup (`WG` in the kernel). */
const WG = 8;
/** Output rows and columns per invocation (`TB` in the kernel). */
const TB = 16;

/** Buffers of {@linkcode encodeMatmulForward}. */
export interface MatmulForwardBuffers {
  /** Output `[N, OC]` (overwritten). */
  out: Binding;
  /** Input `[N, C]`. */
  inp: Binding;
  /** Weight `[OC, C]`. */
  w: Binding;
}

/** Sizes of {@linkcode encodeMatmulForward}. */
export interface MatmulSizes {
  /** Rows (tokens). */
  N: number;
  /** Input width. */
  C: number;
  /** Output width. */
  OC: number;
}

/** Buffers of {@linkcode encodeMatmulBackward}. */
export interface MatmulBackwardBuffers {
  /** Gradient of the input `[N, C]` (written, or added to). */
  dinp: Binding;
  /** Gradient of the weight `[OC, C]` (written, or added to). */
  dw: Binding;
  /** Gradient of the output `[N, OC]`. */
  dout: Binding;
  /** Input `[N, C]` given to the forward. */
  inp: Binding;
  /** Weight `[OC, C]`. */
  w: Binding;
}

/** Sizes of {@linkcode encodeMatmulBackward}. */
export interface MatmulBackwardSizes extends MatmulSizes {
  /** Add into `dinp` and `dw` instead of overwriting them. Default `false`. */
  accumulate?: boolean;
}

const sources = new Map<boolean, string>();

function kernel(vec4: boolean): { code: string; variant: string } {
  let code = sources.get(vec4);
  if (code === undefined) {
    sources.set(vec4, code = vec4 ? matmulWgsl : scalarVariant(matmulWgsl));
  }
  return { code, variant: vec4 ? "vec4" : "scalar" };
}

/**
 * Tuning of the staged kernels (`wgsl/train/matmul_staged.wgsl`), used when
 * `C` and `OC` are multiples of 4. Internal: benches change it to time
 * variants (bench/matmul_variants.ts); `staged: false` selects the tiled
 * kernel (`wgsl/train/matmul.wgsl`) for every size.
 */
export const matmulTuning: {
  /** Use the staged kernels when the sizes allow. */
  staged: boolean;
  /** Invocations per workgroup (fewer when the rows are fewer). */
  wg: number;
  /** Output rows per invocation (products with `A_COL = 1` always use 4). */
  rpl: number;
  /** Values of k per block in workgroup memory. */
  kb: number;
  /** Output columns per workgroup, at most. */
  nb: number;
  /** Tokens per part of `dW`. */
  partTokens: number;
  /** Values of k per part of `dinp` (k = output width). */
  partK: number;
  /** Multiply-adds per invocation at most (the unrolled code's size). */
  budget: number;
  /** dW by the staged kernel too; otherwise by the tiled kernel. */
  stagedDw: boolean;
  /** `budget` of the staged dW. */
  dwBudget: number;
} = {
  dwBudget: 4096,
  stagedDw: false,
  staged: true,
  wg: 256,
  rpl: 1,
  kb: 64,
  nb: 64,
  partTokens: 32,
  partK: 1024,
  budget: 4096,
};

/** One product of the staged kernel: layouts and sizes. */
interface Product {
  /** A(m, k) = a[k·lda + m] instead of a[m·lda + k]. */
  aCol: boolean;
  /** B(n, k) = b[k·ldb + n] instead of b[n·ldb + k]. */
  bKn: boolean;
  /** out(m, n) at out[n·ldo + m] instead of out[m·ldo + n]. */
  oCol: boolean;
  M: number;
  N: number;
  K: number;
  lda: number;
  ldb: number;
  ldo: number;
  /** Values of k per workgroup (`K` unless split into parts). */
  kPart: number;
}

const up = (x: number, m: number) => Math.ceil(x / m) * m;

/** The constants of the staged kernel for a product. */
function stagedConstants(
  gpu: MhcGpu,
  q: Product,
): Record<string, number> {
  const t = matmulTuning;
  const rpl = q.aCol ? 4 : t.rpl;
  const KB = Math.min(t.kb, up(q.kPart, 4));
  const maxNb = Math.floor(
    gpu.device.limits.maxComputeWorkgroupStorageSize / 4 / KB / 4,
  ) * 4;
  const kb = Math.ceil(q.kPart / KB) * KB;
  const NB = Math.max(
    4,
    Math.min(
      t.nb,
      up(q.N, 4),
      maxNb,
      Math.floor((q.aCol ? t.dwBudget : t.budget) / rpl / kb / 4) * 4,
    ),
  );
  const WG = Math.min(t.wg, up(Math.ceil(q.M / rpl), 8));
  return {
    WG,
    RPL: rpl,
    KB,
    NKB: Math.ceil(q.kPart / KB),
    NB,
    A_COL: q.aCol ? 1 : 0,
    B_KN: q.bKn ? 1 : 0,
    O_COL: q.oCol ? 1 : 0,
  };
}

const stagedSources = new Map<string, string>();

/**
 * The unrolled body of the staged kernel for constants `c`: accumulators
 * `t_r_n` (row r, column n of the invocation's block) as scalar variables,
 * the block's A values as `let`s, every read of `bs` at a literal index.
 */
function stagedBody(c: Record<string, number>): string {
  const { RPL, KB, NKB, NB, A_COL, O_COL } = c;
  const KV = KB / 4, L: string[] = [];
  for (let r = 0; r < RPL; r++) {
    const ts = [];
    for (let n = 0; n < NB; n++) ts.push(`t_${r}_${n}`);
    L.push(`  var ${ts.join(": f32; var ")}: f32;`);
  }
  for (let kb = 0; kb < NKB; kb++) {
    L.push(`  {`, `    let k0 = kz + ${kb * KB}u;`);
    L.push(`    workgroupBarrier();`, `    stage(li, n0, k0);`);
    L.push(`    workgroupBarrier();`);
    // av(r, k): the A value of row r at k0 + k.
    let av: (r: number, k: number) => string;
    if (A_COL === 1) {
      L.push(`    let mc = min(m0, M - 4u);`);
      for (let k = 0; k < KB; k++) {
        L.push(
          `    let a${k} = select(vec4(0.0), a[select(0u, ((k0 + ${k}u) * p.lda + mc) / 4u, k0 + ${k}u < p.K)], k0 + ${k}u < p.K);`,
        );
      }
      av = (r, k) => `a${k}.${"xyzw"[r]}`;
    } else {
      for (let r = 0; r < RPL; r++) {
        L.push(`    let row${r} = min(m0 + ${r}u, M - 1u);`);
        for (let v = 0; v < KV; v++) {
          const ok = `k0 + ${4 * v}u < p.K`;
          L.push(
            `    let a${r}_${v} = select(vec4(0.0), a[select(0u, (row${r} * p.lda + k0 + ${
              4 * v
            }u) / 4u, ${ok})], ${ok});`,
          );
        }
      }
      av = (r, k) => `a${r}_${k >> 2}.${"xyzw"[k & 3]}`;
    }
    for (let nv = 0; nv < NB / 4; nv++) {
      for (let k = 0; k < KB; k++) {
        for (let r = 0; r < RPL; r++) {
          for (let j = 0; j < 4; j++) {
            const n = 4 * nv + j, t = `t_${r}_${n}`;
            // bs holds B in the layout of b: [k][n] or [n][k], as vec4.
            const bsrc = c.B_KN === 1
              ? `bs[${k * NB / 4 + (n >> 2)}].${"xyzw"[n & 3]}`
              : `bs[${n * KV + (k >> 2)}].${"xyzw"[k & 3]}`;
            L.push(`    ${t} = fma(${av(r, k)}, ${bsrc}, ${t});`);
          }
        }
      }
    }
    L.push(`  }`);
  }
  const store = (i: string, v: string) =>
    `      { let i = ${i}; let v = ${v}; if (add) { out[i] += v; } else { out[i] = v; } }`;
  if (O_COL === 1) {
    L.push(`  if (m0 < M) {`);
    for (let n = 0; n < NB; n++) {
      L.push(`    if (n0 + ${n}u < p.N) {`);
      L.push(
        store(
          `(base + (n0 + ${n}u) * p.ldo + m0) / 4u`,
          `vec4(t_0_${n}, t_1_${n}, t_2_${n}, t_3_${n})`,
        ),
        `    }`,
      );
    }
    L.push(`  }`);
  } else {
    for (let r = 0; r < RPL; r++) {
      L.push(`  if (m0 + ${r}u < M) {`);
      for (let nv = 0; nv < NB / 4; nv++) {
        const n = 4 * nv;
        L.push(`    if (n0 + ${n}u < p.N) {`);
        L.push(
          store(
            `(base + (m0 + ${r}u) * p.ldo + n0 + ${n}u) / 4u`,
            `vec4(t_${r}_${n}, t_${r}_${n + 1}, t_${r}_${n + 2}, t_${r}_${
              n + 3
            })`,
          ),
          `    }`,
        );
      }
      L.push(`  }`);
    }
  }
  return L.join("\n");
}

/** Records one staged product (parts at `out` + z · M · N when split). */
async function encodeProduct(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  label: string,
  q: Product,
  out: Binding,
  a: Binding,
  b: Binding,
  accumulate: boolean,
): Promise<void> {
  const c = stagedConstants(gpu, q);
  const key = Object.values(c).join(",");
  let code = stagedSources.get(key);
  if (code === undefined) {
    code = withConstants(matmulStagedWgsl, c).replace(
      /^ *\/\/ @body:.*$/m,
      stagedBody(c),
    );
    stagedSources.set(key, code);
  }
  const parts = Math.ceil(q.K / q.kPart);
  await dispatch(gpu, encoder, {
    label,
    code,
    key: `matmul staged|${key}`,
    params: [
      q.M,
      q.N,
      q.K,
      q.lda,
      q.ldb,
      q.ldo,
      accumulate ? 1 : 0,
      q.M * q.N,
    ],
    buffers: [out, a, b],
    workgroups: [
      Math.ceil(q.M / (c.WG * c.RPL)),
      Math.ceil(q.N / c.NB),
      parts,
    ],
  });
}

/**
 * Records a staged product whose k is split into parts: the parts go to a
 * scratch buffer and a second dispatch adds them in order into `out`.
 */
async function encodeSplit(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  label: string,
  q: Product,
  out: Binding,
  a: Binding,
  b: Binding,
  accumulate: boolean,
): Promise<void> {
  const parts = Math.ceil(q.K / q.kPart);
  if (parts === 1) {
    await encodeProduct(gpu, encoder, label, q, out, a, b, accumulate);
    return;
  }
  const part = partsBuffer(gpu, parts * q.M * q.N);
  await encodeProduct(gpu, encoder, label, q, part, a, b, false);
  const count = q.M * q.N / 4;
  await dispatch(gpu, encoder, {
    label,
    code: matmulReduceWgsl,
    key: "matmul reduce",
    params: [count, parts, count, accumulate ? 1 : 0],
    buffers: [out, part],
    workgroups: Math.ceil(count / 64),
  });
}

/** Scratch of the parts of `dW`, per runtime (grown during warm-up). */
const scratch = new WeakMap<MhcGpu, GPUBuffer>();

function partsBuffer(gpu: MhcGpu, floats: number): GPUBuffer {
  let s = scratch.get(gpu);
  if (!s || s.size < floats * 4) {
    s = gpu.device.createBuffer({
      label: "matmul dW parts",
      size: Math.max(16, up(floats * 4, 16)),
      usage: GPUBufferUsage.STORAGE,
    });
    scratch.set(gpu, s);
  }
  return s;
}

/** Output blocks of an `M × N` product. */
function blocks(M: number, N: number): number {
  return Math.ceil(M / TB) * Math.ceil(N / TB);
}

/**
 * Workgroups of the forward, or of the backward (both products), for these
 * sizes: at most `maxComputeWorkgroupsPerDimension` per dimension is not
 * required, larger counts are laid out on a 2D grid.
 *
 * @param s Sizes.
 * @param backward The backward instead of the forward.
 * @returns The workgroup count.
 */
export function matmulWorkgroups(s: MatmulSizes, backward: boolean): number {
  const n = backward ? blocks(s.N, s.C) + blocks(s.OC, s.C) : blocks(s.N, s.OC);
  return Math.ceil(n / WG);
}

/**
 * Records `out = inp · Wᵀ` into `encoder`: `out[t][o] = Σ_c inp[t][c] · W[o][c]`.
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major).
 * @param s Sizes.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer or a buffer
 * is too small.
 */
export async function encodeMatmulForward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: MatmulForwardBuffers,
  s: MatmulSizes,
): Promise<void> {
  const op = "matmul forward";
  checkSizes(op, { N: s.N, C: s.C, OC: s.OC });
  checkBinding(op, "out", b.out, s.N * s.OC);
  checkBinding(op, "inp", b.inp, s.N * s.C);
  checkBinding(op, "w", b.w, s.OC * s.C);
  const vec4 = s.C % 4 === 0 && s.OC % 4 === 0;
  if (vec4 && matmulTuning.staged) {
    if (s.N * s.C * s.OC === 0) return;
    await encodeProduct(
      gpu,
      encoder,
      op,
      {
        aCol: false,
        bKn: false,
        oCol: false,
        M: s.N,
        N: s.OC,
        K: s.C,
        lda: s.C,
        ldb: s.C,
        ldo: s.OC,
        kPart: s.C,
      },
      b.out,
      b.inp,
      b.w,
      false,
    );
    return;
  }
  const { code, variant } = kernel(vec4);
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `matmul|forward|${variant}`,
    entryPoint: "forward",
    params: [s.N, s.C, s.OC, 0, 0],
    buffers: [b.out, b.inp, b.w],
    workgroups: matmulWorkgroups(s, false),
  });
}

/**
 * Records the backward of {@linkcode encodeMatmulForward} into `encoder`, in
 * one dispatch: `dinp = dout · W` and `dW = doutᵀ · inp`, written, or added
 * to `dinp` and `dw` with `accumulate: true` (as the CPU twin does).
 *
 * @param gpu The runtime.
 * @param encoder The command encoder.
 * @param b Buffers (f32, row-major); `dinp` and `dw` must not overlap the inputs.
 * @param s Sizes, and whether to accumulate.
 * @returns When the dispatch is recorded.
 * @throws {RangeError} When a size is not a non-negative integer or a buffer
 * is too small.
 */
export async function encodeMatmulBackward(
  gpu: MhcGpu,
  encoder: GPUCommandEncoder,
  b: MatmulBackwardBuffers,
  s: MatmulBackwardSizes,
): Promise<void> {
  const op = "matmul backward";
  checkSizes(op, { N: s.N, C: s.C, OC: s.OC });
  checkBinding(op, "dinp", b.dinp, s.N * s.C);
  checkBinding(op, "dw", b.dw, s.OC * s.C);
  checkBinding(op, "dout", b.dout, s.N * s.OC);
  checkBinding(op, "inp", b.inp, s.N * s.C);
  checkBinding(op, "w", b.w, s.OC * s.C);
  const vec4 = s.C % 4 === 0 && s.OC % 4 === 0;
  if (vec4 && matmulTuning.staged) {
    if (s.N * s.C * s.OC === 0) return;
    const acc = s.accumulate ?? false;
    // dinp[t][c] = Σ_o dout[t][o] · W[o][c], o in parts.
    const oPart = Math.min(up(matmulTuning.partK, 4), up(s.OC, 4));
    await encodeSplit(
      gpu,
      encoder,
      op,
      {
        aCol: false,
        bKn: true,
        oCol: false,
        M: s.N,
        N: s.C,
        K: s.OC,
        lda: s.OC,
        ldb: s.C,
        ldo: s.C,
        kPart: oPart,
      },
      b.dinp,
      b.dout,
      b.w,
      acc,
    );
    if (!matmulTuning.stagedDw) {
      // dW by the tiled kernel's dW blocks alone.
      const { code, variant } = kernel(true);
      await dispatch(gpu, encoder, {
        label: op,
        code,
        key: `matmul|backward|${variant}`,
        entryPoint: "backward",
        params: [s.N, s.C, s.OC, acc ? 1 : 0, 1],
        buffers: [b.dinp, b.dout, b.w, b.dw, b.inp],
        workgroups: Math.ceil(blocks(s.OC, s.C) / WG),
      });
      return;
    }
    // dW[o][c] = Σ_t dout[t][o] · inp[t][c], rows m over the longer of
    // OC and C, tokens in parts added in order by the reduction.
    const kPart = Math.min(up(matmulTuning.partTokens, 4), up(s.N, 4));
    const rowsO = s.OC >= s.C;
    const q: Product = rowsO
      ? {
        aCol: true,
        bKn: true,
        oCol: false,
        M: s.OC,
        N: s.C,
        K: s.N,
        lda: s.OC,
        ldb: s.C,
        ldo: s.C,
        kPart,
      }
      : {
        aCol: true,
        bKn: true,
        oCol: true,
        M: s.C,
        N: s.OC,
        K: s.N,
        lda: s.C,
        ldb: s.OC,
        ldo: s.C,
        kPart,
      };
    const [a, bb] = rowsO ? [b.dout, b.inp] : [b.inp, b.dout];
    await encodeSplit(gpu, encoder, op, q, b.dw, a, bb, acc);
    return;
  }
  const { code, variant } = kernel(vec4);
  await dispatch(gpu, encoder, {
    label: op,
    code,
    key: `matmul|backward|${variant}`,
    entryPoint: "backward",
    params: [s.N, s.C, s.OC, s.accumulate ? 1 : 0, 0],
    buffers: [b.dinp, b.dout, b.w, b.dw, b.inp],
    workgroups: matmulWorkgroups(s, true),
  });
}
