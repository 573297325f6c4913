// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Test helper: direct, loop-by-loop restatements of SPEC formulas, written
 * independently of src/reference/ (linear domain, nested arrays, float64) so
 * that the reference can be compared with them.
 *
 * @module
 */

/** One `n × n` matrix as nested arrays. */
export type Mat = number[][];

/** Reads token `t` of a row-major `[T, n, n]` array as a matrix. */
export function block(a: ArrayLike<number>, n: number, t = 0): Mat {
  const m: Mat = [];
  for (let i = 0; i < n; i++) {
    m.push([]);
    for (let j = 0; j < n; j++) m[i].push(a[t * n * n + i * n + j]);
  }
  return m;
}

/** Matrix product `a · b`. */
export function matmul(a: Mat, b: Mat): Mat {
  const n = a.length;
  return a.map((row) =>
    b[0].map((_, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += row[k] * b[k][j];
      return s;
    })
  );
}

/**
 * SPEC §4 in the linear domain: `M = exp(L − colmax)`, then `iterations` ×
 * (normalise columns, then rows). `iterations = 0` gives `exp(L − colmax)`.
 */
export function naiveSinkhorn(
  logits: ArrayLike<number>,
  n: number,
  iterations: number,
): Float64Array {
  const T = logits.length / (n * n), out = new Float64Array(T * n * n);
  for (let t = 0; t < T; t++) {
    const m = block(logits, n, t);
    for (let j = 0; j < n; j++) {
      let mx = -Infinity;
      for (let i = 0; i < n; i++) mx = Math.max(mx, m[i][j]);
      for (let i = 0; i < n; i++) m[i][j] = Math.exp(m[i][j] - mx);
    }
    const cols = () => {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += m[i][j];
        for (let i = 0; i < n; i++) m[i][j] /= s;
      }
    };
    const rows = () => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += m[i][j];
        for (let j = 0; j < n; j++) m[i][j] /= s;
      }
    };
    for (let it = 0; it < iterations; it++) {
      cols();
      rows();
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[t * n * n + i * n + j] = m[i][j];
    }
  }
  return out;
}

/** Choices of {@linkcode naiveMhcCoefficients}; the defaults follow SPEC §3. */
export interface NaiveMhcChoices {
  /** One RMS over all n·C values (SPEC) or one per stream (a mistake). */
  rms?: "global" | "stream";
  /** `sigmoid`/`2·sigmoid` (SPEC) or softmax/`2·softmax` (a mistake). */
  activation?: "sigmoid" | "softmax";
  normEps?: number;
  iterations?: number;
}

/** SPEC §3 restated loop by loop, for `T` tokens. */
export function naiveMhcCoefficients(
  x: ArrayLike<number>,
  params: {
    phi: ArrayLike<number>;
    bias: ArrayLike<number>;
    alphaPre: number;
    alphaPost: number;
    alphaRes: number;
  },
  shape: { n: number; C: number; T: number },
  choices: NaiveMhcChoices = {},
): { hPre: Float64Array; hPost: Float64Array; hRes: Float64Array } {
  const { n, C, T } = shape, K = n * n + 2 * n;
  const rms = choices.rms ?? "global";
  const activation = choices.activation ?? "sigmoid";
  const normEps = choices.normEps ?? 1e-6;
  const hPre = new Float64Array(T * n), hPost = new Float64Array(T * n);
  const resLogits = new Float64Array(T * n * n);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  for (let t = 0; t < T; t++) {
    const at = (j: number, c: number) => x[(t * n + j) * C + c];
    const r: number[] = [];
    if (rms === "global") {
      let s = 0;
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < C; c++) s += at(j, c) ** 2;
      }
      for (let j = 0; j < n; j++) r.push(Math.sqrt(s / (n * C) + normEps));
    } else {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += at(j, c) ** 2;
        r.push(Math.sqrt(s / C + normEps));
      }
    }
    const h: number[] = [];
    for (let k = 0; k < K; k++) {
      let m = 0;
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < C; c++) {
          m += at(j, c) * params.phi[(j * C + c) * K + k] / r[j];
        }
      }
      const alpha = k < n
        ? params.alphaPre
        : k < 2 * n
        ? params.alphaPost
        : params.alphaRes;
      h.push(alpha * m + params.bias[k]);
    }
    const pre = h.slice(0, n), post = h.slice(n, 2 * n);
    const soft = (z: number[]) => {
      const mx = Math.max(...z), e = z.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const p = activation === "sigmoid" ? pre.map(sig) : soft(pre);
    const q = activation === "sigmoid" ? post.map(sig) : soft(post);
    for (let i = 0; i < n; i++) {
      hPre[t * n + i] = p[i];
      hPost[t * n + i] = 2 * q[i];
    }
    for (let k = 0; k < n * n; k++) resLogits[t * n * n + k] = h[2 * n + k];
  }
  const hRes = naiveSinkhorn(resLogits, n, choices.iterations ?? 20);
  return { hPre, hPost, hRes };
}
