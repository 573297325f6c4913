// Copyright 2026 the @birkhoff/mhc authors. MIT license.
import { assertEquals } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { requireDevice, SKIP_GPU, withErrorScopes } from "./_gpu.ts";

// A trivial kernel: out[i] = in[i] * 2 + i, over a size that is not a
// multiple of the workgroup size, so that the bounds check is exercised.
const SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < arrayLength(&dst)) {
    dst[i] = src[i] * 2.0 + f32(i);
  }
}
`;

describe({
  name: "WebGPU smoke test",
  ignore: SKIP_GPU,
  fn() {
    it("dispatches a trivial kernel and checks every output element", async () => {
      const device = await requireDevice();
      const N = 1000; // 15.6 workgroups of 64: the tail is partial
      const input = new Float32Array(N).map((_, i) => (i % 17) - 8.5);
      const out = await withErrorScopes(device, async () => {
        const module = device.createShaderModule({ code: SHADER });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === "error");
        assertEquals(errors.map((m) => m.message), []);
        const pipeline = device.createComputePipeline({
          layout: "auto",
          compute: { module, entryPoint: "main" },
        });
        const src = device.createBuffer({
          size: N * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        });
        // One element more than N, bound as N elements and filled with a
        // sentinel: the element past the binding must stay untouched.
        const dst = device.createBuffer({
          size: (N + 1) * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
            GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(dst, 0, new Float32Array(N + 1).fill(-7));
        const read = device.createBuffer({
          size: (N + 1) * 4,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(src, 0, input);
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(
          0,
          device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: src } },
              { binding: 1, resource: { buffer: dst, size: N * 4 } },
            ],
          }),
        );
        pass.dispatchWorkgroups(Math.ceil(N / 64));
        pass.end();
        enc.copyBufferToBuffer(dst, 0, read, 0, (N + 1) * 4);
        device.queue.submit([enc.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        const result = new Float32Array(read.getMappedRange()).slice();
        read.unmap();
        for (const b of [src, dst, read]) b.destroy();
        return result;
      });
      for (let i = 0; i < N; i++) {
        const want = Math.fround(Math.fround(input[i] * 2) + i);
        assertEquals(out[i], want, `element ${i}`);
      }
      assertEquals(out[N], -7, "element past the binding was written");
    });
  },
});
