// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// unrollLoops (src/gpu/specialize.ts): marked loops become copies of their
// body with the loop variable replaced by its value, inside out; the
// coefficient block kernels compile as written (loops) and unrolled, and
// the projection block gives the same bits both ways.
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { MhcGpu } from "@birkhoff/mhc";
import {
  foldConstants,
  inlineAccessors,
  unrollAndFold,
  unrollLoops,
  withConstants,
  withVectorWidth,
} from "../src/gpu/specialize.ts";
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

describe("withVectorWidth", () => {
  const code = [
    "alias XT = f32;",
    "// @vector XW begin",
    "const XW: u32 = 1u;",
    "alias XV = XT;",
    "fn at(v: XV, e: u32) -> f32 { return v; }",
    "fn pack(s: array<f32, XW>) -> XV { return s[0]; }",
    "// @vector XW end",
    "alias YV = f32;",
  ].join("\n");

  it("rewrites the block's constant, aliases and helpers for width 4", () => {
    assertEquals(
      withVectorWidth(code, "XW", 4).split("\n"),
      [
        "alias XT = f32;",
        "// @vector XW begin",
        "const XW: u32 = 4u;",
        "alias XV = vec4<XT>;",
        "fn at(v: XV, e: u32) -> f32 { return v[e]; }",
        "fn pack(s: array<f32, XW>) -> XV { return vec4(s[0], s[1], s[2], s[3]); }",
        "// @vector XW end",
        "alias YV = f32;",
      ],
    );
  });

  it("leaves width 1 as written and rejects a missing block", () => {
    assertEquals(withVectorWidth(code, "XW", 1), code);
    assertThrows(() => withVectorWidth(code, "PW", 4), Error, "@vector PW");
  });
});

/** Value of a WGSL u32 expression of literals, + * / % and parentheses. */
function evalU32(expr: string): bigint {
  const js = expr.replace(/(\d+)u\b/g, "$1n");
  if (!/^[\dn+*/%() ]+$/.test(js)) throw new Error(`not literal: ${expr}`);
  return new Function(`return (${js}) % 4294967296n;`)() as bigint;
}

/** A random expression of u32 literals with + * / % and parentheses. */
function randomExpr(r: ReturnType<typeof rng>, depth: number): string {
  if (depth === 0 || r.uniform() < 0.3) {
    return `${Math.floor(r.uniform() * 40) + 1}u`;
  }
  const op = ["+", "*", "/", "%"][Math.floor(r.uniform() * 4)];
  const a = randomExpr(r, depth - 1);
  // Divisors are literals (never 0), so every expression has a value.
  const b = op === "/" || op === "%"
    ? `${Math.floor(r.uniform() * 9) + 1}u`
    : randomExpr(r, depth - 1);
  const e = `${a} ${op} ${b}`;
  return r.uniform() < 0.5 ? `(${e})` : e;
}

describe("foldConstants", () => {
  it("folds literal arithmetic to the value WGSL gives it", () => {
    const r = rng(11);
    let folded = 0;
    for (let i = 0; i < 400; i++) {
      const e = randomExpr(r, 4);
      const line = foldConstants(`  let y = a[${e}];`, {});
      const m = /^ {2}let y = a\[(.*)\];$/.exec(line);
      assertEquals(m !== null, true, line);
      assertEquals(evalU32(m![1]), evalU32(e), `${e} → ${m![1]}`);
      if (/^\d+u$/.test(m![1])) folded++;
    }
    // Most random expressions fold to one literal; the rest keep an order
    // of operations that folding would change.
    assertEquals(folded > 300, true, `${folded} of 400 folded`);
  });

  it("folds each case to the expected text", () => {
    const cases: [string, string][] = [
      ["2u * 4u + 3u", "11u"],
      ["(1u * 8u + 2u) * XW + 1u", "41u"],
      ["12u / 2u * 3u", "18u"],
      ["3u * (2u + 1u)", "9u"],
      ["x + 2u + 3u", "x + 5u"],
      ["x * 2u * 3u", "x * 2u * 3u"],
      ["x - 2u + 3u", "x - 2u + 3u"],
      ["x / 2u * 3u", "x / 2u * 3u"],
      ["f32(3u)", "f32(3u)"],
      ["s.XW + XW", "s.XW + 4u"],
    ];
    for (const [e, want] of cases) {
      const code = `const XW: u32 = 4u;\n  y = ${e};`;
      assertEquals(
        foldConstants(code, { XW: 4 }),
        `const XW: u32 = 4u;\n  y = ${want};`,
      );
    }
  });

  it("replaces u32 constants outside declarations and comments only", () => {
    const code = [
      "const XW: u32 = 4u;",
      "const S: f32 = 2.0;",
      "// XW per load",
      "var<private> a: array<f32, XW * 2u>;",
      "  y = S * x;",
    ].join("\n");
    assertEquals(foldConstants(code, { XW: 4, S: 2 }).split("\n"), [
      "const XW: u32 = 4u;",
      "const S: f32 = 2.0;",
      "// XW per load",
      "var<private> a: array<f32, 8u>;",
      "  y = S * x;",
    ]);
  });

  it("substitutes a literal let inside its block and not after it", () => {
    const code = [
      "{",
      "  let ci = 3u;",
      "  a[ci * 2u] = b[ci];",
      "}",
      "a[ci] = 0.0;",
    ].join("\n");
    assertEquals(foldConstants(code, {}).split("\n"), [
      "{",
      "  a[6u] = b[3u];",
      "}",
      "a[ci] = 0.0;",
    ]);
  });
  it("lets an inner declaration hide an outer literal let", () => {
    const code = [
      "{",
      "  let c = 3u;",
      "  {",
      "    let c = w + c;",
      "    a[c] = 0.0;",
      "  }",
      "  {",
      "    let c = 5u;",
      "    a[c * 2u] = 0.0;",
      "  }",
      "  b[c] = 1.0;",
      "}",
    ].join("\n");
    assertEquals(foldConstants(code, {}).split("\n"), [
      "{",
      "  {",
      "    let c = w + 3u;",
      "    a[c] = 0.0;",
      "  }",
      "  {",
      "    a[10u] = 0.0;",
      "  }",
      "  b[3u] = 1.0;",
      "}",
    ]);
  });

  it("keeps declared names: members, parameters and lets", () => {
    const code = [
      "const XW: u32 = 4u;",
      "struct S {",
      "  XW: u32,",
      "}",
      "fn f(XW: u32) {}",
      "  y = s.XW * XW;",
    ].join("\n");
    assertEquals(foldConstants(code, { XW: 4 }).split("\n"), [
      "const XW: u32 = 4u;",
      "struct S {",
      "  XW: u32,",
      "}",
      "fn f(XW: u32) {}",
      "  y = s.XW * 4u;",
    ]);
  });
});

describe("inlineAccessors", () => {
  it("replaces accessor and packer calls by their bodies", () => {
    const code = [
      "fn at(v: vec4<f32>, e: u32) -> f32 { return v[e]; }",
      "fn pack(s: array<f32, XW>) -> vec4<f32> { return vec4(s[0], s[1], s[2], s[3]); }",
      "fn id(v: f32, e: u32) -> f32 { return v; }",
      "  y = at(q, 2u) + id(f, 0u);",
      "  o = pack(acc);",
    ].join("\n");
    const out = inlineAccessors(code).split("\n");
    assertEquals(out.slice(3), [
      "  y = (q[2u]) + (f);",
      "  o = (vec4(acc[0], acc[1], acc[2], acc[3]));",
    ]);
    // The helpers stay defined.
    assertEquals(out.slice(0, 3), code.split("\n").slice(0, 3));
  });
});

/**
 * The constants, loop bounds and vector blocks of the block kernels for
 * n = 2 (K = 8; rows of `saved` and of the scratch: 24 floats, p and g_p at
 * 12, Σv² and the coefficient of v at 20).
 */
const N = 2, K = 8, KQ = 2, CB = 32, CH = 16;
const KERNELS: {
  name: string;
  code: string;
  constants: Record<string, number>;
  loops: Record<string, number>;
  vectors: string[];
}[] = [
  {
    name: "coefficients_project",
    code: coefficientsProjectWgsl,
    constants: {
      N,
      CO_WG: 64,
      CO_CB: CB,
      CO_CH: CH,
      CO_KG: K,
      SAVED_W: 24,
      P_OFF: 12,
      SQ_OFF: 20,
    },
    loops: {
      K,
      KQ,
      CO_SB: CB / CH,
      CO_CH: CH,
      CO_CQ: CH,
      CO_KG: K,
      CO_GN: 1,
      CO_PQ: K,
      CO_SQ: CB * K / 64,
      XW: 1,
      PW: 1,
    },
    vectors: ["XW", "PW"],
  },
  {
    name: "coefficients_grad_x",
    code: coefficientsGradXWgsl,
    constants: {
      N,
      CO_WG: 64,
      CO_CB: CB,
      CB_ACCUMULATE: 0,
      SCRATCH_W: 24,
      G_OFF: 12,
      COEF_OFF: 20,
    },
    loops: { K, KQ, CO_CB: CB, CO_CQ: CB, CB_PQ: K, XW: 1, PW: 1 },
    vectors: ["XW", "PW"],
  },
  {
    name: "coefficients_grad_phi",
    code: coefficientsGradPhiWgsl,
    constants: {
      N,
      GP_WG: 32,
      GP_TB: CB,
      GP_TC: CH,
      SCRATCH_W: 24,
      G_OFF: 12,
    },
    loops: {
      K,
      KQ,
      GQ: K,
      GPQ: KQ * 4,
      GP_SB: CB / CH,
      GP_TC: CH,
      GW: 1,
      GPW: 1,
    },
    vectors: ["GW", "GPW"],
  },
];

/** The kernel with every vector block at width 4, and its loop bounds. */
function vec4Of(k: (typeof KERNELS)[number]) {
  let code = withConstants(k.code, k.constants);
  for (const v of k.vectors) code = withVectorWidth(code, v, 4);
  const loops = { ...k.loops };
  for (const v of k.vectors) loops[v] = 4;
  if ("CO_CQ" in loops) loops.CO_CQ /= 4;
  if ("CO_PQ" in loops) loops.CO_PQ /= 4;
  if ("CO_SQ" in loops) loops.CO_SQ = Math.ceil(loops.CO_SQ / 4);
  if ("CB_PQ" in loops) loops.CB_PQ /= 4;
  if ("GQ" in loops) loops.GQ /= 4;
  if ("GPQ" in loops) loops.GPQ /= 4;
  return { code, loops };
}

describe({
  name: "the coefficient block kernels",
  ignore: SKIP_GPU,
  fn() {
    it("compile as written, unrolled and folded, scalar and vec4", async () => {
      const device = await requireDevice();
      for (const k of KERNELS) {
        const looped = withConstants(k.code, k.constants);
        const v4 = vec4Of(k);
        for (
          const code of [
            looped,
            unrollLoops(looped, k.loops),
            unrollAndFold(looped, k.loops, k.constants),
            v4.code,
            unrollLoops(v4.code, v4.loops),
            unrollAndFold(v4.code, v4.loops, k.constants),
          ]
        ) {
          const info = await device.createShaderModule({ code })
            .getCompilationInfo();
          const errors = info.messages.filter((m) => m.type === "error");
          assertEquals(errors.map((m) => m.message), [], k.name);
        }
      }
    });

    it("give the same bits as written, unrolled and folded (projection block)", async () => {
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
      const c = await run(
        unrollAndFold(looped, k.loops, k.constants),
        "test|project folded",
      );
      assertEquals([...a], [...c]);
      // The sums really ran: token 0's p is not all zero.
      assertEquals(a.slice(12, 12 + K).some((v) => v !== 0), true);
      gpu.destroy();
    });
  },
});
