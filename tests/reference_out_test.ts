// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The reference ops' optional output arrays (`out`) and float64 workspaces:
// results written into them equal the allocating call bit for bit, the
// supplied arrays are returned, bad ones are rejected with a message naming
// them, and calls that supply everything construct no float array at all.
import { assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  expandStreams,
  expandStreamsBackward,
  type FloatArray,
  hcCoefficients,
  hcCoefficientsBackward,
  mhcCoefficients,
  mhcCoefficientsBackward,
  mhcPost,
  mhcPostBackward,
  mhcPre,
  mhcPreBackward,
  reduceStreams,
  reduceStreamsBackward,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { countFloatArrays } from "./_alloc_spy.ts";
import { rng } from "./_rand.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
type Outs = Record<string, FloatArray>;

/** The raw bits of an array, so that comparisons are bit for bit. */
function bits(a: FloatArray): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4));
}

/** Arrays of the given lengths, filled with NaN (stale garbage). */
function garbage(ctor: Ctor, lengths: Record<string, number>): Outs {
  return Object.fromEntries(
    Object.entries(lengths).map(([k, len]) => [k, new ctor(len).fill(NaN)]),
  );
}

interface Case {
  /** Name of the op. */
  op: string;
  /** Lengths of the outputs; `""` is a single-array output. */
  outs: Record<string, number>;
  /** Float64 workspace length, if the op takes one. */
  workspace?: number;
  /** Calls the op, with `options` merged into its options. */
  call(options: Any): Any;
}

/** Every op, on random data of one size and element type. */
function cases(ctor: Ctor, n: number, C: number, T: number): Case[] {
  const r = rng(n * 1000 + C * 10 + T);
  const rand = (len: number, scale = 1) => ctor.from(r.normals(len, scale));
  const K = n * n + 2 * n, s = { n, C, T };
  const x = rand(T * n * C), y = rand(T * C);
  const hPre = rand(T * n), hPost = rand(T * n), hRes = rand(T * n * n);
  const gU = rand(T * C), gOut = rand(T * n * C);
  const gHPre = rand(T * n), gHPost = rand(T * n), gHRes = rand(T * n * n);
  const logits = rand(T * n * n, 2);
  const sk = { n, T, iterations: 7, eps: 1e-3, tolerance: 1e-4 };
  const mhcParams = {
    phi: rand(n * C * K, 0.1),
    bias: rand(K),
    alphaPre: 0.7,
    alphaPost: 0.3,
    alphaRes: 1.1,
  };
  const hcParams = {
    theta: rand((n + 2) * C, 0.3),
    bias: rand(K),
    alphaPre: 0.7,
    alphaPost: 0.3,
    alphaRes: 1.1,
  };
  const mhcOpts = { ...s, iterations: 6 };
  const mhcFwd = mhcCoefficients(x, mhcParams, mhcOpts);
  const hcFwd = hcCoefficients(x, hcParams, s);
  const grads = { hPre: gHPre, hPost: gHPost, hRes: gHRes };
  const coefOuts = (invRms: number) => ({
    hPre: T * n,
    hPost: T * n,
    hRes: T * n * n,
    logits: T * K,
    invRms,
  });
  return [
    {
      op: "mhcPre",
      outs: { "": T * C },
      call: (o) => mhcPre(x, hPre, { ...s, ...o }),
    },
    {
      op: "mhcPreBackward",
      outs: { x: T * n * C, hPre: T * n },
      call: (o) => mhcPreBackward(x, hPre, gU, { ...s, ...o }),
    },
    {
      op: "mhcPost",
      outs: { "": T * n * C },
      call: (o) => mhcPost(x, y, hPost, hRes, { ...s, ...o }),
    },
    {
      op: "mhcPostBackward",
      outs: { x: T * n * C, y: T * C, hPost: T * n, hRes: T * n * n },
      call: (o) => mhcPostBackward(x, y, hPost, hRes, gOut, { ...s, ...o }),
    },
    {
      op: "sinkhornKnopp",
      outs: { "": T * n * n },
      call: (o) => sinkhornKnopp(logits, { ...sk, ...o }),
    },
    {
      op: "sinkhornKnoppBackward",
      outs: { "": T * n * n },
      call: (o) => sinkhornKnoppBackward(logits, gHRes, { ...sk, ...o }),
    },
    {
      op: "mhcCoefficients",
      outs: coefOuts(T),
      call: (o) => mhcCoefficients(x, mhcParams, { ...mhcOpts, ...o }),
    },
    {
      op: "mhcCoefficientsBackward",
      outs: { x: T * n * C, phi: n * C * K, bias: K },
      workspace: n * C * K,
      call: (o) =>
        mhcCoefficientsBackward(x, mhcParams, mhcFwd, grads, {
          ...mhcOpts,
          ...o,
        }),
    },
    {
      op: "hcCoefficients",
      outs: coefOuts(T * n),
      call: (o) => hcCoefficients(x, hcParams, { ...s, ...o }),
    },
    {
      op: "hcCoefficientsBackward",
      outs: { x: T * n * C, theta: (n + 2) * C, bias: K },
      workspace: (n + 3) * C,
      call: (o) =>
        hcCoefficientsBackward(x, hcParams, hcFwd, grads, { ...s, ...o }),
    },
    {
      op: "expandStreams",
      outs: { "": T * n * C },
      call: (o) => expandStreams(y, { ...s, ...o }),
    },
    {
      op: "expandStreamsBackward",
      outs: { "": T * C },
      call: (o) => expandStreamsBackward(gOut, { ...s, ...o }),
    },
    {
      op: "reduceStreams",
      outs: { "": T * C },
      call: (o) => reduceStreams(x, { ...s, ...o }),
    },
    {
      op: "reduceStreamsBackward",
      outs: { "": T * n * C },
      call: (o) => reduceStreamsBackward(gU, { ...s, ...o }),
    },
  ];
}

/** The `out` option of a case from named arrays. */
function outOption(outs: Outs): Any {
  return "" in outs ? outs[""] : outs;
}

/** Checks that `got` holds the outputs `outs` and equals `want` bit for bit. */
function assertSameResult(got: Any, want: Any, outs: Outs): void {
  if ("" in outs) {
    assertStrictEquals(got, outs[""]);
    assertEquals(bits(got), bits(want));
    return;
  }
  for (const key of Object.keys(want)) {
    if (typeof want[key] === "number") {
      assertEquals(got[key], want[key], key);
    } else {
      if (key in outs) assertStrictEquals(got[key], outs[key], key);
      assertEquals(bits(got[key]), bits(want[key]), key);
    }
  }
}

const SIZES = [
  { n: 3, C: 7, T: 5 },
  { n: 4, C: 13, T: 9 },
  { n: 1, C: 5, T: 3 },
];

for (const ctor of [Float32Array, Float64Array] as Ctor[]) {
  describe(`the reference ops with supplied ${ctor.name} outputs`, () => {
    for (const { n, C, T } of SIZES) {
      it(`return those outputs, equal to the allocating call bit for bit, at n = ${n}, C = ${C}, T = ${T}`, () => {
        for (const c of cases(ctor, n, C, T)) {
          const want = c.call({});
          const outs = garbage(ctor, c.outs);
          const options: Any = { out: outOption(outs) };
          if (c.workspace) {
            options.workspace = new Float64Array(c.workspace).fill(NaN);
          }
          // Twice: the second call reuses outputs full of the first's results.
          assertSameResult(c.call(options), want, outs);
          assertSameResult(c.call(options), want, outs);
        }
      });
    }

    it("fill only the outputs given and allocate the others", () => {
      for (const c of cases(ctor, 3, 7, 5)) {
        const keys = Object.keys(c.outs);
        if (keys.length < 2) continue;
        const want = c.call({});
        const outs = garbage(ctor, { [keys[1]]: c.outs[keys[1]] });
        const got = c.call({ out: outs });
        assertSameResult(got, want, outs);
      }
    });

    it("construct no float array when every output and workspace is supplied", async () => {
      for (const c of cases(ctor, 3, 7, 5)) {
        const outs = garbage(ctor, c.outs);
        const options: Any = { out: outOption(outs) };
        if (c.workspace) options.workspace = new Float64Array(c.workspace);
        c.call(options); // the first call may size the O(n²) scratch
        const made = await countFloatArrays(() => c.call(options));
        assertEquals(made, [], c.op);
      }
    });
  });
}

describe("a supplied output of the wrong kind", () => {
  const n = 3, C = 7, T = 5;
  for (const c of cases(Float32Array, n, C, T)) {
    const [key, length] = Object.entries(c.outs)[0];
    const name = key === "" ? "out" : `out.${key}`;
    const wrap = (a: unknown) => ({ out: key === "" ? a : { [key]: a } });
    it(`is rejected by ${c.op}: wrong length is a RangeError naming ${name} and its length`, () => {
      const e = assertThrows(
        () => c.call(wrap(new Float32Array(length + 1))),
        RangeError,
      );
      assertEquals(
        e.message.startsWith(`${name} must have length ${length} (`),
        true,
        e.message,
      );
      assertEquals(e.message.endsWith(`), got ${length + 1}`), true);
    });
    it(`is rejected by ${c.op}: wrong type is a TypeError naming ${name}`, () => {
      const like = c.op.startsWith("sinkhorn")
        ? "logits"
        : c.op === "expandStreams"
        ? "embedding"
        : c.op === "expandStreamsBackward"
        ? "gradX"
        : c.op === "reduceStreamsBackward"
        ? "gradY"
        : "x";
      for (
        const [bad, got] of [
          [new Float64Array(length), "Float64Array"],
          [new Array(length).fill(0), "Array"],
          [new Uint8Array(length), "Uint8Array"],
        ] as const
      ) {
        assertThrows(
          () => c.call(wrap(bad)),
          TypeError,
          `${name} must be a Float32Array like ${like}, got ${got}`,
        );
      }
    });
  }
});

describe("outputs that share memory", () => {
  const n = 3, C = 7, T = 5;
  const r = rng(3);
  const rand = (len: number) => Float32Array.from(r.normals(len));
  const s = { n, C, T };

  it("are rejected when an output overlaps an input", () => {
    const x = rand(T * n * C), y = rand(T * C);
    const hPost = rand(T * n), hRes = rand(T * n * n);
    assertThrows(
      () => mhcPost(x, y, hPost, hRes, { ...s, out: x }),
      RangeError,
      "out must not share memory with x",
    );
    // A view that overlaps the input by one element.
    const big = new Float32Array(T * C + T * n);
    const gradU = big.subarray(0, T * C);
    const hPreGrad = big.subarray(T * C - 1, T * C - 1 + T * n);
    assertThrows(
      () =>
        mhcPreBackward(x, rand(T * n), gradU, {
          ...s,
          out: { hPre: hPreGrad },
        }),
      RangeError,
      "out.hPre must not share memory with gradU",
    );
    // Disjoint views of one buffer are fine.
    const hPre = rand(T * n);
    const both = new Float32Array(T * n * C + T * C);
    const xv = both.subarray(0, T * n * C), uv = both.subarray(T * n * C);
    xv.set(x);
    assertStrictEquals(mhcPre(xv, hPre, { ...s, out: uv }), uv);
    assertEquals(bits(uv), bits(mhcPre(x, hPre, s)));
  });

  it("are rejected when two outputs overlap", () => {
    const x = rand(T * n * C), y = rand(T * C);
    const hPost = rand(T * n), hRes = rand(T * n * n);
    const shared = new Float32Array(T * n * C);
    assertThrows(
      () =>
        mhcPostBackward(x, y, hPost, hRes, rand(T * n * C), {
          ...s,
          out: { x: shared, y: shared.subarray(0, T * C) },
        }),
      RangeError,
      "out.y must not share memory with out.x",
    );
  });

  it("are allowed for Sinkhorn when the output is exactly the logits or the upstream gradient", () => {
    const logits = rand(T * n * n), up = rand(T * n * n);
    const o = { n, T, iterations: 9 };
    const want = sinkhornKnopp(logits, o);
    const wantGrad = sinkhornKnoppBackward(logits, up, o);
    const l2 = logits.slice(), u2 = up.slice();
    assertEquals(
      bits(sinkhornKnoppBackward(l2, u2, { ...o, out: u2 })),
      bits(wantGrad),
    );
    const l3 = logits.slice();
    assertEquals(
      bits(sinkhornKnoppBackward(l3, up, { ...o, out: l3 })),
      bits(wantGrad),
    );
    assertEquals(bits(sinkhornKnopp(l2, { ...o, out: l2 })), bits(want));
  });

  it("are rejected for Sinkhorn when the output overlaps the logits only in part", () => {
    const buf = new Float32Array(T * n * n + 1);
    const logits = buf.subarray(0, T * n * n);
    const out = buf.subarray(1);
    assertThrows(
      () => sinkhornKnopp(logits, { n, T, out }),
      RangeError,
      "out must not share memory with logits",
    );
  });
});

describe("a float64 workspace of the wrong kind", () => {
  const n = 3, C = 7, T = 5;
  for (const c of cases(Float32Array, n, C, T)) {
    if (!c.workspace) continue;
    it(`is rejected by ${c.op} with a message naming its length`, () => {
      assertThrows(
        () => c.call({ workspace: new Float32Array(c.workspace!) }),
        TypeError,
        "workspace must be a Float64Array, got Float32Array",
      );
      const e = assertThrows(
        () => c.call({ workspace: new Float64Array(c.workspace! - 1) }),
        RangeError,
      );
      assertEquals(
        e.message.startsWith(`workspace must have length ${c.workspace} (`),
        true,
        e.message,
      );
    });
  }
});
