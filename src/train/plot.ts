// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Minimal SVG charts without dependencies: line charts (linear or log axes,
 * reference lines and bands), heat maps, grouped horizontal bars and text
 * tables. Each function returns an SVG fragment drawn in a box whose top-left
 * corner is at (`x`, `y`).
 *
 * @module
 */

/** A box on the page. */
export interface Box {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  w: number;
  /** Height. */
  h: number;
}

/** One line of a chart. */
export interface Series {
  /** Legend label. */
  label: string;
  /** Stroke colour. */
  color: string;
  /** Points `[x, y]`; non-finite values break the line. */
  points: [number, number][];
  /** Stroke width (default 1.5). */
  width?: number;
  /** Dash pattern, e.g. `"4 3"`. */
  dash?: string;
  /** Opacity (default 1). */
  opacity?: number;
  /** Draw a dot on every point. */
  dots?: boolean;
}

/** An axis. */
export interface Axis {
  /** Label. */
  label: string;
  /** Logarithmic scale. */
  log?: boolean;
  /** Lower bound (default: from the data). */
  min?: number;
  /** Upper bound (default: from the data). */
  max?: number;
}

/** A horizontal reference line. */
export interface RefLine {
  /** Height. */
  y: number;
  /** Label. */
  label: string;
  /** Colour. */
  color: string;
  /** Dash pattern. */
  dash?: string;
}

/** A horizontal band between two heights. */
export interface Band {
  /** Lower edge. */
  y0: number;
  /** Upper edge. */
  y1: number;
  /** Fill colour. */
  color: string;
}

/** A line chart. */
export interface LineChart {
  /** Title above the plot. */
  title: string;
  /** Horizontal axis. */
  x: Axis;
  /** Vertical axis. */
  y: Axis;
  /** Lines. */
  series: Series[];
  /** Reference lines. */
  lines?: RefLine[];
  /** Shaded bands. */
  bands?: Band[];
}

/**
 * Escapes text for XML.
 *
 * @param s Any text.
 * @returns The escaped text.
 */
export function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}

/**
 * Formats a number compactly for ticks and tables.
 *
 * @param v The number.
 * @param digits Significant digits (default 3).
 * @returns Its text.
 */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const every = Math.max(1, Math.ceil((b - a) / 6));
  for (let e = a; e <= b; e += every) {
    const v = Math.pow(10, e);
    if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
  }
  if (ticks.length < 3) {
    // Less than about two decades: 1-2-5 steps, or linear ticks when even
    // those are too sparse.
    const more = [...ticks];
    for (let e = a; e <= b; e++) {
      for (const m of [2, 5]) {
        const v = m * Math.pow(10, e);
        if (v >= lo && v <= hi) more.push(v);
      }
    }
    if (more.length >= 3) return more.sort((p, q) => p - q);
    return niceTicks(lo, hi, 4).filter((v) => v > 0);
  }
  return ticks;
}

function range(
  axis: Axis,
  values: number[],
): [number, number] {
  const vals = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let lo = axis.min ?? (vals.length ? Math.min(...vals) : 0);
  let hi = axis.max ?? (vals.length ? Math.max(...vals) : 1);
  if (axis.log) {
    lo = Math.max(lo, 1e-12);
    if (hi <= lo) hi = lo * 10;
    if (axis.min === undefined) lo = lo / 1.15;
    if (axis.max === undefined) hi = hi * 1.15;
  } else {
    if (hi <= lo) {
      hi = lo + (Math.abs(lo) || 1) * 0.5;
      lo = lo - (Math.abs(lo) || 1) * 0.5;
    }
    const pad = (hi - lo) * 0.05;
    if (axis.min === undefined) lo -= pad;
    if (axis.max === undefined) hi += pad;
  }
  return [lo, hi];
}

/**
 * Draws a line chart with a legend.
 *
 * @param box Where to draw.
 * @param chart What to draw.
 * @returns SVG markup.
 */
export function lineChart(box: Box, chart: LineChart): string {
  const left = 58, right = 12, top = 26, bottom = 40;
  const pw = box.w - left - right, ph = box.h - top - bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...chart.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(chart.lines ?? []).map((l) => l.y),
  ];
  const [x0, x1] = range(
    { ...chart.x, min: chart.x.min ?? Math.min(...xs) },
    xs,
  );
  const [y0, y1] = range(chart.y, ys);
  const tx = (v: number) =>
    chart.x.log
      ? left + (pw * Math.log(v / x0)) / Math.log(x1 / x0)
      : left + (pw * (v - x0)) / (x1 - x0);
  const ty = (v: number) => {
    const c = chart.y.log
      ? top + ph - (ph * Math.log(v / y0)) / Math.log(y1 / y0)
      : top + ph - (ph * (v - y0)) / (y1 - y0);
    return Math.max(top - 4, Math.min(top + ph + 4, c));
  };
  const out: string[] = [`<g transform="translate(${box.x},${box.y})">`];
  out.push(
    `<text x="${left}" y="16" class="title">${esc(chart.title)}</text>`,
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" class="frame"/>`,
  );
  for (const b of chart.bands ?? []) {
    const a = ty(Math.min(b.y1, y1)), c = ty(Math.max(b.y0, y0));
    out.push(
      `<rect x="${left}" y="${a.toFixed(1)}" width="${pw}" height="${
        Math.max(0, c - a).toFixed(1)
      }" fill="${b.color}"/>`,
    );
  }
  const yt = chart.y.log ? logTicks(y0, y1) : niceTicks(y0, y1);
  for (const v of yt) {
    const py = ty(v).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${
        left + pw
      }" y1="${py}" y2="${py}" class="grid"/>`,
      `<text x="${
        left - 5
      }" y="${py}" class="tick" text-anchor="end" dominant-baseline="middle">${
        fmt(v)
      }</text>`,
    );
  }
  const xt = chart.x.log ? logTicks(x0, x1) : niceTicks(x0, x1);
  for (const v of xt) {
    const px = tx(v).toFixed(1);
    out.push(
      `<line x1="${px}" x2="${px}" y1="${top + ph}" y2="${
        top + ph + 4
      }" class="axis"/>`,
      `<text x="${px}" y="${top + ph + 15}" class="tick" text-anchor="middle">${
        fmt(v)
      }</text>`,
    );
  }
  out.push(
    `<text x="${left + pw / 2}" y="${
      box.h - 6
    }" class="label" text-anchor="middle">${esc(chart.x.label)}</text>`,
    `<text transform="translate(13,${
      top + ph / 2
    }) rotate(-90)" class="label" text-anchor="middle">${
      esc(chart.y.label)
    }</text>`,
  );
  for (const l of chart.lines ?? []) {
    if (!(l.y >= y0 && l.y <= y1)) continue;
    const py = ty(l.y).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${
        left + pw
      }" y1="${py}" y2="${py}" stroke="${l.color}" stroke-width="1.2" stroke-dasharray="${
        l.dash ?? "5 4"
      }"/>`,
      `<text x="${left + pw - 4}" y="${
        (ty(l.y) - 4).toFixed(1)
      }" class="note" text-anchor="end" fill="${l.color}">${
        esc(l.label)
      }</text>`,
    );
  }
  out.push(`<g clip-path="url(#clip-${box.x}-${box.y})">`);
  for (const s of chart.series) {
    let d = "", pen = false;
    for (const [px, py] of s.points) {
      const ok = Number.isFinite(px) && Number.isFinite(py) &&
        (!chart.y.log || py > 0);
      if (!ok) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${tx(px).toFixed(1)},${ty(py).toFixed(1)}`;
      pen = true;
    }
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${
        s.width ?? 1.5
      }" stroke-opacity="${s.opacity ?? 1}"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      } stroke-linejoin="round"/>`,
    );
    if (s.dots) {
      for (const [px, py] of s.points) {
        if (!Number.isFinite(py) || (chart.y.log && py <= 0)) continue;
        out.push(
          `<circle cx="${tx(px).toFixed(1)}" cy="${
            ty(py).toFixed(1)
          }" r="2.2" fill="${s.color}"/>`,
        );
      }
    }
  }
  out.push(`</g>`);
  out.push(
    `<clipPath id="clip-${box.x}-${box.y}"><rect x="${left}" y="${
      top - 4
    }" width="${pw}" height="${ph + 8}"/></clipPath>`,
  );
  // Legend, top-right inside the plot.
  const labelled = chart.series.filter((s) => s.label);
  const lw = Math.max(...labelled.map((s) => s.label.length), 0) * 6.2 + 30;
  labelled.forEach((s, i) => {
    const lx = left + pw - lw, ly = top + 10 + i * 14;
    out.push(
      `<line x1="${lx}" x2="${
        lx + 18
      }" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="${
        Math.max(2, s.width ?? 1.5)
      }" stroke-opacity="${s.opacity ?? 1}"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      }/>`,
      `<text x="${
        lx + 23
      }" y="${ly}" class="legend" dominant-baseline="middle">${
        esc(s.label)
      }</text>`,
    );
  });
  out.push(`</g>`);
  return out.join("\n");
}

/**
 * Colour of a value on a diverging scale: white at 0, blue for positive,
 * red for negative, saturated at `|v| = limit`.
 *
 * @param v Value.
 * @param limit Saturation magnitude.
 * @returns A CSS colour.
 */
export function diverging(v: number, limit: number): string {
  const f = Math.max(-1, Math.min(1, v / (limit || 1)));
  const a = Math.abs(f);
  const [r, g, b] = f >= 0 ? [31, 119, 180] : [214, 39, 40];
  const mix = (c: number) => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

/**
 * Draws a row of `n × n` heat maps with a caption under each.
 *
 * @param box Where to draw.
 * @param title Title.
 * @param mats Matrices (row-major, `n·n` values each).
 * @param captions One caption per matrix.
 * @param n Matrix size.
 * @param limit Colour saturation magnitude.
 * @returns SVG markup.
 */
export function heatmaps(
  box: Box,
  title: string,
  mats: number[][],
  captions: string[],
  n: number,
  limit: number,
): string {
  const top = 26, gap = 10;
  const size = Math.min(
    (box.w - gap * (mats.length - 1)) / Math.max(1, mats.length),
    box.h - top - 18,
  );
  const cell = size / n;
  const out = [
    `<g transform="translate(${box.x},${box.y})">`,
    `<text x="0" y="16" class="title">${esc(title)}</text>`,
  ];
  mats.forEach((m, k) => {
    const ox = k * (size + gap);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = m[i * n + j];
        out.push(
          `<rect x="${(ox + j * cell).toFixed(1)}" y="${
            (top + i * cell).toFixed(1)
          }" width="${cell.toFixed(1)}" height="${cell.toFixed(1)}" fill="${
            diverging(v, limit)
          }" stroke="#fff" stroke-width="0.5"><title>${
            esc(`${captions[k]} [${i}][${j}] = ${fmt(v, 4)}`)
          }</title></rect>`,
        );
        if (cell >= 20) {
          out.push(
            `<text x="${(ox + (j + 0.5) * cell).toFixed(1)}" y="${
              (top + (i + 0.5) * cell).toFixed(1)
            }" class="cell" text-anchor="middle" dominant-baseline="middle" fill="${
              Math.abs(v) > 0.6 * limit ? "#fff" : "#222"
            }">${cellText(v)}</text>`,
          );
        }
      }
    }
    out.push(
      `<text x="${(ox + size / 2).toFixed(1)}" y="${
        (top + size + 13).toFixed(1)
      }" class="tick" text-anchor="middle">${esc(captions[k])}</text>`,
    );
  });
  out.push(`</g>`);
  return out.join("\n");
}

function cellText(v: number): string {
  const a = Math.abs(v);
  if (!Number.isFinite(v)) return String(v);
  if (a >= 100) return v.toExponential(0);
  if (a >= 10) return v.toFixed(0);
  return v.toFixed(2).replace(/^(-?)0\./, "$1.");
}

/** One bar group of {@linkcode barChart}. */
export interface BarGroup {
  /** Row label. */
  label: string;
  /** One value per series. */
  values: number[];
}

/**
 * Draws grouped horizontal bars (one row per group, one bar per series).
 *
 * @param box Where to draw.
 * @param title Title.
 * @param groups Rows.
 * @param series Series names and colours.
 * @param unit Unit shown after each value.
 * @returns SVG markup.
 */
export function barChart(
  box: Box,
  title: string,
  groups: BarGroup[],
  series: { label: string; color: string }[],
  unit: string,
): string {
  const left = 190, top = 26, right = 60;
  const rowH = (box.h - top - 8) / Math.max(1, groups.length);
  const barH = Math.max(2, Math.min(12, (rowH - 5) / series.length));
  const max = Math.max(...groups.flatMap((g) => g.values), 1e-9);
  const pw = box.w - left - right;
  const out = [
    `<g transform="translate(${box.x},${box.y})">`,
    `<text x="0" y="16" class="title">${esc(title)}</text>`,
  ];
  groups.forEach((g, r) => {
    const gy = top + r * rowH;
    out.push(
      `<text x="${left - 6}" y="${
        (gy + (barH * series.length) / 2).toFixed(1)
      }" class="tick" text-anchor="end" dominant-baseline="middle">${
        esc(g.label)
      }</text>`,
    );
    g.values.forEach((v, k) => {
      const w = (pw * v) / max, by = gy + k * barH;
      if (!(v > 0)) return;
      out.push(
        `<rect x="${left}" y="${by.toFixed(1)}" width="${
          Math.max(0.5, w).toFixed(1)
        }" height="${(barH - 1).toFixed(1)}" fill="${series[k].color}"/>`,
      );
      if (barH >= 7) {
        out.push(
          `<text x="${(left + w + 3).toFixed(1)}" y="${
            (by + barH / 2).toFixed(1)
          }" style="font-size:${
            Math.min(9.5, barH - 0.5)
          }px" dominant-baseline="middle">${fmt(v)} ${unit}</text>`,
        );
      }
    });
  });
  out.push(`</g>`);
  return out.join("\n");
}

/**
 * Draws a text table.
 *
 * @param box Where to draw.
 * @param title Title.
 * @param header Column headers.
 * @param rows Cells.
 * @param widths Column widths.
 * @returns SVG markup.
 */
export function table(
  box: Box,
  title: string,
  header: string[],
  rows: string[][],
  widths: number[],
): string {
  const out = [
    `<g transform="translate(${box.x},${box.y})">`,
    `<text x="0" y="16" class="title">${esc(title)}</text>`,
  ];
  const line = (cells: string[], y: number, cls: string) => {
    let x = 0;
    cells.forEach((c, i) => {
      out.push(
        `<text x="${i === 0 ? x : x + widths[i] - 6}" y="${y}" class="${cls}"${
          i === 0 ? "" : ' text-anchor="end"'
        }>${esc(c)}</text>`,
      );
      x += widths[i];
    });
  };
  line(header, 38, "th");
  out.push(
    `<line x1="0" x2="${
      widths.reduce((a, b) => a + b, 0)
    }" y1="44" y2="44" class="axis"/>`,
  );
  rows.forEach((r, i) => line(r, 60 + i * 17, "td"));
  out.push(`</g>`);
  return out.join("\n");
}

/** Shared styles of the report's SVG. */
export const STYLE = `
text { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; fill: #222; }
.title { font-size: 13px; font-weight: 600; }
.tick { font-size: 10px; fill: #555; }
.label { font-size: 11px; fill: #333; }
.legend { font-size: 10.5px; }
.note { font-size: 10px; }
.cell { font-size: 9.5px; fill: #333; }
.th { font-size: 11px; font-weight: 600; }
.td { font-size: 11px; font-variant-numeric: tabular-nums; }
.frame { fill: #fff; stroke: #bbb; }
.grid { stroke: #eee; }
.axis { stroke: #888; }
`;
