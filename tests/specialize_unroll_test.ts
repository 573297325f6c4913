// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// unrollLoops (src/gpu/specialize.ts): marked loops become copies of their
// body with the loop variable replaced by its value, inside out; the
// coefficient block kernels compile as written (loops) and unrolled, and
// the projection block gives the same bits both ways.
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { MhcGpu } from "@birkhoff/mhc";
import { unrollLoops, withConstants } from "../src/gpu/specialize.ts";
import { coefficientsProjectWgsl } from "../src/kernels/coefficients_project.ts";
import { coefficientsGradXWgsl } from "../src/kernels/coefficients_grad_x.ts";
import { coefficientsGradPhiWgsl } from "../src/kernels/coefficients_grad_phi.ts";
import { requireDevice, SKIP_GPU, withErrorScopes } from "./_gpu.ts";
import { rng } from "./_rand.ts";

describe("unrollLoops", () => {
  it("replaces a marked loop by one braced copy of its body per trip", () => {
    const code = [
      "fn f() {",
      "  // @unroll",
      "  for (var i = 0u; i < B; i++) {",
      "    a[i] = i + ix;",
      "  }",
      "}",
    ].join("\n");
    assertEquals(
      unrollLoops(code, { B: 2 }),
      [
        "fn f() {",
        "  {",
        "    a[0u] = 0u + ix;",
        "  }",
        "  {",
        "    a[1u] = 1u + ix;",
        "  }",
        "}",
      ].join("\n"),
    );
  });

  it("unrolls nested marked loops and leaves unmarked ones alone", () => {
    const code = [
      "// @unroll",
      "for (var i = 0u; i < 2u; i++) {",
      "  // @unroll",
      "  for (var j = 0u; j < J; j++) {",
      "    s += m[i][j];",
      "  }",
      "  for (var k = 0u; k < 9u; k++) {",
      "    s += 1.0;",
      "  }",
      "}",
    ].join("\n");
    const out = unrollLoops(code, { J: 3 });
    for (const i of [0, 1]) {
      for (const j of [0, 1, 2]) assertStringIncludes(out, `m[${i}u][${j}u]`);
    }
    assertEquals(out.match(/for \(var k/g)?.length, 2);
    assertEquals(out.includes("@unroll"), false);
  });

  it("rejects a marker without a loop of the supported form, and unknown bounds", () => {
    assertThrows(
      () => unrollLoops("// @unroll\nlet x = 1;", {}),
      Error,
      "must precede",
    );
    assertThrows(
      () => unrollLoops("// @unroll\nfor (var i = 0u; i < Q; i++) {\n}", {}),
      Error,
      "bound Q has no value",
    );
    assertThrows(
      () => unrollLoops("// @unroll\nfor (var i = 0u; i < 2u; i++) {\n", {}),
      Error,
      "does not close",
    );
  });
});

/** The constants and loop bounds of the block kernels for n = 2 (K = 8). */
const N = 2, K = 8, CB = 32, CH = 16;
const KERNELS: {
  name: string;
  code: string;
  constants: Record<string, number>;
  loops: Record<string, number>;
}[] = [
  {
    name: "coefficients_project",
    code: coefficientsProjectWgsl,
    constants: { N, CO_WG: 64, CO_CB: CB, CO_CH: CH },
    loops: { K, CO_SB: CB / CH, CO_CH: CH },
  },
  {
    name: "coefficients_grad_x",
    code: coefficientsGradXWgsl,
    constants: { N, CO_WG: 64, CO_CB: CB, CB_ACCUMULATE: 0 },
    loops: { K, CO_CB: CB },
  },
  {
    name: "coefficients_grad_phi",
    code: coefficientsGradPhiWgsl,
    constants: { N, GP_WG: 32, GP_TB: CB, GP_TC: CH },
    loops: { K, GP_SB: CB / CH, GP_TC: CH },
  },
];

describe({
  name: "the coefficient block kernels",
  ignore: SKIP_GPU,
  fn() {
    it("compile as written and unrolled", async () => {
      const device = await requireDevice();
      for (const k of KERNELS) {
        const looped = withConstants(k.code, k.constants);
        for (const code of [looped, unrollLoops(looped, k.loops)]) {
          const info = await device.createShaderModule({ code })
            .getCompilationInfo();
          const errors = info.messages.filter((m) => m.type === "error");
          assertEquals(errors.map((m) => m.message), [], k.name);
        }
      }
    });

    it("give the same bits as written and unrolled (projection block)", async () => {
      const device = await requireDevice();
      const gpu = await MhcGpu.create({ device });
      const T = 70, nc = 2 * 23, rows = 23, SW = 24; // a short last block
      const r = rng(5);
      const x = Float32Array.from(r.normals(T * nc));
      const phi = Float32Array.from(r.normals(rows * K));
      const k = KERNELS[0];
      const looped = withConstants(k.code, k.constants);
      const run = (code: string, key: string) =>
        withErrorScopes(device, async () => {
          const pipeline = await gpu.pipeline({
            label: key,
            code,
            entryPoint: k.name,
            key,
          });
          const [saved] = await gpu.compute(key, (ctx) => {
            const out = ctx.output(T * SW * 4, "saved");
            gpu.encodeTokens(ctx.encoder, {
              label: key,
              pipeline,
              T,
              buffers: [
                { name: "x", ref: ctx.upload(x), bytesPerToken: nc * 4 },
                {
                  name: "phi",
                  ref: ctx.upload(phi),
                  bytesPerToken: 0,
                  size: rows * K * 4,
                },
                { name: "saved", ref: out, bytesPerToken: SW * 4 },
              ],
              workgroups: (t) => Math.ceil(t / 64),
              params: (t) => new Uint32Array([t, nc, nc - rows, rows, 1]),
            });
            return [{ buffer: out, bytes: T * SW * 4 }];
          });
          return new Uint32Array(saved);
        });
      const a = await run(looped, "test|project looped");
      const b = await run(
        unrollLoops(looped, k.loops),
        "test|project unrolled",
      );
      assertEquals([...a], [...b]);
      // The sums really ran: token 0's p is not all zero.
      assertEquals(a.slice(K + 1, 2 * K + 1).some((v) => v !== 0), true);
      gpu.destroy();
    });
  },
});
