// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The playground's charts, drawn as SVG markup with the trainer's own
 * plotting helpers (src/train/plot.ts): loss curves and tokens/s of every
 * run, the Amax gains per site, the mean `H_res` heat maps per site, and the
 * Sinkhorn view's convergence. Pure functions of the data; the page puts the
 * markup into its `<svg>` elements. No DOM, no Deno API.
 *
 * @module
 */

import {
  esc,
  heatmaps,
  lineChart,
  type RefLine,
  type Series,
  STYLE,
} from "../src/train/plot.ts";

/** What the charts need of one run. */
export interface RunView {
  /** Legend label. */
  label: string;
  /** Line colour. */
  color: string;
  /** `[step, training loss]` of every step. */
  losses: [number, number][];
  /** `[step, validation loss]` of every evaluation. */
  valLosses: [number, number][];
  /** `[step, tokens/s]` of every step. */
  speed: [number, number][];
  /** Forward Amax gain per site at the latest evaluation (HC and mHC). */
  forwardGain?: number[];
  /** Backward Amax gain per site at the latest evaluation (HC and mHC). */
  backwardGain?: number[];
}

/** A chart ready for an `<svg>`: its view box and its markup. */
export interface ChartMarkup {
  /** Width of the view box. */
  width: number;
  /** Height of the view box. */
  height: number;
  /** The markup inside the `<svg>`. */
  body: string;
}

/** The plot styles, scoped to the page's chart elements. */
const SCOPED_STYLE = STYLE.replace(
  /^([^{}\n]+)\{/gm,
  (_, selectors: string) =>
    selectors.split(",").map((s) => `svg.chart ${s.trim()}`).join(", ") +
    " {",
);

/**
 * Wraps a chart fragment with the plot styles, renaming the clip path that
 * `lineChart` names after its box, so that charts of different sizes on one
 * page do not share a clip.
 */
function wrap(
  name: string,
  width: number,
  height: number,
  fragment: string,
): ChartMarkup {
  return {
    width,
    height,
    body: `<style>${SCOPED_STYLE}</style>` +
      fragment.replace(/clip-(-?[\d.]+)-(-?[\d.]+)/g, `clip-${name}-$1-$2`),
  };
}

function placeholder(
  name: string,
  width: number,
  height: number,
  title: string,
  text: string,
): ChartMarkup {
  return wrap(
    name,
    width,
    height,
    `<text x="58" y="16" class="title">${esc(title)}</text>` +
      `<rect x="58" y="26" width="${width - 70}" height="${
        height - 66
      }" class="frame"/>` +
      `<text x="${(width + 46) / 2}" y="${
        height / 2
      }" class="label" text-anchor="middle">${esc(text)}</text>`,
  );
}

/**
 * Training loss of every run (lines) and validation loss (dots), with the
 * corpus's entropy rate, the lowest loss any model can reach.
 *
 * @param runs The runs, in legend order.
 * @param entropy Entropy rate of the corpus, nats/byte, or null.
 * @returns The chart.
 */
export function lossChart(
  runs: RunView[],
  entropy: number | null,
): ChartMarkup {
  const W = 480, H = 300, title = "Loss (nats/byte), runs overlaid";
  const shown = runs.filter((r) => r.losses.length + r.valLosses.length > 0);
  if (shown.length === 0) {
    return placeholder("loss", W, H, title, "Start a run to see its loss.");
  }
  const series: Series[] = [];
  for (const r of shown) {
    series.push({ label: r.label, color: r.color, points: r.losses });
    if (r.valLosses.length > 0) {
      series.push({
        label: "",
        color: r.color,
        points: r.valLosses,
        dash: "4 3",
        width: 1,
        dots: true,
      });
    }
  }
  series.push({
    label: "validation (dots)",
    color: "#777",
    points: [],
    dash: "4 3",
    width: 1,
  });
  const lines: RefLine[] = entropy === null ? [] : [{
    y: entropy,
    label: `entropy rate of the corpus ${entropy.toFixed(2)}`,
    color: "#2ca02c",
  }];
  return wrap(
    "loss",
    W,
    H,
    lineChart({ x: 0, y: 0, w: W, h: H }, {
      title,
      x: { label: "step", min: 0 },
      y: { label: "cross-entropy, nats/byte" },
      series,
      lines,
    }),
  );
}

/** The median of the last `k` values up to each point. */
function rollingMedian(points: [number, number][], k: number) {
  return points.map(([x], i): [number, number] => {
    const window = points.slice(Math.max(0, i - k + 1), i + 1)
      .map((p) => p[1]).sort((a, b) => a - b);
    return [x, window[window.length >> 1]];
  });
}

/**
 * Training tokens per second of every run (rolling median of 5 steps).
 *
 * @param runs The runs.
 * @returns The chart.
 */
export function speedChart(runs: RunView[]): ChartMarkup {
  const W = 480, H = 170, title = "Training speed (tokens/s)";
  const shown = runs.filter((r) => r.speed.length > 0);
  if (shown.length === 0) {
    return placeholder("speed", W, H, title, "No steps yet.");
  }
  return wrap(
    "speed",
    W,
    H,
    lineChart({ x: 0, y: 0, w: W, h: H }, {
      title,
      x: { label: "step", min: 0 },
      y: { label: "tokens/s", min: 0 },
      series: shown.map((r) => ({
        label: "",
        color: r.color,
        points: rollingMedian(r.speed, 5),
      })),
    }),
  );
}

/**
 * Forward (solid) and backward (dashed) Amax gain of the composite map from
 * each site to the output, at each run's latest evaluation, on a log axis.
 * Runs without mixing (plain residual) are left out.
 *
 * @param runs The runs.
 * @returns The chart.
 */
export function gainChart(runs: RunView[]): ChartMarkup {
  const W = 480, H = 250;
  const title = "Amax gain per site (latest evaluation)";
  const shown = runs.filter((r) => r.forwardGain && r.forwardGain.length > 0);
  if (shown.length === 0) {
    return placeholder(
      "gain",
      W,
      H,
      title,
      "Train an HC or mHC run to see its gains.",
    );
  }
  const series: Series[] = [];
  for (const r of shown) {
    series.push({
      label: r.label,
      color: r.color,
      points: r.forwardGain!.map((g, s): [number, number] => [s + 1, g]),
      dots: true,
    });
    series.push({
      label: "",
      color: r.color,
      points: (r.backwardGain ?? []).map((g, s): [number, number] => [
        s + 1,
        g,
      ]),
      dash: "5 3",
      dots: true,
    });
  }
  series.push(
    { label: "forward (solid)", color: "#777", points: [] },
    { label: "backward (dashed)", color: "#777", points: [], dash: "5 3" },
  );
  const all = series.flatMap((s) => s.points.map((p) => p[1]));
  const hi = Math.max(1.5, ...all), lo = Math.min(0.7, ...all);
  return wrap(
    "gain",
    W,
    H,
    lineChart({ x: 0, y: 0, w: W, h: H }, {
      title,
      x: { label: "site (two per layer: attention, MLP)", min: 1 },
      y: { label: "Amax gain (log)", log: true, min: lo / 1.2, max: hi * 1.2 },
      series,
      lines: [{ y: 1, label: "gain 1", color: "#2ca02c" }],
    }),
  );
}

/**
 * The token-averaged `H_res` of every site, as heat maps in rows.
 *
 * @param mixing `n·n` values per site, or undefined.
 * @param n Streams.
 * @param caption What the maps show (run and step).
 * @returns The chart.
 */
export function mixingChart(
  mixing: number[][] | undefined,
  n: number,
  caption: string,
): ChartMarkup {
  const W = 480, title = `H_res per site (token mean), ${caption}`;
  if (!mixing || mixing.length === 0) {
    return placeholder(
      "mixing",
      W,
      150,
      "H_res per site",
      caption || "Train an HC or mHC run to see its mixing matrices.",
    );
  }
  const perRow = Math.min(mixing.length, 8);
  const rows = Math.ceil(mixing.length / perRow);
  const gap = 10, size = Math.min(96, (W - gap * (perRow - 1)) / perRow);
  const rowH = size + 26 + 18;
  const limit = Math.max(1, ...mixing.flat().map(Math.abs));
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) {
    const sites = mixing.slice(r * perRow, (r + 1) * perRow);
    const captions = sites.map((_, k) => {
      const s = r * perRow + k;
      return `${(s >> 1) + 1} ${s % 2 === 0 ? "attn" : "mlp"}`;
    });
    parts.push(heatmaps(
      { x: 0, y: r * rowH, w: W, h: rowH },
      r === 0 ? title : "",
      sites,
      captions,
      n,
      limit,
    ));
  }
  return wrap("mixing", W, rows * rowH + 4, parts.join("\n"));
}

/**
 * How far the sums are from 1 along the Sinkhorn iterations: the column
 * sums after each row normalisation, and the row sums after each column
 * normalisation (the sums just normalised are exactly 1, so they are left
 * out), with the shown stage marked.
 *
 * @param rowError `max |row sum − 1|` per stage (stage 0 is `exp(L)`).
 * @param colError `max |column sum − 1|` per stage.
 * @param current The stage shown.
 * @returns The chart.
 */
export function convergenceChart(
  rowError: number[],
  colError: number[],
  current: number,
): ChartMarkup {
  const W = 620, H = 270;
  // A sum that is exact to rounding would sit at −∞ on the log axis.
  const floor = 1e-12;
  const at = (v: number) => Math.max(v, floor);
  const cols: [number, number][] = [], rows: [number, number][] = [];
  colError.forEach((e, s) => {
    if (s % 2 === 0) cols.push([s / 2, at(e)]);
  });
  rowError.forEach((e, s) => {
    if (s === 0 || s % 2 === 1) rows.push([s / 2, at(e)]);
  });
  const shownError = current === 0
    ? Math.max(rowError[0], colError[0])
    : current % 2 === 1
    ? rowError[current]
    : colError[current];
  return wrap(
    "sinkhorn",
    W,
    H,
    lineChart({ x: 0, y: 0, w: W, h: H }, {
      title: "Distance of the sums from 1",
      x: { label: "iteration (a column step, then a row step)", min: 0 },
      y: { label: "max |sum − 1| (log)", log: true },
      series: [
        {
          label: "column sums, after the row step",
          color: "#1f77b4",
          points: cols,
          dots: true,
        },
        {
          label: "row sums, after the column step",
          color: "#d62728",
          points: rows,
          dots: true,
        },
        {
          label: "shown",
          color: "#222",
          points: [[current / 2, at(shownError)]],
          width: 0,
          dots: true,
        },
      ],
    }),
  );
}
