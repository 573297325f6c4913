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

/** A marker shape drawn on every point of a series. */
export type Marker = "circle" | "square" | "triangle" | "diamond";

/** One line of a chart. */
export interface Series {
  /** Legend label (empty: not in the legend). */
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
  /** Draw a marker on every point (a filled circle unless `marker` says otherwise). */
  dots?: boolean;
  /** Marker shape on every point: circles are filled, the others hollow. */
  marker?: Marker;
}

/** One entry of a legend: a line sample, an optional marker and a label. */
export interface LegendEntry {
  /** Label. */
  label: string;
  /** Colour. */
  color: string;
  /** Stroke width (default 1.5). */
  width?: number;
  /** Dash pattern. */
  dash?: string;
  /** Opacity (default 1). */
  opacity?: number;
  /** Marker shape. */
  marker?: Marker;
}

/** An axis. */
export interface Axis {
  /** Label. */
  label: string;
  /** Logarithmic scale. */
  log?: boolean;
  /** Lower bound (default: the tick at or below the data's minimum). */
  min?: number;
  /** Upper bound (default: the tick at or above the data's maximum). */
  max?: number;
  /** Ticks on whole numbers only. */
  integer?: boolean;
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
  /** Lines, drawn in this order (the last on top). */
  series: Series[];
  /** Reference lines. */
  lines?: RefLine[];
  /** Shaded bands. */
  bands?: Band[];
  /** Legend entries (default: one per labelled series). */
  legend?: LegendEntry[];
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
 * Formats a number compactly for tables.
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

/** The range of an axis and its ticks. */
export interface Scale {
  /** Lower end of the axis. */
  lo: number;
  /** Upper end of the axis. */
  hi: number;
  /** Tick values, ascending, all within `[lo, hi]`. */
  ticks: number[];
  /** One label per tick, all in one format ({@linkcode tickLabels}). */
  labels: string[];
}

/** Removes the float noise of tick arithmetic (`3 × 0.1`). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

function decimals(v: number): number {
  const t = String(clean(Math.abs(v)));
  const dot = t.indexOf(".");
  return t.includes("e") ? 6 : dot < 0 ? 0 : t.length - dot - 1;
}

/**
 * Labels ticks in one format for all of them: plain decimals when every
 * tick is 0 or between 0.001 and 100 000 in magnitude, powers of ten
 * (`10⁻⁵`, `2×10⁻⁵`) otherwise.
 *
 * @param ticks Tick values.
 * @param uniform Equally spaced ticks: every label gets the same number of
 * decimals (and powers of ten one exponent: `1.5×10⁻⁵`, `2.0×10⁻⁵`).
 * @returns One label per tick.
 */
export function tickLabels(ticks: number[], uniform = false): string[] {
  const plain = ticks.every((v) =>
    v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5)
  );
  if (plain) {
    const places = uniform ? Math.max(0, ...ticks.map(decimals)) : -1;
    return ticks.map((v) =>
      (places >= 0 ? (v === 0 ? 0 : v).toFixed(places) : String(clean(v)))
        .replace("-", "−")
    );
  }
  if (uniform) {
    // One exponent for all, mantissas with the same decimals.
    const top = Math.max(...ticks.map(Math.abs));
    const e = Math.floor(Math.log10(top));
    const ms = ticks.map((v) => clean(v / Math.pow(10, e)));
    const places = Math.max(0, ...ms.map(decimals));
    return ms.map((m) =>
      m === 0
        ? "0"
        : `${m < 0 ? "−" : ""}${Math.abs(m).toFixed(places)}×10${power(e)}`
    );
  }
  return ticks.map((v) => {
    if (v === 0) return "0";
    let e = Math.floor(Math.log10(Math.abs(v)));
    let m = Number((Math.abs(v) / Math.pow(10, e)).toPrecision(3));
    if (m >= 10) {
      m = Number((m / 10).toPrecision(3));
      e++;
    } else if (m < 1) {
      m = Number((m * 10).toPrecision(3));
      e--;
    }
    return `${v < 0 ? "−" : ""}${m === 1 ? "" : `${m}×`}10${power(e)}`;
  });
}

/** `⁻¹²` for −12. */
function power(e: number): string {
  return (e < 0 ? "⁻" : "") +
    [...String(Math.abs(e))].map((d) => SUPERSCRIPT[Number(d)]).join("");
}

/** Whether `a` sorts before `b`, comparing element by element. */
function lexLess(a: number[], b: number[]): boolean {
  const i = a.findIndex((v, k) => v !== b[k]);
  return i >= 0 && a[i] < b[i];
}

/** A family of tick values: every value from the last ≤ `lo` to the first ≥ `hi`. */
interface Grid {
  values(lo: number, hi: number): number[];
  uniform: boolean;
}

function logGrid(mantissas: number[], every: number): Grid {
  return {
    uniform: false,
    values(lo, hi) {
      const out: number[] = [];
      const e0 = Math.floor(Math.floor(Math.log10(lo)) / every) * every -
        every;
      const e1 = Math.ceil(Math.log10(hi)) + every;
      for (let e = e0; e <= e1; e += every) {
        for (const m of mantissas) out.push(clean(m * Math.pow(10, e)));
      }
      return out.filter((v) => v > 0 && Number.isFinite(v));
    },
  };
}

function linearGrid(step: number): Grid {
  return {
    uniform: true,
    values(lo, hi) {
      const out: number[] = [];
      const k1 = Math.ceil(hi / step) + 1;
      for (let k = Math.floor(lo / step) - 1; k <= k1; k++) {
        out.push(clean(k * step));
      }
      return out;
    },
  };
}

/**
 * Chooses an axis's range and ticks. Ends left open extend to the nearest
 * tick at or beyond the data, so the ticks span every value. Among the tick
 * families that fit (decades, 1-2-5, 1-3, 1-1.5-2-3-5-7 and linear steps on a
 * log axis; linear steps of 1, 2, 2.5 and 5 times a power of ten on a linear
 * one), the one with a tick on each fixed end wins, then the one that wastes
 * the least of the axis, then the one with about 5 ticks.
 *
 * @param axis The axis (fixed `min` and `max` are kept).
 * @param values The data shown on it.
 * @param maxTicks The most ticks that fit.
 * @returns The range, the ticks and their labels.
 */
export function axisScale(
  axis: Axis,
  values: number[],
  maxTicks = 8,
): Scale {
  const log = axis.log === true;
  const vals = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  const fixLo = axis.min !== undefined, fixHi = axis.max !== undefined;
  let lo = axis.min ?? (vals.length ? Math.min(...vals) : log ? 0.1 : 0);
  let hi = axis.max ?? (vals.length ? Math.max(...vals) : 1);
  if (log && !(hi > 0)) hi = 1;
  if (log && !(lo > 0)) lo = hi / 1000;
  if (!(hi > lo)) {
    if (log) {
      if (!fixLo) lo /= 2;
      if (!fixHi || !(hi > lo)) hi = fixLo ? lo * 10 : hi * 2;
    } else {
      const half = Math.abs(lo) * 0.5 || 0.5;
      if (!fixLo) lo -= half;
      if (!fixHi || !(hi > lo)) hi = lo + 2 * half;
    }
  }
  const grids: Grid[] = [];
  if (log) {
    for (const k of [1, 2, 3, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500]) {
      grids.push(logGrid([1], k));
    }
    grids.push(
      logGrid([1, 2, 5], 1),
      logGrid([1, 3], 1),
      logGrid([1, 2, 3, 5], 1),
      logGrid([1, 1.5, 2, 3, 5, 7], 1),
    );
  }
  if (!log || hi / lo < 20) {
    const m0 = Math.floor(Math.log10((hi - lo) / maxTicks));
    for (let m = m0 - 1; m <= m0 + 2; m++) {
      for (const f of [1, 2, 2.5, 5]) {
        const step = clean(f * Math.pow(10, m));
        if (axis.integer && !(step >= 1 && Number.isInteger(step))) continue;
        grids.push(linearGrid(step));
      }
    }
    if (axis.integer) grids.push(linearGrid(1));
  }
  const length = (a: number, b: number) =>
    log ? Math.log(b) - Math.log(a) : b - a;
  const tol = 1e-9 * length(lo, hi);
  const below = (v: number, w: number) => length(v, w) >= -tol; // v ≤ w
  const target = Math.min(5, maxTicks);
  let best: { key: number[]; scale: Scale } | null = null;
  grids.forEach((grid, order) => {
    const all = grid.values(lo, hi);
    const a = fixLo ? lo : all.filter((v) => below(v, lo)).at(-1);
    const b = fixHi ? hi : all.find((v) => below(hi, v));
    if (a === undefined || b === undefined || (log && !(a > 0))) return;
    const ticks = all.filter((v) =>
      (!log || v > 0) && below(a, v) && below(v, b)
    );
    const n = ticks.length;
    if (n < 2 || n > maxTicks) return;
    const waste = Math.round(1e6 * length(a, b) / length(lo, hi)) / 1e6;
    const bare = (fixLo && !below(ticks[0], a) ? 1 : 0) +
      (fixHi && !below(b, ticks[n - 1]) ? 1 : 0);
    const key = [n < 3 ? 1 : 0, bare, waste, Math.abs(n - target), order];
    const better = best === null || lexLess(key, best.key);
    if (better) {
      best = {
        key,
        scale: { lo: a, hi: b, ticks, labels: tickLabels(ticks, grid.uniform) },
      };
    }
  });
  return (best as { scale: Scale } | null)?.scale ??
    { lo, hi, ticks: [lo, hi], labels: tickLabels([lo, hi]) };
}

/**
 * Approximate width of text in a sans-serif font (Helvetica's advance
 * widths, by kind of character).
 */
function textWidth(s: string, px = 10.5): number {
  let em = 0;
  for (const c of s) {
    if (/[MWmw@%]/.test(c)) em += 0.86;
    else if (/[A-Z]/.test(c)) em += 0.68;
    else if (/[fijlrt]/.test(c)) em += 0.3;
    else if (/[a-z0-9]/.test(c)) em += 0.55;
    else if (c === " ") em += 0.28;
    else em += 0.36;
  }
  return em * px;
}

function markerSvg(
  shape: Marker,
  x: number,
  y: number,
  color: string,
  opacity = 1,
): string {
  const f = (v: number) => v.toFixed(1);
  const hollow =
    `fill="#fff" fill-opacity="0.6" stroke="${color}" stroke-width="1.3" stroke-opacity="${opacity}"`;
  switch (shape) {
    case "circle":
      return `<circle cx="${f(x)}" cy="${
        f(y)
      }" r="2.6" fill="${color}" fill-opacity="${opacity}"/>`;
    case "square":
      return `<rect x="${f(x - 3.2)}" y="${
        f(y - 3.2)
      }" width="6.4" height="6.4" ${hollow}/>`;
    case "triangle":
      return `<path d="M${f(x)},${f(y - 4.2)}L${f(x + 3.9)},${f(y + 2.6)}L${
        f(x - 3.9)
      },${f(y + 2.6)}Z" ${hollow}/>`;
    case "diamond":
      return `<path d="M${f(x)},${f(y - 4.2)}L${f(x + 3.6)},${f(y)}L${f(x)},${
        f(y + 4.2)
      }L${f(x - 3.6)},${f(y)}Z" ${hollow}/>`;
  }
}

function markerOf(s: Series): Marker | undefined {
  return s.marker ?? (s.dots ? "circle" : undefined);
}

/** A rectangle in chart coordinates. */
interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function inside(p: [number, number], r: Rect): boolean {
  return p[0] >= r.x && p[0] <= r.x + r.w && p[1] >= r.y && p[1] <= r.y + r.h;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h &&
    b.y < a.y + a.h;
}

const LEGEND_ROW = 14;

function legendSvg(entries: LegendEntry[], at: [number, number][]): string[] {
  return entries.flatMap((e, i) => {
    const [lx, ly] = at[i];
    const out = [
      `<line x1="${lx.toFixed(1)}" x2="${(lx + 20).toFixed(1)}" y1="${
        ly.toFixed(1)
      }" y2="${ly.toFixed(1)}" stroke="${e.color}" stroke-width="${
        Math.max(1.5, e.width ?? 1.5)
      }" stroke-opacity="${e.opacity ?? 1}"${
        e.dash ? ` stroke-dasharray="${e.dash}"` : ""
      }/>`,
    ];
    if (e.marker) out.push(markerSvg(e.marker, lx + 10, ly, e.color));
    out.push(
      `<text x="${(lx + 25).toFixed(1)}" y="${
        ly.toFixed(1)
      }" class="legend" dominant-baseline="middle">${esc(e.label)}</text>`,
    );
    return out;
  });
}

/**
 * Draws a line chart with a legend. The legend goes into the corner (or
 * the middle of the top or bottom edge) of the plot that no line, marker or
 * reference label crosses, and above the plot when there is none; the label
 * of a reference line goes to the end and side of it with the least data.
 *
 * @param box Where to draw.
 * @param chart What to draw.
 * @returns SVG markup.
 */
export function lineChart(box: Box, chart: LineChart): string {
  const left = 58, right = 12, bottom = 40, titleTop = 26;
  const pw = box.w - left - right;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]))
    .filter(Number.isFinite);
  const ys = [
    ...chart.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(chart.lines ?? []).map((l) => l.y),
  ];
  const xScale = axisScale(
    { ...chart.x, min: chart.x.min ?? (xs.length ? Math.min(...xs) : 0) },
    xs,
    Math.max(3, Math.floor(pw / 60)),
  );
  const yScale = axisScale(
    chart.y,
    ys,
    Math.max(3, Math.min(9, Math.floor((box.h - titleTop - bottom) / 24))),
  );
  const [x0, x1] = [xScale.lo, xScale.hi], [y0, y1] = [yScale.lo, yScale.hi];
  const tx = (v: number) =>
    chart.x.log
      ? left +
        (pw * (Math.log(v) - Math.log(x0))) / (Math.log(x1) - Math.log(x0))
      : left + (pw * (v - x0)) / (x1 - x0);
  const entries: LegendEntry[] = chart.legend ??
    chart.series.filter((s) => s.label).map((s) => ({
      label: s.label,
      color: s.color,
      width: s.width,
      dash: s.dash,
      opacity: s.opacity,
      marker: markerOf(s),
    }));

  /** Everything whose position depends on the plot's top edge. */
  const layout = (top: number) => {
    const ph = box.h - top - bottom;
    const ty = (v: number) => {
      const c = chart.y.log
        ? top + ph -
          (ph * (Math.log(v) - Math.log(y0))) / (Math.log(y1) - Math.log(y0))
        : top + ph - (ph * (v - y0)) / (y1 - y0);
      return Math.max(top - 4, Math.min(top + ph + 4, c));
    };
    const shown = (px: number, py: number) =>
      Number.isFinite(px) && Number.isFinite(py) && (!chart.y.log || py > 0);
    // Sample points of every line (every ~3 px) and every marker.
    const data: [number, number][] = [];
    const paths = chart.series.map((s) => {
      let d = "", prev: [number, number] | null = null;
      for (const [vx, vy] of s.points) {
        if (!shown(vx, vy)) {
          prev = null;
          continue;
        }
        const p: [number, number] = [tx(vx), ty(vy)];
        d += `${prev ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
        if (prev) {
          const steps = Math.ceil(
            Math.hypot(p[0] - prev[0], p[1] - prev[1]) / 3,
          );
          for (let k = 1; k <= steps; k++) {
            const f = k / steps;
            data.push([
              prev[0] + f * (p[0] - prev[0]),
              prev[1] + f * (p[1] - prev[1]),
            ]);
          }
        }
        data.push(p);
        prev = p;
      }
      return d;
    });
    const refs = (chart.lines ?? []).filter((l) => l.y >= y0 && l.y <= y1);
    const refPoints: [number, number][] = refs.flatMap((l) =>
      Array.from(
        { length: Math.ceil(pw / 6) + 1 },
        (_, k): [number, number] => [
          left + (k * pw) / Math.ceil(pw / 6),
          ty(l.y),
        ],
      )
    );
    // Reference labels: the end and side with the fewest data points.
    const labelBoxes: Rect[] = [];
    const refLabels = refs.map((l) => {
      const w = textWidth(l.label, 10) + 4, h = 12, py = ty(l.y);
      // Right end first, then left, then in between; above, then below.
      const spots: Rect[] = [1, 0, 0.75, 0.5, 0.25].flatMap((f) => {
        const x = left + 3 + f * (pw - 6 - w);
        return [{ x, y: py - 2 - h, w, h }, { x, y: py + 2, w, h }];
      }).filter((r) => r.y >= top && r.y + r.h <= top + ph);
      let spot = spots[0] ?? { x: left + pw - 3 - w, y: py - 2 - h, w, h };
      let fewest = Infinity;
      for (const r of spots) {
        const hits = data.filter((p) => inside(p, r)).length +
          labelBoxes.filter((b) => overlaps(b, r)).length * 1000;
        if (hits < fewest) [fewest, spot] = [hits, r];
      }
      labelBoxes.push(spot);
      return { line: l, box: spot };
    });
    return { top, ph, ty, paths, data, refPoints, refLabels, labelBoxes };
  };

  // The legend: inside the plot where nothing is covered, else above it.
  const lw = Math.max(0, ...entries.map((e) => textWidth(e.label))) + 33;
  const lh = entries.length * LEGEND_ROW + 6;
  let g = layout(titleTop);
  let legendBox: Rect | null = null;
  let legendAt: [number, number][] = [];
  if (entries.length) {
    const xl = left + 6, xr = left + pw - 6 - lw, xc = left + (pw - lw) / 2;
    const yt = g.top + 6, yb = g.top + g.ph - 6 - lh;
    const spots: Rect[] = [
      [xr, yt],
      [xl, yt],
      [xr, yb],
      [xl, yb],
      [xc, yt],
      [xc, yb],
    ].map(([x, y]) => ({ x, y, w: lw, h: lh }));
    const score = (r: Rect) =>
      g.data.filter((p) => inside(p, r)).length +
      0.2 * g.refPoints.filter((p) => inside(p, r)).length +
      1000 * g.labelBoxes.filter((b) => overlaps(b, r)).length;
    const free = spots.find((r) => score(r) === 0);
    if (free && lw <= pw - 12 && lh <= g.ph - 12) {
      legendBox = free;
      legendAt = entries.map((_, i) => [
        free.x + 5,
        free.y + 3 + LEGEND_ROW * (i + 0.5),
      ]);
    } else {
      // Rows above the plot, entries side by side.
      let x = left, row = 0;
      legendAt = entries.map((e) => {
        const w = textWidth(e.label) + 40;
        if (x > left && x + w > left + pw) {
          x = left;
          row++;
        }
        const at: [number, number] = [x, titleTop + 4 + LEGEND_ROW * row];
        x += w;
        return at;
      });
      g = layout(titleTop + 6 + LEGEND_ROW * (row + 1));
    }
  }

  const { top, ph, ty } = g;
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
  yScale.ticks.forEach((v, i) => {
    const py = ty(v).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${
        left + pw
      }" y1="${py}" y2="${py}" class="grid"/>`,
      `<text x="${
        left - 5
      }" y="${py}" class="tick" text-anchor="end" dominant-baseline="middle">${
        esc(yScale.labels[i])
      }</text>`,
    );
  });
  xScale.ticks.forEach((v, i) => {
    const px = tx(v).toFixed(1);
    out.push(
      `<line x1="${px}" x2="${px}" y1="${top + ph}" y2="${
        top + ph + 4
      }" class="axis"/>`,
      `<text x="${px}" y="${top + ph + 15}" class="tick" text-anchor="middle">${
        esc(xScale.labels[i])
      }</text>`,
    );
  });
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
  for (const { line: l, box: r } of g.refLabels) {
    const py = ty(l.y).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${
        left + pw
      }" y1="${py}" y2="${py}" stroke="${l.color}" stroke-width="1.2" stroke-dasharray="${
        l.dash ?? "5 4"
      }"/>`,
      `<text x="${(r.x + 2).toFixed(1)}" y="${
        (r.y + r.h / 2).toFixed(1)
      }" class="note" dominant-baseline="middle" fill="${l.color}">${
        esc(l.label)
      }</text>`,
    );
  }
  const clip = `clip-${box.x}-${box.y}`;
  out.push(
    `<clipPath id="${clip}"><rect x="${left - 5}" y="${top - 5}" width="${
      pw + 10
    }" height="${ph + 10}"/></clipPath>`,
    `<g clip-path="url(#${clip})">`,
  );
  chart.series.forEach((s, k) => {
    out.push(
      `<path d="${g.paths[k]}" fill="none" stroke="${s.color}" stroke-width="${
        s.width ?? 1.5
      }" stroke-opacity="${s.opacity ?? 1}"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      } stroke-linejoin="round"/>`,
    );
    const m = markerOf(s);
    if (!m) return;
    for (const [vx, vy] of s.points) {
      if (!Number.isFinite(vx) || !Number.isFinite(vy)) continue;
      if (chart.y.log && vy <= 0) continue;
      out.push(markerSvg(m, tx(vx), ty(vy), s.color, s.opacity ?? 1));
    }
  });
  out.push(`</g>`);
  if (legendBox) {
    out.push(
      `<rect x="${legendBox.x.toFixed(1)}" y="${
        legendBox.y.toFixed(1)
      }" width="${
        lw.toFixed(1)
      }" height="${lh}" rx="3" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`,
    );
  }
  out.push(...legendSvg(entries, legendAt));
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

/** Height of the legend row of {@linkcode barChart}. */
export const BAR_LEGEND_H = 18;

/**
 * Draws grouped horizontal bars (one row per group, one bar per series),
 * with a legend of the series under the title.
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
  const left = 190, top = 26 + BAR_LEGEND_H, right = 60;
  const rowH = (box.h - top - 8) / Math.max(1, groups.length);
  const barH = Math.max(2, Math.min(12, (rowH - 5) / series.length));
  const max = Math.max(...groups.flatMap((g) => g.values), 1e-9);
  const pw = box.w - left - right;
  const out = [
    `<g transform="translate(${box.x},${box.y})">`,
    `<text x="0" y="16" class="title">${esc(title)}</text>`,
  ];
  let lx = left;
  for (const s of series) {
    out.push(
      `<rect x="${lx}" y="${
        top - BAR_LEGEND_H + 1
      }" width="14" height="9" fill="${s.color}"/>`,
      `<text x="${lx + 19}" y="${
        top - BAR_LEGEND_H + 5.5
      }" class="legend" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
    lx += textWidth(s.label) + 40;
  }
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
