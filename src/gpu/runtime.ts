// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The WebGPU runtime: one {@linkcode MhcGpu} object per device. It owns the
 * pipeline cache, small cached uniform buffers, the split of large token
 * batches into chunks, and the error-scoped "convenience" execution that
 * uploads arrays, runs kernels and reads results back. Browser-compatible:
 * no Deno-only API.
 *
 * ## Contract for kernel host files (src/gpu/*.ts)
 *
 * - Get a runtime: `await MhcGpu.create()` (default adapter) or
 *   `await MhcGpu.create({ device })`. `gpu.f16` says whether `shader-f16`
 *   is enabled; `gpu.requireF16()` throws a clear error when it is not.
 * - Pipelines: `await gpu.pipeline({ label, code, entryPoint, constants, key })`
 *   compiles once and caches by `key` (default: code + entry point +
 *   constants). A WGSL error throws {@linkcode WgslCompileError} with
 *   `label:line:column` of every message of `getCompilationInfo()`.
 * - Kernels indexed by token use this binding convention: `@group(0)
 *   @binding(0)` is a uniform (words from `params(tokens, first)`), then the
 *   storage buffers at bindings 1, 2, … in the order of `buffers`. Record
 *   them with `gpu.encodeTokens(encoder, dispatch)`: it validates every
 *   buffer (usage, offset alignment, size), splits `T` into chunks that fit
 *   `maxStorageBufferBindingSize` (binding offsets stay multiples of
 *   `minStorageBufferOffsetAlignment`), and lays out each chunk's workgroups
 *   on a 2D grid. In WGSL the linear workgroup index is
 *   `wid.x + wid.y * nwg.x` (`@builtin(num_workgroups) nwg`); indices past the
 *   chunk's work must do nothing (but still reach every barrier).
 * - Convenience calls: `await gpu.compute(label, (ctx) => [...outputs])`. The
 *   callback runs synchronously inside validation + out-of-memory error
 *   scopes; it uploads with `ctx.upload(array)` / `ctx.uploadStreams(array,
 *   precision)`, allocates with `ctx.output(bytes)`, records into
 *   `ctx.encoder` (e.g. with `gpu.encodeTokens`), and returns the buffers to
 *   read. Everything is submitted once, read back with one `mapAsync`, and
 *   the temporaries are destroyed. Errors throw {@linkcode GpuError}; a lost
 *   device rejects pending work. Fetch pipelines (async) BEFORE calling
 *   `compute`.
 * - Large T: nothing to do beyond `encodeTokens`. Tests tighten the limits
 *   with `MhcGpu.create({ limits: { maxStorageBufferBindingSize: 4096 } })`
 *   to exercise the split path on small arrays.
 *
 * @module
 */

import { GpuError, type WgslMessage } from "./errors.ts";
import { WgslCompileError } from "./errors.ts";
import { f32ToF16Bits } from "./f16.ts";
import { typeName } from "../reference/_validate.ts";
import {
  grid2d,
  type MhcGpuLimits,
  planTokenChunks,
  type TokenChunk,
} from "./tokens.ts";

export type { MhcGpuLimits, TokenChunk };

/** Storage precision of the streams (`x`, `y`, `x'`, `u` and their gradients). */
export type StreamPrecision = "f32" | "f16";

/** The part of `navigator.gpu` the runtime uses (injectable for tests). */
export interface GpuProvider {
  /** As `GPU.requestAdapter`. */
  requestAdapter(
    options?: GPURequestAdapterOptions,
  ): Promise<GPUAdapter | null>;
}

/** Options of {@linkcode MhcGpu.create}. */
export interface MhcGpuOptions {
  /** Use this device instead of requesting one. */
  device?: GPUDevice;
  /** Where to request an adapter. Default `navigator.gpu`. */
  gpu?: GpuProvider;
  /** Passed to `requestAdapter`. Default `"high-performance"`. */
  powerPreference?: GPUPowerPreference;
  /**
   * Tighter limits than the device's, to exercise the split paths in tests.
   * Each value may only make the limit stricter.
   */
  limits?: Partial<MhcGpuLimits>;
}

/** A buffer, or a buffer and a byte offset into it. */
export type BufferRef = GPUBuffer | { buffer: GPUBuffer; offset?: number };

/** One storage binding of a {@linkcode TokenDispatch}. */
export interface TokenBinding {
  /** Argument name, used in error messages. */
  name: string;
  /** The buffer, possibly with a byte offset. */
  ref: BufferRef;
  /**
   * Bytes per token. `0` binds `size` bytes at the offset for every chunk
   * (a buffer not indexed by token).
   */
  bytesPerToken: number;
  /** Byte size bound when `bytesPerToken` is `0`. */
  size?: number;
  /** Layout in words for error messages, e.g. `"[T, n, C] = [2, 4, 8] as f32"`. */
  shape?: string;
}

/** A token-indexed kernel launch, for {@linkcode MhcGpu.encodeTokens}. */
export interface TokenDispatch {
  /** Label of the compute pass. */
  label: string;
  /** The pipeline (bindings: uniform at 0, storage at 1…k). */
  pipeline: GPUComputePipeline;
  /** Number of tokens. */
  T: number;
  /** Storage bindings, bound at 1, 2, … in this order. */
  buffers: TokenBinding[];
  /** Workgroups needed for `tokens` tokens. */
  workgroups(tokens: number): number;
  /** Words of the uniform at binding 0 for the chunk `[first, first + tokens)`. */
  params(tokens: number, first: number): Uint32Array;
}

/** Describes a shader entry point to compile, for {@linkcode MhcGpu.pipeline}. */
export interface PipelineSpec {
  /** Label used in error messages and debuggers. */
  label: string;
  /** WGSL source. */
  code: string;
  /** Entry point. Default `"main"`. */
  entryPoint?: string;
  /** Pipeline-overridable constants. */
  constants?: Record<string, number>;
  /** Cache key; must determine code, entry point and constants. */
  key?: string;
}

/** What a {@linkcode MhcGpu.compute} callback gets. */
export interface ComputeContext {
  /** The encoder that is submitted when the callback returns. */
  readonly encoder: GPUCommandEncoder;
  /**
   * Uploads `data` to a temporary storage buffer (size rounded up to 4).
   *
   * @param data Bytes to upload.
   * @param label Buffer label.
   * @returns The buffer, destroyed after the call.
   */
  upload(data: ArrayBufferView, label?: string): GPUBuffer;
  /**
   * Uploads a stream array as f32, or rounded to f16 when `precision` is
   * `"f16"`.
   *
   * @param data The values.
   * @param precision Storage precision.
   * @param label Buffer label.
   * @returns The buffer, destroyed after the call.
   */
  uploadStreams(
    data: Float32Array,
    precision: StreamPrecision,
    label?: string,
  ): GPUBuffer;
  /**
   * Allocates a temporary zeroed storage buffer of at least `bytes` bytes.
   *
   * @param bytes Byte size (rounded up to 4).
   * @param label Buffer label.
   * @returns The buffer, destroyed after the call.
   */
  output(bytes: number, label?: string): GPUBuffer;
}

/** A buffer to read back after a {@linkcode MhcGpu.compute} call. */
export interface ReadRequest {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Bytes to read. */
  bytes: number;
  /** Byte offset in `buffer` to read from, a multiple of 4. Default `0`. */
  offset?: number;
}

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const MAP_READ_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const STORAGE_FLAG = 0x80;
const UNIFORM_CACHE_SIZE = 4096;

/**
 * Rounds `bytes` up to a multiple of 4 (buffer sizes, copy sizes and
 * storage binding sizes must be multiples of 4).
 *
 * @param bytes A byte count.
 * @returns The smallest multiple of 4 that is `>= bytes`.
 *
 * @example Three f16 values need 8 bytes
 * ```ts
 * import { roundUp4 } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(roundUp4(3 * 2), 8);
 * ```
 */
export function roundUp4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/**
 * The buffer of a {@linkcode BufferRef}.
 *
 * @param ref A buffer, or a buffer and an offset.
 * @returns The buffer.
 *
 * @example With and without an offset
 * ```ts
 * import { bufferOf } from "@birkhoff/mhc";
 * import { assertStrictEquals } from "@std/assert";
 *
 * const buffer = {} as GPUBuffer; // stands in for a real buffer
 * assertStrictEquals(bufferOf({ buffer, offset: 256 }), buffer);
 * ```
 */
export function bufferOf(ref: BufferRef): GPUBuffer {
  return "buffer" in ref ? ref.buffer : ref;
}

/**
 * The byte offset of a {@linkcode BufferRef}.
 *
 * @param ref A buffer, or a buffer and an offset.
 * @returns The offset, `0` for a bare buffer.
 *
 * @example An offset of 256 bytes
 * ```ts
 * import { offsetOf } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(offsetOf({ buffer: {} as GPUBuffer, offset: 256 }), 256);
 * ```
 */
export function offsetOf(ref: BufferRef): number {
  return "buffer" in ref ? ref.offset ?? 0 : 0;
}

/**
 * The WebGPU runtime for the mHC kernels. Create it with
 * {@linkcode MhcGpu.create}.
 *
 * @example Create, use, destroy (needs a WebGPU adapter)
 * ```ts ignore
 * import { MhcGpu, mhcPostGpu } from "@birkhoff/mhc";
 *
 * const gpu = await MhcGpu.create();
 * const n = 4, C = 8, T = 2;
 * const out = await mhcPostGpu(gpu,
 *   new Float32Array(T * n * C), new Float32Array(T * C),
 *   new Float32Array(T * n).fill(1), new Float32Array(T * n * n), { n, C, T });
 * gpu.destroy();
 * ```
 */
export class MhcGpu {
  /** The device every kernel runs on. */
  readonly device: GPUDevice;
  /** True when `shader-f16` is enabled, so f16 streams are available. */
  readonly f16: boolean;
  /** The limits the runtime plans with. */
  readonly limits: Readonly<MhcGpuLimits>;
  /** Adapter description, when known (for reports). */
  readonly adapterName: string;
  readonly #ownsDevice: boolean;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #uniforms = new Map<string, GPUBuffer>();
  readonly #lost: Promise<never>;
  #lostError: GpuError | undefined;

  private constructor(
    device: GPUDevice,
    ownsDevice: boolean,
    adapterName: string,
    limits: Partial<MhcGpuLimits> | undefined,
  ) {
    this.device = device;
    this.#ownsDevice = ownsDevice;
    this.adapterName = adapterName;
    this.f16 = device.features.has("shader-f16");
    const dl = device.limits;
    const want = limits ?? {};
    const tighter = (name: keyof MhcGpuLimits, dev: number, max: boolean) => {
      const v = want[name];
      if (v === undefined) return dev;
      if (!Number.isSafeInteger(v) || v < 1 || (max ? v > dev : v < dev)) {
        throw new RangeError(
          `limits.${name} must be an integer ${
            max ? "<=" : ">="
          } the device's ${dev}, got ${v}`,
        );
      }
      return v;
    };
    this.limits = Object.freeze({
      maxStorageBufferBindingSize: tighter(
        "maxStorageBufferBindingSize",
        Math.min(dl.maxStorageBufferBindingSize, dl.maxBufferSize),
        true,
      ),
      maxComputeWorkgroupsPerDimension: tighter(
        "maxComputeWorkgroupsPerDimension",
        dl.maxComputeWorkgroupsPerDimension,
        true,
      ),
      minStorageBufferOffsetAlignment: tighter(
        "minStorageBufferOffsetAlignment",
        dl.minStorageBufferOffsetAlignment,
        false,
      ),
    });
    this.#lost = device.lost.then((info) => {
      this.#lostError = new GpuError(
        "device-lost",
        `WebGPU device was lost (${info.reason}): ${
          info.message || "no message"
        }. Create a new MhcGpu to continue.`,
      );
      throw this.#lostError;
    });
    this.#lost.catch(() => {});
  }

  /**
   * Creates a runtime on `options.device`, or on a new device from the
   * default adapter. A new device gets the adapter's own maxima for the
   * limits the kernels need (storage binding and buffer size, workgroups per
   * dimension, storage buffers per stage, workgroup memory and invocations)
   * and `shader-f16` and `timestamp-query` when the adapter has them.
   *
   * @param options Device or adapter source, and optional tighter limits.
   * @returns The runtime.
   * @throws {GpuError} `"no-webgpu"` when there is no `navigator.gpu`,
   *   `"no-adapter"` when no adapter is found.
   *
   * @example On the default adapter (needs WebGPU)
   * ```ts ignore
   * import { MhcGpu } from "@birkhoff/mhc";
   *
   * const gpu = await MhcGpu.create();
   * console.log(gpu.adapterName, gpu.f16);
   * ```
   */
  static async create(options: MhcGpuOptions = {}): Promise<MhcGpu> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `options must be an object, got ${String(options)}`,
      );
    }
    if (options.device) {
      return new MhcGpu(options.device, false, "", options.limits);
    }
    const provider = options.gpu ??
      (typeof navigator !== "undefined"
        ? (navigator as { gpu?: GpuProvider }).gpu
        : undefined);
    if (!provider) {
      throw new GpuError(
        "no-webgpu",
        "WebGPU is not available here (navigator.gpu is undefined)",
      );
    }
    const adapter = await provider.requestAdapter({
      powerPreference: options.powerPreference ?? "high-performance",
    });
    if (!adapter) {
      throw new GpuError(
        "no-adapter",
        "No WebGPU adapter found: navigator.gpu.requestAdapter() returned null " +
          "(no GPU driver; on Linux without a GPU install a Vulkan driver such as mesa's lavapipe)",
      );
    }
    const names = [
      "maxStorageBufferBindingSize",
      "maxBufferSize",
      "maxComputeWorkgroupsPerDimension",
      "maxStorageBuffersPerShaderStage",
      "maxComputeWorkgroupStorageSize",
      "maxComputeInvocationsPerWorkgroup",
      "maxComputeWorkgroupSizeX",
    ] as const;
    const requiredLimits: Record<string, number> = {};
    for (const k of names) requiredLimits[k] = adapter.limits[k];
    // f16 streams, and GPU timestamps for callers that time their passes.
    const requiredFeatures = (["shader-f16", "timestamp-query"] as const)
      .filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({
      requiredLimits,
      requiredFeatures,
    });
    const info = adapter.info;
    const name = info
      ? [info.description, info.vendor, info.architecture].filter((s) => s)
        .join(" / ")
      : "";
    return new MhcGpu(device, true, name, options.limits);
  }

  /** The error a lost device rejects with, once it is lost. */
  get lostError(): GpuError | undefined {
    return this.#lostError;
  }

  /**
   * Throws a {@linkcode GpuError} of kind `"unsupported"` unless
   * `shader-f16` is enabled.
   *
   * @param what What needs it, for the message.
   */
  requireF16(what = "f16 streams"): void {
    if (!this.f16) {
      throw new GpuError(
        "unsupported",
        `${what} need the "shader-f16" feature, which this device does not have; use precision "f32"`,
      );
    }
  }

  #checkLost(): void {
    if (this.#lostError) throw this.#lostError;
  }

  /**
   * Returns the compiled compute pipeline for `spec`, compiling it on first
   * use. Concurrent calls with one key share one compilation.
   *
   * @param spec Source, entry point, constants and cache key.
   * @returns The cached pipeline (the same object for the same key).
   * @throws {WgslCompileError} When the WGSL does not compile.
   * @throws {GpuError} When the pipeline cannot be created.
   *
   * @example Compile a kernel once (needs WebGPU)
   * ```ts ignore
   * import { MhcGpu } from "@birkhoff/mhc";
   *
   * const gpu = await MhcGpu.create();
   * const code = "@compute @workgroup_size(64) fn main() {}";
   * const a = await gpu.pipeline({ label: "noop", code });
   * const b = await gpu.pipeline({ label: "noop", code });
   * console.log(a === b); // true
   * ```
   */
  pipeline(spec: PipelineSpec): Promise<GPUComputePipeline> {
    this.#checkLost();
    const entryPoint = spec.entryPoint ?? "main";
    const key = spec.key ??
      `${entryPoint}\u0000${
        JSON.stringify(spec.constants ?? {})
      }\u0000${spec.code}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.#compile(spec, entryPoint).catch(async (e) => {
        throw await this.#explain(e);
      });
      this.#pipelines.set(key, p);
      p.catch(() => this.#pipelines.delete(key));
    }
    return p;
  }

  async #compile(
    spec: PipelineSpec,
    entryPoint: string,
  ): Promise<GPUComputePipeline> {
    const { device } = this;
    // Push and pop with no await in between, so concurrent work cannot
    // interleave with this scope.
    device.pushErrorScope("validation");
    const module = device.createShaderModule({
      label: spec.label,
      code: spec.code,
    });
    const scope = device.popErrorScope();
    const info = await module.getCompilationInfo();
    const scopeError = await scope;
    const messages: WgslMessage[] = info.messages.map((m) => ({
      type: m.type,
      line: m.lineNum,
      column: m.linePos,
      message: m.message,
    }));
    if (messages.some((m) => m.type === "error")) {
      throw new WgslCompileError(spec.label, spec.code, messages);
    }
    if (scopeError) {
      throw new GpuError(
        "validation",
        `Shader "${spec.label}" was rejected: ${scopeError.message}`,
      );
    }
    try {
      return await device.createComputePipelineAsync({
        label: spec.label,
        layout: "auto",
        compute: { module, entryPoint, constants: spec.constants },
      });
    } catch (e) {
      throw new GpuError(
        "validation",
        `Pipeline "${spec.label}" (entry point "${entryPoint}") could not be created: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
  }

  /**
   * A lost device first shows up as failed validation, compilation or
   * mapping: lets the lost promise settle, and returns the loss, which
   * explains the failure, or else `error`.
   */
  async #explain<E>(error: E): Promise<GpuError | E> {
    await Promise.race([
      this.#lost.catch(() => {}),
      new Promise((r) => setTimeout(r, 0)),
    ]);
    return this.#lostError ?? error;
  }

  /**
   * Returns a uniform buffer holding `words`. Buffers are cached by content
   * and never written again, so they are safe to use in any number of
   * pending command buffers.
   *
   * @param words The uniform's 32-bit words.
   * @returns A uniform buffer.
   */
  uniform(words: Uint32Array): GPUBuffer {
    const key = words.join(",");
    let b = this.#uniforms.get(key);
    if (!b) {
      if (this.#uniforms.size >= UNIFORM_CACHE_SIZE) this.#uniforms.clear();
      b = this.device.createBuffer({
        label: "mhc params",
        size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
        usage: UNIFORM_USAGE,
        mappedAtCreation: true,
      });
      new Uint32Array(b.getMappedRange()).set(words);
      b.unmap();
      this.#uniforms.set(key, b);
    }
    return b;
  }

  /**
   * Records a token-indexed kernel into `encoder`: validates the buffers,
   * splits `T` into chunks within the limits and dispatches each chunk on a
   * 2D grid. See the module documentation for the binding convention.
   *
   * @param encoder The caller's command encoder.
   * @param d The launch.
   * @throws {TypeError} When a buffer is missing or lacks `STORAGE` usage.
   * @throws {RangeError} When a buffer is too small or its offset misaligned.
   *
   * @example One token-indexed kernel (needs WebGPU)
   * ```ts ignore
   * import { MhcGpu } from "@birkhoff/mhc";
   *
   * const gpu = await MhcGpu.create();
   * const T = 1000;
   * const pipeline = await gpu.pipeline({ label: "double", code: `
   *   struct P { tokens: u32 }
   *   @group(0) @binding(0) var<uniform> p: P;
   *   @group(0) @binding(1) var<storage, read_write> v: array<f32>;
   *   @compute @workgroup_size(64) fn main(
   *     @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
   *     @builtin(local_invocation_index) lid: u32) {
   *     let t = (wid.x + wid.y * nwg.x) * 64u + lid;
   *     if (t < p.tokens) { v[t] = 2.0 * v[t]; }
   *   }` });
   * const v = gpu.device.createBuffer({ size: T * 4, usage: GPUBufferUsage.STORAGE });
   * const encoder = gpu.device.createCommandEncoder();
   * gpu.encodeTokens(encoder, {
   *   label: "double", pipeline, T,
   *   buffers: [{ name: "v", ref: v, bytesPerToken: 4 }],
   *   workgroups: (tokens) => Math.ceil(tokens / 64),
   *   params: (tokens) => new Uint32Array([tokens]),
   * });
   * gpu.device.queue.submit([encoder.finish()]);
   * ```
   */
  encodeTokens(encoder: GPUCommandEncoder, d: TokenDispatch): void {
    this.#checkLost();
    const align = this.limits.minStorageBufferOffsetAlignment;
    for (const b of d.buffers) {
      const ref: unknown = b.ref;
      const buffer: unknown = typeof ref === "object" && ref !== null
        ? bufferOf(ref as BufferRef)
        : undefined;
      if (typeof buffer !== "object" || buffer === null) {
        throw new TypeError(
          `${b.name} must be a GPUBuffer or { buffer, offset }, got ${
            typeName(ref)
          }`,
        );
      }
      const offset = offsetOf(b.ref);
      if (!((buffer as GPUBuffer).usage & STORAGE_FLAG)) {
        throw new TypeError(
          `${b.name} must be a GPUBuffer with STORAGE usage`,
        );
      }
      if (!Number.isSafeInteger(offset) || offset < 0 || offset % align) {
        throw new RangeError(
          `${b.name} offset must be a multiple of minStorageBufferOffsetAlignment (${align}), got ${offset}`,
        );
      }
      const need = roundUp4(
        b.bytesPerToken > 0 ? d.T * b.bytesPerToken : b.size ?? 0,
      );
      const size = (buffer as GPUBuffer).size;
      if (size < offset + need) {
        throw new RangeError(
          `${b.name} must hold ${need} bytes${
            b.shape ? ` (${b.shape})` : ""
          } from offset ${offset}, got a buffer of ${size} bytes`,
        );
      }
    }
    const chunks = planTokenChunks(
      d.T,
      d.buffers.map((b) => b.bytesPerToken),
      this.limits,
      d.workgroups,
    );
    const layout = d.pipeline.getBindGroupLayout(0);
    const pass = encoder.beginComputePass({ label: d.label });
    pass.setPipeline(d.pipeline);
    for (const { first, count } of chunks) {
      const entries: GPUBindGroupEntry[] = [{
        binding: 0,
        resource: { buffer: this.uniform(d.params(count, first)) },
      }];
      d.buffers.forEach((b, i) => {
        const per = b.bytesPerToken;
        entries.push({
          binding: i + 1,
          resource: {
            buffer: bufferOf(b.ref),
            offset: offsetOf(b.ref) + (per > 0 ? first * per : 0),
            size: roundUp4(per > 0 ? count * per : b.size ?? 0),
          },
        });
      });
      pass.setBindGroup(
        0,
        this.device.createBindGroup({ label: d.label, layout, entries }),
      );
      const [x, y] = grid2d(
        d.workgroups(count),
        this.limits.maxComputeWorkgroupsPerDimension,
      );
      if (x > 0) pass.dispatchWorkgroups(x, y);
    }
    pass.end();
  }

  /**
   * Runs `record` inside validation and out-of-memory error scopes, submits
   * its commands, and reads back the buffers it returns with one map.
   * Temporaries made through the context are destroyed afterwards.
   *
   * @param label Names the work in error messages.
   * @param record Synchronous: uploads, records, returns what to read.
   * @returns The bytes of each requested buffer, in order.
   * @throws {GpuError} On a validation or out-of-memory error, or when the
   *   device is lost before the work completes.
   *
   * @example Upload, copy, read back (needs WebGPU)
   * ```ts ignore
   * import { MhcGpu } from "@birkhoff/mhc";
   *
   * const gpu = await MhcGpu.create();
   * const [bytes] = await gpu.compute("copy", (ctx) => {
   *   const src = ctx.upload(new Float32Array([1, 2, 3]));
   *   const dst = ctx.output(12);
   *   ctx.encoder.copyBufferToBuffer(src, 0, dst, 0, 12);
   *   return [{ buffer: dst, bytes: 12 }];
   * });
   * console.log(new Float32Array(bytes)); // Float32Array [1, 2, 3]
   * ```
   */
  async compute(
    label: string,
    record: (ctx: ComputeContext) => ReadRequest[],
  ): Promise<ArrayBuffer[]> {
    this.#checkLost();
    const { device } = this;
    const temps: GPUBuffer[] = [];
    const make = (bytes: number, name?: string, usage = STORAGE_USAGE) => {
      const b = device.createBuffer({
        label: name,
        size: Math.max(4, roundUp4(bytes)),
        usage,
        mappedAtCreation: usage === STORAGE_USAGE,
      });
      temps.push(b);
      return b;
    };
    const upload = (data: ArrayBufferView, name?: string) => {
      const b = make(data.byteLength, name);
      new Uint8Array(b.getMappedRange()).set(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
      b.unmap();
      return b;
    };
    const encoder = device.createCommandEncoder({ label });
    const ctx: ComputeContext = {
      encoder,
      upload,
      uploadStreams: (data, precision, name) =>
        upload(precision === "f16" ? f32ToF16Bits(data) : data, name),
      output: (bytes, name) => {
        const b = make(bytes, name);
        b.unmap();
        return b;
      },
    };
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    let staging: GPUBuffer | undefined;
    let reads: ReadRequest[] = [], offsets: number[] = [];
    let thrown: unknown, failed = false;
    try {
      reads = record(ctx);
      let total = 0;
      offsets = reads.map((r) => {
        const o = total;
        total += roundUp4(r.bytes);
        return o;
      });
      staging = make(total, `${label} readback`, MAP_READ_USAGE);
      reads.forEach((r, i) =>
        encoder.copyBufferToBuffer(
          r.buffer,
          r.offset ?? 0,
          staging!,
          offsets[i],
          roundUp4(r.bytes),
        )
      );
      device.queue.submit([encoder.finish()]);
    } catch (e) {
      thrown = e;
      failed = true;
    }
    const scopes = Promise.all([
      device.popErrorScope(),
      device.popErrorScope(),
    ]);
    const mapped = !failed && staging
      ? staging.mapAsync(GPUMapMode.READ).then(() => null, (e: Error) => e)
      : Promise.resolve(null);
    try {
      const [[validation, oom], mapError] = await Promise.race([
        Promise.all([scopes, mapped]),
        this.#lost,
      ]);
      if (validation || oom || mapError || failed) {
        const lost = await this.#explain(null);
        if (lost) throw lost;
      }
      if (validation) {
        throw new GpuError(
          "validation",
          `WebGPU validation error in "${label}": ${validation.message}`,
        );
      }
      if (oom) {
        throw new GpuError(
          "out-of-memory",
          `WebGPU out of memory in "${label}": ${oom.message}`,
        );
      }
      if (failed) throw thrown;
      if (mapError) {
        throw new GpuError(
          "internal",
          `Reading back the results of "${label}" failed: ${mapError.message}`,
          { cause: mapError },
        );
      }
      const range = staging!.getMappedRange();
      const out = reads.map((r, i) =>
        range.slice(offsets[i], offsets[i] + r.bytes)
      );
      staging!.unmap();
      return out;
    } finally {
      for (const b of temps) b.destroy();
    }
  }

  /**
   * Reads `bytes` bytes of `buffer` from `offset` (both multiples of 4),
   * for callers of the encode API. Submits a copy and maps once.
   *
   * @param buffer A buffer with `COPY_SRC` usage.
   * @param bytes Bytes to read.
   * @param offset Byte offset.
   * @returns A copy of the bytes.
   * @throws {GpuError} On a validation error or a lost device.
   */
  read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    return this.compute("read", () => [{ buffer, bytes, offset }])
      .then(([b]) => b);
  }

  /**
   * Drops cached pipelines and uniforms, and destroys the device when the
   * runtime created it.
   */
  destroy(): void {
    this.#lostError ??= new GpuError(
      "device-lost",
      "This MhcGpu was destroyed; create a new one to continue",
    );
    this.#pipelines.clear();
    for (const b of this.#uniforms.values()) b.destroy();
    this.#uniforms.clear();
    if (this.#ownsDevice) this.device.destroy();
  }
}
