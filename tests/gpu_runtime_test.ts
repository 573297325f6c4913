// Copyright 2026 the @birkhoff/mhc authors. MIT license.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import { afterAll, beforeAll, describe, it } from "@std/testing/bdd";
import {
  createMhcBackend,
  encodeMhcPost,
  GpuError,
  MhcGpu,
  mhcPost,
  mhcPostBackwardGpu,
  mhcPostGpu,
  mhcPreGpu,
  WgslCompileError,
} from "@birkhoff/mhc";
import { SKIP_GPU } from "./_gpu.ts";
import { drawInputs } from "./conformance/case.ts";
import {
  assertAllClose,
  multilinearTolerance,
} from "./conformance/tolerance.ts";

const noAdapter = { requestAdapter: () => Promise.resolve(null) };

describe("the WebGPU runtime without an adapter", () => {
  it("fails with an error saying no adapter was found", async () => {
    const e = await assertRejects(
      () => MhcGpu.create({ gpu: noAdapter }),
      GpuError,
      "No WebGPU adapter found",
    );
    assertEquals(e.kind, "no-adapter");
  });

  it("falls back to the reference with one notice line", async () => {
    const lines: string[] = [];
    const backend = await createMhcBackend({
      gpu: noAdapter,
      notice: (l) => lines.push(l),
    });
    assertEquals(backend.name, "reference");
    assertEquals(lines.length, 1);
    assertStringIncludes(lines[0], "using the TypeScript reference");
    assertEquals(lines[0].includes("\n"), false);
    const a = drawInputs(7, {
      x: [3 * 2 * 5, "normal"],
      y: [3 * 5, "normal"],
      hPost: [3 * 2, "two"],
      hRes: [3 * 4, "unit"],
    });
    const shape = { n: 2, C: 5, T: 3 };
    assertEquals(
      await backend.mhcPost(a.x, a.y, a.hPost, a.hRes, shape),
      mhcPost(a.x, a.y, a.hPost, a.hRes, shape),
    );
  });
});

const SHADER = `struct P { tokens: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
override K: f32 = 1.0;
@compute @workgroup_size(1) fn main() { o[0] = K * f32(p.tokens); }
`;

describe({
  name: "the WebGPU runtime",
  ignore: SKIP_GPU,
  fn() {
    let gpu: MhcGpu;
    beforeAll(async () => {
      gpu = await MhcGpu.create();
    });
    afterAll(() => gpu.destroy());

    it("reports WGSL compile errors with getCompilationInfo's text and line", async () => {
      const code =
        "fn f() -> f32 {\n  return 1.0;\n}\nfn g() { let x: f32 = 1u; }\n";
      const e = await assertRejects(
        () => gpu.pipeline({ label: "broken", code }),
        WgslCompileError,
      );
      const err = e.messages.find((m) => m.type === "error")!;
      assertEquals(err.line, 4);
      assertStringIncludes(e.message, "broken:4:");
      assertStringIncludes(e.message, err.message.trim().split("\n")[0]);
      assertStringIncludes(e.message, "let x: f32 = 1u;");
    });

    it("returns the same pipeline object for the same key", async () => {
      const a = await gpu.pipeline({ label: "k", code: SHADER });
      const b = await gpu.pipeline({ label: "k again", code: SHADER });
      assertStrictEquals(a, b);
      const c = await gpu.pipeline({
        label: "k2",
        code: SHADER,
        constants: { K: 2 },
      });
      assert(a !== c, "different constants must give a different pipeline");
      const [x, y] = await Promise.all([
        gpu.pipeline({ label: "same", key: "explicit", code: SHADER }),
        gpu.pipeline({ label: "same", key: "explicit", code: SHADER }),
      ]);
      assertStrictEquals(x, y);
    });

    it("turns a validation error inside compute() into a GpuError", async () => {
      const e = await assertRejects(
        () =>
          gpu.compute("self copy", (ctx) => {
            const b = ctx.output(16);
            ctx.encoder.copyBufferToBuffer(b, 0, b, 4, 4);
            return [{ buffer: b, bytes: 16 }];
          }),
        GpuError,
        'validation error in "self copy"',
      );
      assertEquals(e.kind, "validation");
      // The runtime still works afterwards.
      const pipeline = await gpu.pipeline({ label: "k", code: SHADER });
      const [bytes] = await gpu.compute("ok", (ctx) => {
        const out = ctx.output(4);
        gpu.encodeTokens(ctx.encoder, {
          label: "ok",
          pipeline,
          T: 5,
          buffers: [{ name: "o", ref: out, bytesPerToken: 0, size: 4 }],
          workgroups: () => 1,
          params: (t) => new Uint32Array([t]),
        });
        return [{ buffer: out, bytes: 4 }];
      });
      assertEquals([...new Float32Array(bytes)], [5]);
    });

    it("checks arrays like the reference does", async () => {
      const shape = { n: 2, C: 3, T: 1 };
      await assertRejects(
        () =>
          mhcPreGpu(
            gpu,
            new Float64Array(6) as never,
            new Float32Array(2),
            shape,
          ),
        TypeError,
        "x must be a Float32Array, got Float64Array",
      );
      await assertRejects(
        () => mhcPreGpu(gpu, new Float32Array(5), new Float32Array(2), shape),
        RangeError,
        "x must have length 6 ([T, n, C] = [1, 2, 3]), got 5",
      );
      await assertRejects(
        () =>
          mhcPreGpu(gpu, new Float32Array(9), new Float32Array(9), {
            n: 9,
            C: 1,
            T: 1,
          }),
        RangeError,
        "n must be at most 8",
      );
      await assertRejects(
        () =>
          mhcPreGpu(gpu, new Float32Array(6), new Float32Array(2), {
            ...shape,
            precision: "f8" as never,
          }),
        RangeError,
        'precision must be "f32" or "f16"',
      );
      await assertRejects(
        () =>
          mhcPreGpu(gpu, new Float32Array(6), new Float32Array(2), {
            ...shape,
            T: 0,
          }),
        RangeError,
        "T must be a positive integer, got 0",
      );
    });

    it("encodes into a caller's encoder on buffers at aligned offsets", async () => {
      const n = 3, C = 8, T = 5, shape = { n, C, T };
      const a = drawInputs(11, {
        x: [T * n * C, "normal"],
        y: [T * C, "normal"],
        hPost: [T * n, "two"],
        hRes: [T * n * n, "unit"],
      });
      const align = gpu.limits.minStorageBufferOffsetAlignment;
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
        GPUBufferUsage.COPY_SRC;
      const place = (data: Float32Array) => {
        const buffer = gpu.device.createBuffer({
          size: align + data.byteLength,
          usage,
        });
        gpu.device.queue.writeBuffer(buffer, align, data);
        return { buffer, offset: align };
      };
      const out = gpu.device.createBuffer({ size: T * n * C * 4, usage });
      const encoder = gpu.device.createCommandEncoder();
      gpu.device.pushErrorScope("validation");
      await encodeMhcPost(gpu, encoder, {
        x: place(a.x),
        y: place(a.y),
        hPost: place(a.hPost),
        hRes: place(a.hRes),
        out,
      }, shape);
      gpu.device.queue.submit([encoder.finish()]);
      assertEquals(await gpu.device.popErrorScope(), null);
      const got = new Float32Array(await gpu.read(out, T * n * C * 4));
      const x64 = (v: Float32Array) => Float64Array.from(v);
      const want = mhcPost(
        x64(a.x),
        x64(a.y),
        x64(a.hPost),
        x64(a.hRes),
        shape,
      );
      const scale = mhcPost(
        x64(a.x.map(Math.abs)),
        x64(a.y.map(Math.abs)),
        x64(a.hPost),
        x64(a.hRes),
        shape,
      ).reduce((m, v) => Math.max(m, v), 0);
      assertAllClose(got, want, multilinearTolerance("f32", scale), "out");
    });

    it("rejects misaligned, small and non-storage buffers in the encode API", async () => {
      const n = 2, C = 4, T = 3, shape = { n, C, T };
      const make = (size: number, usage: number = GPUBufferUsage.STORAGE) =>
        gpu.device.createBuffer({ size, usage });
      const ok = {
        x: make(T * n * C * 4),
        y: make(T * C * 4),
        hPost: make(T * n * 4),
        hRes: make(T * n * n * 4),
        out: make(T * n * C * 4),
      };
      const enc = gpu.device.createCommandEncoder();
      await assertRejects(
        () =>
          encodeMhcPost(gpu, enc, {
            ...ok,
            x: { buffer: make(1024), offset: 4 },
          }, shape),
        RangeError,
        "x offset must be a multiple of minStorageBufferOffsetAlignment",
      );
      await assertRejects(
        () => encodeMhcPost(gpu, enc, { ...ok, y: make(8) }, shape),
        RangeError,
        "y must hold 48 bytes ([T, C] = [3, 4] as f32) from offset 0, got a buffer of 8 bytes",
      );
      await assertRejects(
        () =>
          encodeMhcPost(gpu, enc, {
            ...ok,
            out: make(96, GPUBufferUsage.COPY_DST),
          }, shape),
        TypeError,
        "out must be a GPUBuffer with STORAGE usage",
      );
      await assertRejects(
        () =>
          encodeMhcPost(gpu, enc, { ...ok, hRes: undefined as never }, shape),
        TypeError,
        "hRes must be a GPUBuffer or { buffer, offset }, got undefined",
      );
    });

    it("reduces deterministically: two runs agree bit for bit", async () => {
      const n = 4, C = 1000, T = 6, shape = { n, C, T };
      const a = drawInputs(5, {
        x: [T * n * C, "normal"],
        y: [T * C, "normal"],
        hPost: [T * n, "two"],
        hRes: [T * n * n, "unit"],
        g: [T * n * C, "normal"],
      });
      const run = () =>
        mhcPostBackwardGpu(gpu, a.x, a.y, a.hPost, a.hRes, a.g, shape);
      const [p, q] = [await run(), await run()];
      assertEquals(p.hRes, q.hRes);
      assertEquals(p.hPost, q.hPost);
    });
  },
});

describe({
  name: "the WebGPU runtime on a device it did not create",
  ignore: SKIP_GPU,
  fn() {
    let device: GPUDevice;
    beforeAll(async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      device = await adapter.requestDevice(); // default limits, no features
    });
    afterAll(() => device.destroy());

    it("refuses f16 streams without shader-f16", async () => {
      const gpu = await MhcGpu.create({ device });
      assertEquals(gpu.f16, false);
      const e = await assertRejects(
        () =>
          mhcPostGpu(
            gpu,
            new Float32Array(1),
            new Float32Array(1),
            new Float32Array(1),
            new Float32Array(1),
            {
              n: 1,
              C: 1,
              T: 1,
              precision: "f16",
            },
          ),
        GpuError,
        "shader-f16",
      );
      assertEquals(e.kind, "unsupported");
    });

    it("says which limit the post backward needs when the device lacks it", async () => {
      const gpu = await MhcGpu.create({ device });
      assert(device.limits.maxStorageBuffersPerShaderStage < 9);
      const one = new Float32Array(1);
      await assertRejects(
        () =>
          mhcPostBackwardGpu(gpu, one, one, one, one, one, {
            n: 1,
            C: 1,
            T: 1,
          }),
        GpuError,
        "maxStorageBuffersPerShaderStage >= 9",
      );
    });

    it("rejects tighter limits that are looser than the device's", async () => {
      await assertRejects(
        () =>
          MhcGpu.create({
            device,
            limits: { maxComputeWorkgroupsPerDimension: 1e9 },
          }),
        RangeError,
        "limits.maxComputeWorkgroupsPerDimension must be an integer <=",
      );
    });
  },
});

describe({
  name: "a lost device",
  ignore: SKIP_GPU,
  fn() {
    it("rejects pending and later work with a clear message", async () => {
      const gpu = await MhcGpu.create();
      const x = new Float32Array(4 * 64 * 64), h = new Float32Array(4 * 64);
      const pending = mhcPreGpu(gpu, x, h, { n: 4, C: 64, T: 64 });
      gpu.device.destroy();
      await gpu.device.lost;
      const e = await assertRejects(() => pending, GpuError);
      assertEquals(e.kind, "device-lost");
      assertStringIncludes(e.message, "WebGPU device was lost (destroyed)");
      const later = await assertRejects(
        () => mhcPreGpu(gpu, x, h, { n: 4, C: 64, T: 64 }),
        GpuError,
      );
      assertInstanceOf(later, GpuError);
      assertEquals(later.kind, "device-lost");
    });
  },
});
