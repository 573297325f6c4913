// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Bad input to every public reference function: each throws a RangeError or
// TypeError whose message names the argument and the expected size. And what
// NaN in the data does, as the JSDoc documents it.
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import * as reference from "../src/reference/mod.ts";
import {
  amaxGain,
  expandStreams,
  expandStreamsBackward,
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
  sinkhornIterationCounts,
  sinkhornKnopp,
  sinkhornKnoppBackward,
} from "@birkhoff/mhc";
import { rng } from "./_rand.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const T = 2, n = 3, C = 4, K = n * n + 2 * n;
const TNC = "[T, n, C] = [2, 3, 4]";
const r = rng(1);
const f64 = (len: number) => r.normals(len);
const shape = () => ({ n, C, T });

/** Valid arguments of every public function, rebuilt for each case. */
function valid() {
  const x = f64(T * n * C);
  const mhcParams = {
    phi: f64(n * C * K),
    bias: f64(K),
    alphaPre: 0.5,
    alphaPost: 0.5,
    alphaRes: 0.5,
  };
  const hcParams = {
    theta: f64((n + 2) * C),
    bias: f64(K),
    alphaPre: 0.5,
    alphaPost: 0.5,
    alphaRes: 0.5,
  };
  const coefGrads = {
    hPre: f64(T * n),
    hPost: f64(T * n),
    hRes: f64(T * n * n),
  };
  return {
    x,
    logits: f64(T * n * n),
    gradH: f64(T * n * n),
    mhcParams,
    mhcFwd: mhcCoefficients(x, mhcParams, shape()),
    hcParams,
    hcFwd: hcCoefficients(x, hcParams, shape()),
    coefGrads,
    hPre: f64(T * n),
    hPost: f64(T * n),
    hRes: f64(T * n * n),
    y: f64(T * C),
    gradU: f64(T * C),
    gradOut: f64(T * n * C),
    sites: [f64(T * n * n), f64(T * n * n)],
  };
}
type Args = ReturnType<typeof valid>;

/** The options a case gives, or the valid ones (`null` is a bad option). */
const or = (o: Any, fallback: Any): Any => (o === undefined ? fallback : o);

/** One call of each public function, from (possibly edited) arguments. */
const CALLS: Record<string, (a: Args, o: Any) => unknown> = {
  sinkhornKnopp: (a, o) => sinkhornKnopp(a.logits, or(o, { n, T })),
  sinkhornKnoppBackward: (a, o) =>
    sinkhornKnoppBackward(a.logits, a.gradH, or(o, { n, T })),
  sinkhornIterationCounts: (a, o) =>
    sinkhornIterationCounts(a.logits, or(o, { n, T })),
  mhcCoefficients: (a, o) => mhcCoefficients(a.x, a.mhcParams, or(o, shape())),
  mhcCoefficientsBackward: (a, o) =>
    mhcCoefficientsBackward(
      a.x,
      a.mhcParams,
      a.mhcFwd,
      a.coefGrads,
      or(o, shape()),
    ),
  mhcPre: (a, o) => mhcPre(a.x, a.hPre, or(o, shape())),
  mhcPreBackward: (a, o) =>
    mhcPreBackward(a.x, a.hPre, a.gradU, or(o, shape())),
  mhcPost: (a, o) => mhcPost(a.x, a.y, a.hPost, a.hRes, or(o, shape())),
  mhcPostBackward: (a, o) =>
    mhcPostBackward(a.x, a.y, a.hPost, a.hRes, a.gradOut, or(o, shape())),
  hcCoefficients: (a, o) => hcCoefficients(a.x, a.hcParams, or(o, shape())),
  hcCoefficientsBackward: (a, o) =>
    hcCoefficientsBackward(
      a.x,
      a.hcParams,
      a.hcFwd,
      a.coefGrads,
      or(o, shape()),
    ),
  expandStreams: (a, o) => expandStreams(a.y, or(o, shape())),
  expandStreamsBackward: (a, o) =>
    expandStreamsBackward(a.gradOut, or(o, shape())),
  reduceStreams: (a, o) => reduceStreams(a.x, or(o, shape())),
  reduceStreamsBackward: (a, o) =>
    reduceStreamsBackward(a.gradU, or(o, shape())),
  amaxGain: (a, o) => amaxGain(a.sites, or(o, { n, T })),
};

/** A bad-input case: how to break the arguments, and the error expected. */
interface Case {
  /** Edits the valid arguments in place; may return options to pass. */
  edit: (a: Args) => unknown;
  error: typeof RangeError | typeof TypeError;
  message: string;
}

/** Where an array argument sits in {@linkcode Args}, e.g. `["mhcParams", "phi"]`. */
type Path = readonly (string | number)[];

/** Replaces the array at `path` in the arguments. */
function setAt(a: Args, path: Path, v: unknown): void {
  let o: Any = a;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = v;
}

/** The array at `path` in the arguments. */
function getAt(a: Args, path: Path): Float64Array {
  let o: Any = a;
  for (const k of path) o = o[k];
  return o;
}

/** Wrong length of the argument called `name` at `path`: `len`, `layout`. */
function wrongLength(
  name: string,
  path: Path,
  len: number,
  layout: string,
): Case[] {
  return [len - 1, len + 1, 0].map((bad) => ({
    edit: (a) => setAt(a, path, new Float64Array(bad).fill(getAt(a, path)[0])),
    error: RangeError,
    message: `${name} must have length ${len} (${layout}), got ${bad}`,
  }));
}

/**
 * Not a typed array, and (unless `like` is null) the other float type than
 * the argument called `like`.
 */
function wrongType(
  name: string,
  path: Path,
  len: number,
  like: string | null,
): Case[] {
  const bad = (v: unknown, got: string): Case => ({
    edit: (a) => setAt(a, path, v),
    error: TypeError,
    message: `${name} must be a Float32Array or Float64Array, got ${got}`,
  });
  const cases: Case[] = [
    bad(Array.from({ length: len }, () => 0.5), "Array"),
    bad(new Int32Array(len), "Int32Array"),
    bad(undefined, "undefined"),
  ];
  if (like !== null) {
    cases.push({
      edit: (a) => setAt(a, path, new Float32Array(len)),
      error: TypeError,
      message: `${name} must be a Float64Array like ${like}, got Float32Array`,
    });
  }
  return cases;
}

/** Both kinds of bad array for one argument. */
function arrayArg(
  name: string,
  path: Path,
  len: number,
  layout: string,
  like: string | null = "x",
): Case[] {
  return [
    ...wrongLength(name, path, len, layout),
    ...wrongType(name, path, len, like),
  ];
}

/** Bad sizes `n`, `C`, `T` (zero, fractional, negative, NaN, missing, string). */
function badSizes(
  base: Record<string, number>,
  names: string[],
): Case[] {
  const out: Case[] = [];
  for (const name of names) {
    for (const bad of [0, 2.5, -1, NaN, Infinity, undefined, "3"]) {
      out.push({
        edit: () => ({ ...base, [name]: bad }),
        error: RangeError,
        message: `${name} must be a positive integer, got ${String(bad)}`,
      });
    }
  }
  out.push({
    edit: () => null,
    error: TypeError,
    message: "options must be an object, got null",
  });
  return out;
}

/** Bad `iterations`, `eps` and `tolerance` of the Sinkhorn options. */
function badSinkhorn(base: Record<string, number>): Case[] {
  const out: Case[] = [];
  for (const bad of [0, 1.5, -3, NaN]) {
    out.push({
      edit: () => ({ ...base, iterations: bad }),
      error: RangeError,
      message: `iterations must be a positive integer, got ${bad}`,
    });
  }
  for (const bad of [-1e-6, -1]) {
    out.push({
      edit: () => ({ ...base, eps: bad }),
      error: RangeError,
      message: `eps must be >= 0, got ${bad}`,
    });
  }
  for (const bad of [NaN, Infinity]) {
    out.push({
      edit: () => ({ ...base, eps: bad }),
      error: RangeError,
      message: `eps must be a finite number, got ${bad}`,
    });
  }
  for (const bad of [-1e-9, -1, -Infinity]) {
    out.push({
      edit: () => ({ ...base, tolerance: bad }),
      error: RangeError,
      message: bad === -Infinity
        ? "tolerance must be a finite number, got -Infinity"
        : `tolerance must be >= 0, got ${bad}`,
    });
  }
  for (const bad of [NaN, Infinity, "0.1"]) {
    out.push({
      edit: () => ({ ...base, tolerance: bad }),
      error: RangeError,
      message: `tolerance must be a finite number, got ${bad}`,
    });
  }
  return out;
}

function badNormEps(): Case[] {
  return [
    ...[0, -1e-6].map((bad): Case => ({
      edit: () => ({ ...shape(), normEps: bad }),
      error: RangeError,
      message: `normEps must be > 0, got ${bad}`,
    })),
    ...[NaN, -Infinity].map((bad): Case => ({
      edit: () => ({ ...shape(), normEps: bad }),
      error: RangeError,
      message: `normEps must be a finite number, got ${bad}`,
    })),
  ];
}

function badAlphas(key: "mhcParams" | "hcParams"): Case[] {
  const out: Case[] = [];
  for (const alpha of ["alphaPre", "alphaPost", "alphaRes"] as const) {
    for (const bad of [NaN, Infinity, -Infinity, undefined, "0.5"]) {
      out.push({
        edit: (a) => {
          (a[key] as Any)[alpha] = bad;
        },
        error: RangeError,
        message: `params.${alpha} must be a finite number, got ${String(bad)}`,
      });
    }
  }
  out.push({
    edit: (a) => {
      (a as Any)[key] = null;
    },
    error: TypeError,
    message: "params must be an object, got null",
  });
  return out;
}

const TNN = "[T, n, n] = [2, 3, 3]", TN = "[T, n] = [2, 3]";
const TC = "[T, C] = [2, 4]";
const mhcPhiLayout = `[n·C, n²+2n] = [${n * C}, ${K}]`;
const biasLayout = `[n²+2n] = [${K}]`;

/** Shared cases of the two coefficient backwards (forward and grads). */
function backwardCases(
  fwd: "mhcFwd" | "hcFwd",
  invRmsLen: number,
  invRmsLayout: string,
): Case[] {
  return [
    {
      edit: (a) => {
        (a as Any)[fwd] = undefined;
      },
      error: TypeError,
      message: "forward must be an object, got undefined",
    },
    {
      edit: (a) => {
        (a as Any).coefGrads = null;
      },
      error: TypeError,
      message: "grads must be an object, got null",
    },
    ...arrayArg(
      "forward.logits",
      [fwd, "logits"],
      T * K,
      `[T, n²+2n] = [${T}, ${K}]`,
    ),
    ...arrayArg("forward.invRms", [fwd, "invRms"], invRmsLen, invRmsLayout),
    ...arrayArg("grads.hPre", ["coefGrads", "hPre"], T * n, TN),
    ...arrayArg("grads.hPost", ["coefGrads", "hPost"], T * n, TN),
    ...arrayArg("grads.hRes", ["coefGrads", "hRes"], T * n * n, TNN),
  ];
}

const xCases = (like: string | null = null): Case[] =>
  arrayArg("x", ["x"], T * n * C, TNC, like);

const shapeCases = (): Case[] => badSizes(shape(), ["n", "C", "T"]);

const coefficientCases = (): Case[] => [
  ...xCases(),
  ...shapeCases(),
  ...badNormEps(),
  ...arrayArg("params.phi", ["mhcParams", "phi"], n * C * K, mhcPhiLayout),
  ...arrayArg("params.bias", ["mhcParams", "bias"], K, biasLayout),
  ...badAlphas("mhcParams"),
  ...badSinkhorn(shape()),
];

const hcCases = (): Case[] => [
  ...xCases(),
  ...shapeCases(),
  ...badNormEps(),
  ...arrayArg(
    "params.theta",
    ["hcParams", "theta"],
    (n + 2) * C,
    `[n + 2, C] = [${n + 2}, ${C}]`,
  ),
  ...arrayArg("params.bias", ["hcParams", "bias"], K, biasLayout),
  ...badAlphas("hcParams"),
];

const hPreCases: Case[] = arrayArg("hPre", ["hPre"], T * n, TN);

const postCases: Case[] = [
  ...xCases(),
  ...shapeCases(),
  ...arrayArg("y", ["y"], T * C, TC),
  ...arrayArg("hPost", ["hPost"], T * n, TN),
  ...arrayArg("hRes", ["hRes"], T * n * n, TNN),
];

const logitCases: Case[] = [
  ...arrayArg("logits", ["logits"], T * n * n, TNN, null),
  ...badSizes({ n, T }, ["n", "T"]),
  ...badSinkhorn({ n, T }),
];

const CASES: Record<keyof typeof CALLS, Case[]> = {
  sinkhornKnopp: logitCases,
  sinkhornKnoppBackward: [
    ...logitCases,
    ...arrayArg("gradOutput", ["gradH"], T * n * n, TNN, "logits"),
  ],
  sinkhornIterationCounts: logitCases,
  mhcCoefficients: coefficientCases(),
  mhcCoefficientsBackward: [
    ...coefficientCases(),
    ...backwardCases("mhcFwd", T, `[T] = [${T}]`),
  ],
  mhcPre: [...xCases(), ...shapeCases(), ...hPreCases],
  mhcPreBackward: [
    ...xCases(),
    ...shapeCases(),
    ...hPreCases,
    ...arrayArg("gradU", ["gradU"], T * C, TC),
  ],
  mhcPost: postCases,
  mhcPostBackward: [
    ...postCases,
    ...arrayArg("gradOut", ["gradOut"], T * n * C, TNC),
  ],
  hcCoefficients: hcCases(),
  hcCoefficientsBackward: [
    ...hcCases(),
    ...backwardCases("hcFwd", T * n, TN),
  ],
  expandStreams: [
    ...arrayArg("embedding", ["y"], T * C, TC, null),
    ...shapeCases(),
  ],
  expandStreamsBackward: [
    ...arrayArg("gradX", ["gradOut"], T * n * C, TNC, null),
    ...shapeCases(),
  ],
  reduceStreams: [...xCases(), ...shapeCases()],
  reduceStreamsBackward: [
    ...arrayArg("gradY", ["gradU"], T * C, TC, null),
    ...shapeCases(),
  ],
  amaxGain: [
    ...badSizes({ n, T }, ["n", "T"]),
    ...wrongLength("hRes[1]", ["sites", 1], T * n * n, TNN),
    ...wrongType("hRes[0]", ["sites", 0], T * n * n, null),
    {
      edit: (a) => {
        a.sites = [];
      },
      error: RangeError,
      message: "hRes must be a non-empty array of sites, got none",
    },
    {
      edit: (a) => {
        (a as Any).sites = a.sites[0];
      },
      error: TypeError,
      message:
        "hRes must be an array of [T, n, n] arrays, one per site, got Float64Array",
    },
  ],
};

describe("every public reference function", () => {
  it("is covered by the bad-input cases below", () => {
    const fns = Object.entries(reference)
      .filter(([, v]) => typeof v === "function")
      .map(([k]) => k)
      .sort();
    assertEquals(fns, Object.keys(CALLS).sort());
  });

  it("accepts the valid arguments the cases start from", () => {
    for (const [name, call] of Object.entries(CALLS)) {
      const out = call(valid(), undefined);
      assert(out !== undefined, name);
    }
  });

  for (const [name, call] of Object.entries(CALLS)) {
    const cases = CASES[name];
    it(`${name} rejects ${cases.length} kinds of bad input with a message naming the argument and size`, () => {
      for (const c of cases) {
        const a = valid();
        const options = c.edit(a);
        const e = assertThrows(
          () => call(a, options),
          c.error,
          undefined,
          `${name}: expected "${c.message}"`,
        );
        assertStringIncludes((e as Error).message, c.message, name);
      }
    });
  }

  it("names the expected length and the shape in the message, e.g. x must have length 24", () => {
    const e = assertThrows(
      () => mhcPre(new Float64Array(23), new Float64Array(6), shape()),
      RangeError,
    );
    assertStringIncludes(e.message, "x must have length 24");
    assertStringIncludes(e.message, "[T, n, C] = [2, 3, 4]");
  });
});

/** Asserts `a` and `b` are equal bit for bit, except at `where(k)`. */
function sameExcept(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  nanAt: (k: number) => boolean,
  what: string,
): void {
  assertEquals(a.length, b.length);
  for (let k = 0; k < a.length; k++) {
    if (nanAt(k)) {
      assert(Number.isNaN(b[k]), `${what}: index ${k} should be NaN`);
    } else {
      assert(Object.is(a[k], b[k]), `${what}: index ${k} changed`);
    }
  }
}

describe("NaN in the data", () => {
  const s = rng(50);

  it("makes the whole output and gradient of that token NaN in sinkhornKnopp, other tokens unchanged, with or without a tolerance", () => {
    for (const Ctor of [Float64Array, Float32Array]) {
      for (const [eps, tolerance] of [[0, 0], [1e-6, 0], [0, 1e-3]]) {
        for (const poison of [NaN, Infinity]) {
          const logits = new Ctor(s.normals(3 * n * n)),
            up = new Ctor(s.normals(3 * n * n));
          const o = { n, T: 3, eps, tolerance };
          const h = sinkhornKnopp(logits, o),
            g = sinkhornKnoppBackward(logits, up, o);
          const bad = logits.slice();
          bad[n * n + 4] = poison; // token 1
          const inTok1 = (k: number) => k >= n * n && k < 2 * n * n;
          sameExcept(h, sinkhornKnopp(bad, o), inTok1, `output ${poison}`);
          sameExcept(
            g,
            sinkhornKnoppBackward(bad, up, o),
            inTok1,
            `grad ${poison}`,
          );
        }
      }
    }
  });

  it("treats a −Infinity logit as an exact zero weight, and a column of −Infinity as NaN", () => {
    const logits = s.normals(2 * n * n);
    logits[2] = -Infinity; // token 0, entry (0, 2)
    for (let i = 0; i < n; i++) logits[n * n + i * n + 1] = -Infinity; // token 1, column 1
    const h = sinkhornKnopp(logits, { n, T: 2 });
    assertEquals(h[2], 0);
    for (let k = 0; k < n * n; k++) assert(Number.isFinite(h[k]));
    for (let i = 0; i < n; i++) {
      assertAlmostEquals(h[i * n] + h[i * n + 1] + h[i * n + 2], 1, 1e-14);
    }
    for (let k = n * n; k < 2 * n * n; k++) assert(Number.isNaN(h[k]));
    const g = sinkhornKnoppBackward(logits, s.normals(2 * n * n), { n, T: 2 });
    for (let k = 0; k < n * n; k++) assert(Number.isFinite(g[k]));
  });

  it("makes every coefficient of that token NaN in mhcCoefficients, other tokens unchanged; summed parameter gradients become NaN", () => {
    const a = valid(), T3 = 3, o = { n, C, T: T3 };
    const x = s.normals(T3 * n * C);
    const up = {
      hPre: s.normals(T3 * n),
      hPost: s.normals(T3 * n),
      hRes: s.normals(T3 * n * n),
    };
    const f = mhcCoefficients(x, a.mhcParams, o);
    const g = mhcCoefficientsBackward(x, a.mhcParams, f, up, o);
    const bad = x.slice();
    bad[2 * n * C + 5] = NaN; // token 2
    const fb = mhcCoefficients(bad, a.mhcParams, o);
    const gb = mhcCoefficientsBackward(bad, a.mhcParams, fb, up, o);
    const tok2 = (per: number) => (k: number) => k >= 2 * per;
    sameExcept(f.hPre, fb.hPre, tok2(n), "hPre");
    sameExcept(f.hPost, fb.hPost, tok2(n), "hPost");
    sameExcept(f.hRes, fb.hRes, tok2(n * n), "hRes");
    sameExcept(f.logits, fb.logits, tok2(K), "logits");
    sameExcept(f.invRms, fb.invRms, tok2(1), "invRms");
    sameExcept(g.x, gb.x, tok2(n * C), "gradient of x");
    assert(gb.phi.every(Number.isNaN) && gb.bias.every(Number.isNaN));
    assert(
      Number.isNaN(gb.alphaPre) && Number.isNaN(gb.alphaPost) &&
        Number.isNaN(gb.alphaRes),
    );
    assert(g.phi.every(Number.isFinite));
  });

  it("makes only the dependent outputs of that token NaN in mhcPre", () => {
    const x = s.normals(T * n * C), hPre = s.normals(T * n);
    const u = mhcPre(x, hPre, shape());
    const badX = x.slice();
    badX[(1 * n + 2) * C + 3] = NaN; // token 1, stream 2, channel 3
    sameExcept(u, mhcPre(badX, hPre, shape()), (k) => k === 1 * C + 3, "x");
    const badH = hPre.slice();
    badH[0 * n + 1] = NaN; // token 0, stream 1
    const zeroStream = x.slice();
    for (let c = 0; c < C; c++) zeroStream[(0 * n + 1) * C + c] = 0;
    // NaN · 0 is NaN: the whole token 0 is NaN even where stream 1 is 0.
    sameExcept(
      mhcPre(zeroStream, hPre, shape()),
      mhcPre(zeroStream, badH, shape()),
      (k) => k < C,
      "hPre",
    );
  });

  it("makes only the dependent outputs of that token NaN in mhcPost", () => {
    const x = s.normals(T * n * C), y = s.normals(T * C);
    const hPost = s.normals(T * n), hRes = s.normals(T * n * n);
    const out = mhcPost(x, y, hPost, hRes, shape());
    const channel = (t: number, c: number) => (k: number) =>
      Math.floor(k / (n * C)) === t && k % C === c;
    const stream = (t: number, i: number) => (k: number) =>
      Math.floor(k / C) === t * n + i;
    const bx = x.slice();
    bx[(1 * n + 0) * C + 2] = NaN;
    sameExcept(out, mhcPost(bx, y, hPost, hRes, shape()), channel(1, 2), "x");
    const by = y.slice();
    by[0 * C + 3] = NaN;
    sameExcept(out, mhcPost(x, by, hPost, hRes, shape()), channel(0, 3), "y");
    const bp = hPost.slice();
    bp[1 * n + 2] = NaN;
    sameExcept(out, mhcPost(x, y, bp, hRes, shape()), stream(1, 2), "hPost");
    const br = hRes.slice();
    br[(0 * n + 1) * n + 2] = NaN;
    sameExcept(out, mhcPost(x, y, hPost, br, shape()), stream(0, 1), "hRes");
  });

  it("makes H_pre[j], H_post[j] and column j of H_res NaN in hcCoefficients for NaN in stream j", () => {
    const a = valid();
    const f = hcCoefficients(a.x, a.hcParams, shape());
    const bad = a.x.slice();
    bad[(1 * n + 2) * C + 1] = NaN; // token 1, stream 2
    const fb = hcCoefficients(bad, a.hcParams, shape());
    sameExcept(f.hPre, fb.hPre, (k) => k === 1 * n + 2, "hPre");
    sameExcept(f.hPost, fb.hPost, (k) => k === 1 * n + 2, "hPost");
    sameExcept(f.hRes, fb.hRes, (k) => k >= n * n && k % n === 2, "hRes");
  });
});
