// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The playground's Sinkhorn view: an editable `n × n` logit matrix, the
 * stages of Sinkhorn-Knopp on it (web/sinkhorn_steps.ts) one at a time with
 * the row and column sums beside and under the matrix, and a chart of how
 * far those sums are from 1.
 *
 * @module
 */

import { convergenceChart } from "./charts.ts";
import { byId, draw } from "./dom.ts";
import { diverging, fmt } from "../src/train/plot.ts";
import {
  randomLogits,
  type SinkhornStage,
  sinkhornStages,
} from "./sinkhorn_steps.ts";

/** Iterations the view runs: the mHC default (SPEC §4). */
export const VIEW_ITERATIONS = 20;
/** Largest logit magnitude the editor accepts. */
export const LOGIT_LIMIT = 30;
/** A sum within this of 1 is shown as converged. */
const CONVERGED = 1e-3;

const $ = byId;

/** The Sinkhorn view, bound to its elements in the page. */
export class SinkhornView {
  #n = 4;
  #logits: Float64Array = randomLogits(4, 3, 7);
  #stages: SinkhornStage[] = [];
  #index = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #seed = 7;
  readonly #size = $<HTMLSelectElement>("sk-n");
  readonly #spread = $<HTMLInputElement>("sk-spread");
  readonly #slider = $<HTMLInputElement>("sk-slider");
  readonly #play = $<HTMLButtonElement>("sk-play");
  readonly #error = $<HTMLElement>("sk-error");

  /** Binds the controls and draws the first matrix. */
  constructor() {
    this.#size.addEventListener("change", () => {
      this.#n = Number(this.#size.value);
      this.#randomise();
    });
    $("sk-random").addEventListener("click", () => this.#randomise());
    $("sk-reset").addEventListener("click", () => this.#show(0));
    $("sk-back").addEventListener("click", () => this.#show(this.#index - 1));
    $("sk-step").addEventListener("click", () => this.#show(this.#index + 1));
    this.#play.addEventListener("click", () => this.#toggle());
    this.#slider.addEventListener("input", () => {
      this.#show(Number(this.#slider.value));
    });
    this.#slider.max = String(2 * VIEW_ITERATIONS);
    this.#buildEditor();
    this.#recompute();
  }

  /** @returns The shown stage (for the page's test hook). */
  get stage(): SinkhornStage {
    return this.#stages[this.#index];
  }

  #randomise(): void {
    const spread = Number(this.#spread.value);
    if (!(spread >= 0 && spread <= LOGIT_LIMIT)) {
      this.#fail(`Spread must be a number from 0 to ${LOGIT_LIMIT}`);
      this.#spread.classList.add("invalid");
      return;
    }
    this.#spread.classList.remove("invalid");
    this.#seed = (this.#seed * 1103515245 + 12345) >>> 0;
    this.#logits = randomLogits(this.#n, spread, this.#seed);
    this.#buildEditor();
    this.#recompute();
    this.#show(0);
  }

  #buildEditor(): void {
    const table = $<HTMLTableElement>("sk-logits");
    table.replaceChildren();
    const n = this.#n;
    for (let i = 0; i < n; i++) {
      const tr = table.insertRow();
      for (let j = 0; j < n; j++) {
        const input = document.createElement("input");
        input.type = "number";
        input.step = "0.1";
        input.value = String(this.#logits[i * n + j]);
        input.setAttribute("aria-label", `logit ${i + 1}, ${j + 1}`);
        input.addEventListener("input", () => this.#readEditor());
        tr.insertCell().append(input);
      }
    }
  }

  #readEditor(): void {
    const inputs = [
      ...$<HTMLTableElement>("sk-logits").querySelectorAll("input"),
    ];
    const n = this.#n, next = new Float64Array(n * n);
    const bad: string[] = [];
    inputs.forEach((input, k) => {
      const text = input.value.trim(), v = Number(text);
      const ok = text !== "" && Number.isFinite(v) &&
        Math.abs(v) <= LOGIT_LIMIT;
      input.classList.toggle("invalid", !ok);
      if (ok) next[k] = v;
      else bad.push(`(${Math.floor(k / n) + 1}, ${(k % n) + 1})`);
    });
    if (bad.length > 0) {
      this.#fail(
        `Logit ${
          bad.join(", ")
        } must be a number from −${LOGIT_LIMIT} to ${LOGIT_LIMIT}; ` +
          "the matrix shown is from the last valid logits",
      );
      return;
    }
    this.#logits = next;
    this.#recompute();
  }

  #fail(message: string): void {
    this.#error.textContent = message;
    this.#error.hidden = false;
  }

  #recompute(): void {
    this.#error.hidden = true;
    this.#stages = sinkhornStages(this.#logits, this.#n, VIEW_ITERATIONS);
    this.#show(this.#index);
  }

  #toggle(): void {
    if (this.#timer !== undefined) {
      this.#stopPlaying();
      return;
    }
    if (this.#index >= this.#stages.length - 1) this.#show(0);
    this.#play.textContent = "pause";
    this.#timer = setInterval(() => {
      if (this.#index >= this.#stages.length - 1) this.#stopPlaying();
      else this.#show(this.#index + 1);
    }, 450);
  }

  #stopPlaying(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#play.textContent = "play";
  }

  #show(index: number): void {
    this.#index = Math.max(0, Math.min(this.#stages.length - 1, index));
    this.#slider.value = String(this.#index);
    const stage = this.#stages[this.#index];
    $("sk-stage").textContent = this.#index === 0
      ? "M = exp(L)"
      : `After ${stage.label}`;
    this.#drawMatrix(stage);
    const c = convergenceChart(
      this.#stages.map((s) => s.rowError),
      this.#stages.map((s) => s.colError),
      this.#index,
    );
    draw($("sk-chart"), c);
  }

  #drawMatrix(stage: SinkhornStage): void {
    const n = this.#n, m = stage.matrix;
    const table = $<HTMLTableElement>("sk-matrix");
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.append(document.createElement("th"));
    for (let j = 0; j < n; j++) {
      const th = document.createElement("th");
      th.textContent = `${j + 1}`;
      head.append(th);
    }
    const sumHead = document.createElement("th");
    sumHead.textContent = "row Σ";
    head.append(sumHead);
    const body = table.createTBody();
    const limit = Math.max(...m);
    const text = (v: number) => this.#index === 0 ? fmt(v, 3) : v.toFixed(3);
    for (let i = 0; i < n; i++) {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.textContent = `${i + 1}`;
      tr.append(th);
      for (let j = 0; j < n; j++) {
        const v = m[i * n + j], td = tr.insertCell();
        td.textContent = text(v);
        td.style.background = diverging(v, limit);
        td.style.color = v > 0.6 * limit ? "#fff" : "#222";
      }
      sumCell(tr, stage.rowSums[i], "row-sum");
    }
    const foot = table.createTFoot().insertRow();
    const th = document.createElement("th");
    th.textContent = "col Σ";
    foot.append(th);
    for (let j = 0; j < n; j++) sumCell(foot, stage.colSums[j], "col-sum");
    foot.insertCell();
  }
}

function sumCell(tr: HTMLTableRowElement, v: number, kind: string): void {
  const td = tr.insertCell();
  const ok = Math.abs(v - 1) < CONVERGED;
  td.className = `sum ${kind} ${ok ? "ok" : "off"}`;
  td.textContent = Math.abs(v) >= 1e4 ? fmt(v, 4) : v.toFixed(4);
  td.dataset.value = String(v);
}
