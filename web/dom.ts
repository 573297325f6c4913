// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Small DOM helpers of the playground.
 *
 * @module
 */

import type { ChartMarkup } from "./charts.ts";

/**
 * Puts a chart into an `<svg>` element, sized by its view box.
 *
 * @param svg The element.
 * @param chart The chart.
 */
export function draw(svg: Element, chart: ChartMarkup): void {
  svg.setAttribute("viewBox", `0 0 ${chart.width} ${chart.height}`);
  // Shrink with the page, never grow past the drawn size.
  (svg as SVGElement).style.maxWidth = `${chart.width}px`;
  svg.innerHTML = chart.body;
}

/**
 * The element with an id, or an error naming the id.
 *
 * @param id The id.
 * @returns The element.
 */
export function byId<T extends Element = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page has no element #${id}`);
  return el as unknown as T;
}
