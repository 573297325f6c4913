// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The training report: one self-contained SVG with the loss curves against
 * the entropy bound, the gradient norm, the Amax gains per site and over
 * training, example `H_res` heat maps, the stream spread, a results table
 * (losses, speed, measured vs FLOP-predicted overhead) and the per-op time
 * breakdown of a CPU step. In `--compare` mode the three modes share every
 * axis.
 *
 * @module
 */

import {
  axisScale,
  type Band,
  BAR_LEGEND_H,
  barChart,
  esc,
  fmt,
  heatmaps,
  type LegendEntry,
  lineChart,
  type Marker,
  type RefLine,
  type Series,
  STYLE,
  table,
} from "./plot.ts";
import type { RunResult } from "./result.ts";

/** Colour of each mode. */
export const MODE_COLORS: Record<string, string> = {
  residual: "#6b6b6b",
  hc: "#d62728",
  mhc: "#1f77b4",
};

/** Marker of each mode, so that overlapping curves stay apart. */
export const MODE_MARKERS: Record<string, Marker> = {
  residual: "square",
  hc: "triangle",
  mhc: "circle",
};

/**
 * Extra line width of each mode in `--compare`: the modes are drawn in this
 * order, each one thinner than the one below it, so that a curve on top of
 * another leaves it visible along both edges.
 */
const UNDERLAY: Record<string, number> = { residual: 1.8, hc: 0.9, mhc: 0 };

const NAMES: Record<string, string> = {
  residual: "residual",
  hc: "HC",
  mhc: "mHC",
};

/** Options of {@linkcode renderReport}. */
export interface ReportOptions {
  /** Whether this is a `--compare` report. */
  compare: boolean;
}

/**
 * @param hex A colour `#rrggbb`.
 * @param f How much white to mix in, 0 to 1.
 * @returns The lighter colour.
 */
function tint(hex: string, f: number): string {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 3 - 1), 16));
  const [r, g, b] = c.map((v) => Math.round(v + (255 - v) * f));
  return `rgb(${r},${g},${b})`;
}

function smooth(
  points: [number, number][],
  window: number,
): [number, number][] {
  if (window <= 1) return points;
  const out: [number, number][] = [];
  let sum = 0, count = 0;
  const q: number[] = [];
  for (const [x, y] of points) {
    if (!Number.isFinite(y)) {
      out.push([x, NaN]);
      continue;
    }
    q.push(y);
    sum += y;
    count++;
    if (q.length > window) {
      sum -= q.shift()!;
      count--;
    }
    out.push([x, sum / count]);
  }
  return out;
}

/**
 * @param g An Amax gain.
 * @returns It with 3 significant digits, or as an integer from 1000 up.
 */
export function gainText(g: number): string {
  return g >= 1000 ? String(Math.round(g)) : g.toPrecision(3);
}

/** Bytes as MiB with one decimal. */
function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A signed percentage. */
function pctText(x: number): string {
  return `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(0)} %`;
}

/** At most this many sites get a heat map; deeper models show a spread. */
const MAX_HEATMAPS = 8;

function heatmapSites(count: number): number[] {
  if (count <= MAX_HEATMAPS) return Array.from({ length: count }, (_, i) => i);
  const picks = new Set<number>();
  for (let k = 0; k < MAX_HEATMAPS; k++) {
    picks.add(Math.round((k * (count - 1)) / (MAX_HEATMAPS - 1)));
  }
  return [...picks];
}

function finalTrainLoss(r: RunResult): number {
  const n = Math.max(1, Math.min(20, Math.ceil(r.steps.length / 10)));
  const tail = r.steps.slice(-n).map((s) => s.loss);
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

/**
 * Renders the report.
 *
 * @param results One run, or the three runs of `--compare`.
 * @param options Options.
 * @returns The SVG document.
 */
export function renderReport(
  results: RunResult[],
  options: ReportOptions,
): string {
  const W = 1200, half = 590, gap = 20;
  const cfg = results[0].cfg;
  const parts: string[] = [];
  let y = 0;

  // Header.
  const modes = results.map((r) => NAMES[r.cfg.mode]).join(" vs ");
  const h = results[0].entropy;
  const title = options.compare
    ? `Training report: ${modes}`
    : `Training report: ${NAMES[cfg.mode]}`;
  const sub1 =
    `${cfg.layers} blocks, width ${cfg.width}, ${cfg.heads} heads, context ${cfg.context}, batch ${cfg.batch}, ` +
    `${cfg.steps} steps${
      cfg.scheduleSteps !== undefined
        ? ` (learning-rate schedule planned for ${cfg.scheduleSteps})`
        : ""
    }, lr ${cfg.lr}, seed ${cfg.seed}` +
    (cfg.mode !== "residual" || options.compare
      ? `, n = ${cfg.streams} streams, ${cfg.sinkhornIters} Sinkhorn iterations`
      : "");
  const sub2 = `data: ${results[0].dataName}` +
    (h
      ? `; exact entropy rate ${h.perByte.toFixed(4)} nats/byte (${
        (h.perByte / Math.LN2).toFixed(3)
      } bits/byte)`
      : "; entropy unknown (user data)");
  parts.push(
    `<text x="0" y="22" style="font-size:19px;font-weight:700">${
      esc(title)
    }</text>`,
    `<text x="0" y="42" class="label">${esc(sub1)}</text>`,
    `<text x="0" y="58" class="label">${esc(sub2)}</text>`,
  );
  y = 72;

  // Loss curves.
  const window = Math.max(1, Math.floor(cfg.steps / 40));
  const under = (mode: string) => options.compare ? UNDERLAY[mode] : 0;
  const solid = options.compare ? 0.85 : 1;
  const lossSeries: Series[] = [], lossLegend: LegendEntry[] = [];
  // Training curves first: the validation points stay on top.
  for (const r of results) {
    lossSeries.push({
      label: "",
      color: MODE_COLORS[r.cfg.mode],
      opacity: 0.4,
      width: 1 + 0.8 * under(r.cfg.mode),
      points: smooth(r.steps.map((s) => [s.step, s.loss]), window),
    });
  }
  for (const r of results) {
    const c = MODE_COLORS[r.cfg.mode], name = NAMES[r.cfg.mode];
    const val: Series = {
      label: `${name} validation`,
      color: c,
      width: 1.8 + under(r.cfg.mode),
      opacity: solid,
      marker: MODE_MARKERS[r.cfg.mode],
      points: r.evals.map((e) => [e.step, e.valLoss]),
    };
    lossSeries.push(val);
    lossLegend.push({ ...val });
  }
  lossLegend.push({
    label: options.compare
      ? "thin lines: train (moving avg)"
      : `${NAMES[cfg.mode]} train (moving avg)`,
    color: options.compare ? "#999" : MODE_COLORS[cfg.mode],
    opacity: options.compare ? 1 : 0.4,
    width: 1,
  });
  const bands: Band[] = [], lines: RefLine[] = [];
  if (h) {
    const top = h.perByte + h.stateEntropy / cfg.context;
    bands.push({ y0: h.perByte, y1: top, color: "#e3f4e3" });
    lines.push({
      y: h.perByte,
      label: `entropy rate ${
        h.perByte.toFixed(3)
      } (best achievable: shaded band)`,
      color: "#2ca02c",
    });
  }
  parts.push(lineChart({ x: 0, y, w: half, h: 320 }, {
    title: "Loss (nats/byte) against the entropy bound",
    x: { label: "step", min: 0, max: cfg.steps },
    y: { label: "cross-entropy (log scale)", log: true },
    series: lossSeries,
    legend: lossLegend,
    bands,
    lines,
  }));
  const gradSeries: Series[] = results.map((r) => ({
    label: NAMES[r.cfg.mode],
    color: MODE_COLORS[r.cfg.mode],
    width: 1.3 + under(r.cfg.mode),
    opacity: solid,
    points: smooth(r.steps.map((s) => [s.step, s.gradNorm]), window),
  }));
  parts.push(
    lineChart({ x: half + gap, y, w: half, h: 320 }, {
      title: "Gradient norm (before clipping, moving average)",
      x: { label: "step", min: 0, max: cfg.steps },
      y: { label: "global L2 norm (log scale)", log: true },
      series: gradSeries,
      lines: cfg.gradClip > 0
        ? [{ y: cfg.gradClip, label: "clip", color: "#999" }]
        : [],
    }),
  );
  y += 330;

  // Amax gains.
  const streamRuns = results.filter((r) => r.evals.at(-1)?.stability);
  if (streamRuns.length > 0) {
    const perSite: Series[] = [], overTime: Series[] = [];
    for (const r of streamRuns) {
      const s = r.evals.at(-1)!.stability!;
      const c = MODE_COLORS[r.cfg.mode], name = NAMES[r.cfg.mode];
      const style = {
        color: c,
        width: 1.8 + under(r.cfg.mode),
        opacity: solid,
      };
      // Backward: a thinner, lighter dashed line on top of the forward one,
      // so that where the two coincide the dashes still show.
      const backward = {
        color: tint(c, 0.5),
        width: Math.max(1.4, 0.6 * style.width),
        dash: "5 3",
      };
      const marker = MODE_MARKERS[r.cfg.mode];
      perSite.push(
        {
          ...style,
          label: `${name} forward`,
          marker,
          points: s.forwardGain.map((g, i) => [i, g]),
        },
        {
          ...backward,
          label: `${name} backward`,
          points: s.backwardGain.map((g, i) => [i, g]),
        },
      );
      const ev = r.evals.filter((e) => e.stability);
      overTime.push(
        {
          ...style,
          label: `${name} forward`,
          marker,
          points: ev.map((e) => [e.step, e.stability!.maxForwardGain]),
        },
        {
          ...backward,
          label: `${name} backward`,
          points: ev.map((e) => [e.step, e.stability!.maxBackwardGain]),
        },
      );
    }
    const sites = 2 * cfg.layers;
    const allGains = streamRuns.flatMap((r) =>
      r.evals.flatMap((e) =>
        e.stability
          ? [...e.stability.forwardGain, ...e.stability.backwardGain]
          : []
      )
    ).filter((v) => v > 0 && Number.isFinite(v));
    // One axis for both charts, at least 0.9 to 2 so that gains near 1
    // look near 1.
    const gs = axisScale({ label: "", log: true }, [0.9, 2, ...allGains], 8);
    const gy = {
      label: "Amax gain (log scale)",
      log: true,
      min: gs.lo,
      max: gs.hi,
    };
    parts.push(
      lineChart({ x: 0, y, w: half, h: 300 }, {
        title: `Composite Amax gain from each site to the output (step ${
          streamRuns[0].evals.at(-1)!.step
        })`,
        x: {
          label: "site (2 per block: attention, MLP)",
          min: 0,
          max: sites - 1,
          integer: true,
        },
        y: gy,
        series: perSite,
        lines: [{ y: 1, label: "1 (no amplification)", color: "#2ca02c" }],
      }),
      lineChart({ x: half + gap, y, w: half, h: 300 }, {
        title: "Largest composite Amax gain over training",
        x: { label: "step", min: 0, max: cfg.steps },
        y: gy,
        series: overTime,
        lines: [{ y: 1, label: "1", color: "#2ca02c" }],
      }),
    );
    y += 310;

    // Heat maps of the token-averaged H_res of every site.
    const limit = Math.max(
      1,
      ...streamRuns.flatMap((r) =>
        r.evals.at(-1)!.stability!.meanMixing.flat().map(Math.abs)
      ),
    );
    for (const r of streamRuns) {
      const s = r.evals.at(-1)!.stability!;
      const sites = heatmapSites(s.meanMixing.length);
      const caps = sites.map((i) =>
        `${i % 2 === 0 ? "attn" : "mlp"} ${i >> 1}`
      );
      const which = sites.length === s.meanMixing.length
        ? "every site"
        : `${sites.length} of ${s.meanMixing.length} sites`;
      parts.push(
        heatmaps(
          { x: 0, y, w: W, h: 150 },
          `${
            NAMES[r.cfg.mode]
          }: H_res of ${which}, averaged over the tokens of a validation batch (blue > 0, red < 0, saturated at ±${
            fmt(limit)
          })`,
          sites.map((i) => s.meanMixing[i]),
          caps,
          r.cfg.streams,
          limit,
        ),
      );
      y += 160;
    }

    // Stream spread over training.
    parts.push(
      lineChart({ x: 0, y, w: half, h: 240 }, {
        title: "Symmetry breaking: how different the streams are (last state)",
        x: { label: "step", min: 0, max: cfg.steps },
        y: { label: "relative spread", min: 0 },
        series: streamRuns.map((r) => ({
          label: NAMES[r.cfg.mode],
          color: MODE_COLORS[r.cfg.mode],
          width: 1.8 + under(r.cfg.mode),
          opacity: solid,
          marker: MODE_MARKERS[r.cfg.mode],
          points: r.evals.filter((e) => e.streamSpread).map((
            e,
          ) => [e.step, e.streamSpread!.at(-1)!]),
        })),
      }),
    );
    const mhc = streamRuns.find((r) => r.cfg.mode === "mhc");
    if (mhc) {
      const ev = mhc.evals.filter((e) => e.stability);
      parts.push(
        lineChart({ x: half + gap, y, w: half, h: 240 }, {
          title: "mHC: largest deviation of H_res column sums from 1",
          x: { label: "step", min: 0, max: cfg.steps },
          y: { label: "max |column sum − 1| (log scale)", log: true },
          series: [{
            label: "columns (rows are exact by construction)",
            color: MODE_COLORS.mhc,
            width: 1.8,
            marker: MODE_MARKERS.mhc,
            points: ev.map((e) => [
              e.step,
              Math.max(e.stability!.maxColumnSumError, 1e-9),
            ]),
          }],
        }),
      );
    }
    y += 250;
  } else {
    parts.push(
      `<text x="0" y="${
        y + 14
      }" class="label">Residual mode has one stream and no stream mixing: no Amax gain to show.</text>`,
    );
    y += 30;
  }

  // Results table and per-op breakdown.
  const res = results.find((r) => r.cfg.mode === "residual");
  const rows = results.map((r) => {
    const s = r.evals.at(-1)?.stability;
    const maxF = Math.max(
      0,
      ...r.evals.map((e) => e.stability?.maxForwardGain ?? 0),
    );
    const maxB = Math.max(
      0,
      ...r.evals.map((e) => e.stability?.maxBackwardGain ?? 0),
    );
    return [
      NAMES[r.cfg.mode] + (r.diverged ? " (diverged)" : ""),
      fmt(r.evals.at(-1)?.valLoss ?? NaN, 4),
      fmt(finalTrainLoss(r), 4),
      h ? fmt((r.evals.at(-1)?.valLoss ?? NaN) - h.perByte, 3) : "–",
      String(Math.round(r.tokensPerSec)),
      fmt(r.stepMs, 3),
      r.overhead
        ? `${(100 * r.overhead.measured).toFixed(0)} %`
        : r === res
        ? "–"
        : "",
      r.overhead ? `${(100 * r.overhead.expected).toFixed(0)} %` : "",
      s ? `${gainText(maxF)} / ${gainText(maxB)}` : "–",
    ];
  });
  const tableTop = y;
  parts.push(
    table(
      { x: 0, y, w: half, h: 120 },
      "Results",
      [
        "mode",
        "val loss",
        "train loss",
        "gap to h",
        "tok/s",
        "ms/step",
        "overhead",
        "FLOP est.",
        "max gain f/b",
      ],
      rows,
      [70, 58, 64, 58, 48, 56, 60, 62, 100],
    ),
  );
  const oh = results.find((r) => r.overhead)?.overhead;
  const ohRun = results.find((r) => r.overhead);
  const notes = [
    "Losses in nats/byte; train loss = mean of the last steps; gap to h = val loss − entropy rate.",
    "tok/s, ms/step: medians over the run. Overhead: step time against a residual network of the",
    "same shape, measured (forward + backward + AdamW); FLOP est.: what the arithmetic alone predicts.",
    oh && ohRun
      ? `Overhead measured as the ${oh.how} (${NAMES[ohRun.cfg.mode]}: ${
        fmt(oh.modeMs, 3)
      } vs ${fmt(oh.residualMs, 3)} ms).`
      : "",
    "Max gain f/b: largest composite Amax gain (forward / backward) seen in any evaluation.",
    `Device: ${results[0].device}${
      results[0].bufferBytes
        ? `; device buffers ${
          results.map((r) => `${NAMES[r.cfg.mode]} ${mib(r.bufferBytes)}`).join(
            ", ",
          )
        }`
        : ""
    }.`,
    ...results.filter((r) => r.steps.some((s) => s.skipped)).map((r) =>
      `${NAMES[r.cfg.mode]}: ${
        r.steps.filter((s) => s.skipped).length
      } steps skipped (gradient not finite; no update).`
    ),
    ...results.filter((r) => r.recompute).map((r) => {
      const c = r.recompute!;
      return `--recompute (${NAMES[r.cfg.mode]}${
        c.used ? ", used in this run" : ""
      }): buffers ${mib(c.bytes)} → ${mib(c.recomputeBytes)} (${
        pctText(c.recomputeBytes / c.bytes - 1)
      }), step ${fmt(c.ms, 3)} → ${fmt(c.recomputeMs, 3)} ms (${
        pctText(c.recomputeMs / c.ms - 1)
      }).`;
    }),
  ];
  notes.forEach((t, i) =>
    parts.push(
      `<text x="0" y="${y + 70 + rows.length * 17 + i * 14}" class="note">${
        esc(t)
      }</text>`,
    )
  );
  // Sample text under the table.
  const sampleTop = y + 80 + rows.length * 17 + notes.length * 14;
  const sampleRun = results.find((r) => r.cfg.mode === "mhc" && r.sample) ??
    results.find((r) => r.sample);
  if (sampleRun) {
    parts.push(
      `<text x="0" y="${sampleTop + 14}" class="title">Sample (${
        NAMES[sampleRun.cfg.mode]
      }, prompt = first 32 validation bytes)</text>`,
    );
    const lines = sampleRun.sample.split("\n").flatMap((l) =>
      l.match(/.{1,90}/g) ?? [""]
    ).slice(0, 9);
    lines.forEach((l, i) =>
      parts.push(
        `<text x="0" y="${
          sampleTop + 32 + i * 14
        }" style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px">${
          esc(l)
        }</text>`,
      )
    );
  }
  const leftBottom = sampleTop + 40 + 9 * 14;

  const ops = new Map<string, number[]>();
  results.forEach((r, k) => {
    for (const [name, ms] of Object.entries(r.profile)) {
      if (!ops.has(name)) ops.set(name, new Array(results.length).fill(0));
      ops.get(name)![k] = ms / Math.max(1, r.steps.length);
    }
  });
  const sorted = [...ops.entries()].sort((a, b) =>
    Math.max(...b[1]) - Math.max(...a[1])
  );
  const keep = results.length > 1 ? 12 : 16;
  const shown = sorted.slice(0, keep);
  const rest = sorted.slice(keep);
  if (rest.length) {
    shown.push([
      `${rest.length} more`,
      results.map((_, k) => rest.reduce((a, [, v]) => a + v[k], 0)),
    ]);
  }
  const rowH = Math.max(14, 6 + 8 * results.length);
  const barsH = 34 + BAR_LEGEND_H + shown.length * rowH;
  parts.push(
    barChart(
      { x: half + gap, y: tableTop, w: half, h: barsH },
      results[0].device.startsWith("webgpu")
        ? (Object.keys(results[0].profile).length
          ? "Per-op GPU time of one training step (ms, timestamp queries)"
          : "Per-op GPU time: the adapter has no timestamp queries")
        : "Per-op time of one CPU training step (ms, forward and backward)",
      shown.map(([label, values]) => ({ label, values })),
      results.map((r) => ({
        label: NAMES[r.cfg.mode],
        color: MODE_COLORS[r.cfg.mode],
      })),
      "ms",
    ),
  );
  y = Math.max(leftBottom, tableTop + barsH) + 10;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 40}" height="${
      y + 40
    }" viewBox="-20 -20 ${W + 40} ${y + 40}">`,
    `<style>${STYLE}</style>`,
    `<rect x="-20" y="-20" width="${W + 40}" height="${y + 40}" fill="#fff"/>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
