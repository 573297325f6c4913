// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The mHC playground page (web/index.html): settings and runs, the live
 * charts, samples, and the Sinkhorn view. Training happens in a Web Worker
 * (web/worker.ts): on WebGPU when the browser gives an adapter, else on the
 * CPU at a reduced size, which the page says in one line.
 *
 * Query parameter `device=cpu` turns WebGPU off (the fallback path).
 *
 * @module
 */

import type { TrainConfig } from "../src/train/config.ts";
import type { EvalRecord, StepRecord } from "../src/train/trainer.ts";
import {
  gainChart,
  lossChart,
  mixingChart,
  type RunView,
  speedChart,
} from "./charts.ts";
import { byId, draw } from "./dom.ts";
import type {
  FromWorker,
  PlaygroundSnapshot,
  ToWorker,
  WantedDevice,
} from "./protocol.ts";
import {
  checkSettings,
  CPU_LIMITS,
  defaultSettings,
  GPU_LIMITS,
  type Limits,
  type NumericKey,
  runLabel,
  SETTING_NAMES,
  type SettingKey,
  type SettingsForm,
} from "./settings.ts";
import { SinkhornView } from "./sinkhorn_view.ts";

/** One colour per run, in order. */
const COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];
/** Bytes asked for when a run ends or Sample is clicked. */
const SAMPLE_BYTES = 240;
/** Runs drawn in the gain chart (the latest ones). */
const GAIN_RUNS = 6;

type RunState = "running" | "finished" | "stopped" | "failed";

interface Run {
  id: number;
  cfg: TrainConfig;
  label: string;
  color: string;
  state: RunState;
  steps: StepRecord[];
  evals: EvalRecord[];
  entropy: number | null;
  params: number;
  sample: { prompt: string; text: string; bytes: number; ms: number } | null;
  error: string | null;
}

const form = byId<HTMLFormElement>("settings");
const buttons = {
  start: byId<HTMLButtonElement>("start"),
  stop: byId<HTMLButtonElement>("stop"),
  sample: byId<HTMLButtonElement>("sample"),
  clear: byId<HTMLButtonElement>("clear"),
};
const errorBox = byId("error");
const statusLine = byId("status");
const deviceLine = byId("device");

const runs: Run[] = [];
let nextId = 1;
let selected: number | null = null;
let runningId: number | null = null;
let samplingId: number | null = null;
let stopping = false;
let ready = false;
let device: WantedDevice | null = null;
let limits: Limits = CPU_LIMITS;
let errors: string[] = [];
/** The device line when the CPU trainer is used (set by chooseDevice). */
let fallbackLine = "";

const worker = new Worker(new URL("./worker.js", import.meta.url), {
  type: "module",
});
function send(message: ToWorker): void {
  worker.postMessage(message);
}

function field(key: SettingKey): HTMLInputElement | HTMLSelectElement {
  const el = form.elements.namedItem(key);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) {
    throw new Error(`The settings form has no field "${key}"`);
  }
  return el;
}

function readForm(): SettingsForm {
  const keys = Object.keys(SETTING_NAMES) as SettingKey[];
  return Object.fromEntries(
    keys.map((k) => [k, field(k).value]),
  ) as SettingsForm;
}

function fillForm(values: SettingsForm): void {
  for (const [k, v] of Object.entries(values)) field(k as SettingKey).value = v;
  syncStreams();
}

/** Streams mean nothing for a plain residual network. */
function syncStreams(): void {
  field("streams").disabled = field("mode").value === "residual";
}

function showErrors(title: string, messages: string[]): void {
  errors = messages;
  errorBox.replaceChildren();
  if (messages.length === 0) {
    errorBox.hidden = true;
    return;
  }
  const head = document.createElement("strong");
  head.textContent = title;
  const list = document.createElement("ul");
  for (const m of messages) {
    const li = document.createElement("li");
    li.textContent = m;
    list.append(li);
  }
  errorBox.append(head, list);
  errorBox.hidden = false;
}

function describeLimits(l: Limits): string {
  const r = l.ranges;
  const span = (k: NumericKey) => `${r[k].min}–${r[k].max}`;
  return `Limits on the ${l.device}: n ${span("streams")}, layers ${
    span("layers")
  }, width ${span("width")}, heads ${span("heads")}, context ${
    span("context")
  }, batch ${span("batch")}, steps ${span("steps")}.`;
}

function start(): void {
  if (!ready || runningId !== null) return;
  const checked = checkSettings(readForm(), limits);
  const bad = new Set(checked.ok ? [] : checked.errors.map((e) => e.key));
  for (const k of Object.keys(SETTING_NAMES) as SettingKey[]) {
    field(k).classList.toggle("invalid", bad.has(k));
  }
  if (!checked.ok) {
    showErrors(
      "Not started:",
      checked.errors.map((e) => e.message),
    );
    schedule();
    return;
  }
  showErrors("", []);
  const cfg = checked.cfg;
  const id = nextId++;
  runs.push({
    id,
    cfg,
    label: `#${id} ${runLabel(cfg)}`,
    color: COLORS[(id - 1) % COLORS.length],
    state: "running",
    steps: [],
    evals: [],
    entropy: null,
    params: 0,
    sample: null,
    error: null,
  });
  runningId = id;
  selected = id;
  stopping = false;
  send({ type: "start", id, cfg });
  schedule();
}

function runOf(id: number | null): Run | undefined {
  return runs.find((r) => r.id === id);
}

function onMessage(msg: FromWorker): void {
  switch (msg.type) {
    case "ready": {
      ready = true;
      device = msg.device;
      limits = msg.device === "webgpu" ? GPU_LIMITS : CPU_LIMITS;
      if (msg.device === "webgpu") {
        deviceLine.textContent =
          `Training on WebGPU (${msg.description}), in a Web Worker.`;
      } else {
        deviceLine.textContent = msg.notice ?? fallbackLine;
        deviceLine.classList.add("fallback");
      }
      fillForm(defaultSettings(limits));
      byId("limits").textContent = describeLimits(limits);
      break;
    }
    case "started": {
      const run = runOf(msg.id);
      if (run) {
        run.entropy = msg.entropy;
        run.params = msg.params;
      }
      break;
    }
    case "step":
      runOf(msg.id)?.steps.push(msg.record);
      break;
    case "eval":
      runOf(msg.id)?.evals.push(msg.record);
      break;
    case "done": {
      const run = runOf(msg.id);
      if (run) run.state = msg.reason;
      runningId = null;
      stopping = false;
      if (run && run.steps.length > 0) requestSample(run.id);
      break;
    }
    case "sample": {
      const run = runOf(msg.id);
      if (run) {
        run.sample = {
          prompt: msg.prompt,
          text: msg.text,
          bytes: msg.bytes,
          ms: msg.ms,
        };
      }
      samplingId = null;
      break;
    }
    case "error": {
      const run = runOf(msg.id);
      if (run) {
        run.error = msg.message;
        if (run.id === runningId) {
          run.state = "failed";
          runningId = null;
        }
      }
      if (msg.id !== null && msg.id === samplingId) samplingId = null;
      showErrors(
        run ? `Run #${run.id} failed:` : "The trainer failed:",
        [msg.message],
      );
      break;
    }
  }
  schedule();
}

function requestSample(id: number): void {
  samplingId = id;
  send({ type: "sample", id, bytes: SAMPLE_BYTES });
  schedule();
}

// ---- drawing ------------------------------------------------------------

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[v.length >> 1];
}

function view(run: Run): RunView {
  const last = run.evals.at(-1);
  return {
    label: run.label,
    color: run.color,
    losses: run.steps.map((s) => [s.step, s.loss]),
    valLosses: run.evals.map((e) => [e.step, e.valLoss]),
    speed: run.steps.map((s) => [s.step, s.tokensPerSec]),
    forwardGain: last?.stability?.forwardGain,
    backwardGain: last?.stability?.backwardGain,
  };
}

function number(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

function renderTable(): void {
  const body = byId<HTMLTableElement>("runs").tBodies[0];
  body.replaceChildren();
  for (const run of runs) {
    const tr = body.insertRow();
    tr.className = run.id === selected ? "selected" : "";
    tr.title = `${run.params.toLocaleString("en")} parameters; ${run.state}` +
      (run.error ? `: ${run.error}` : "");
    tr.addEventListener("click", () => {
      selected = run.id;
      schedule();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = run.color;
    tr.insertCell().append(swatch);
    tr.insertCell().textContent = run.label;
    const done = run.steps.length;
    tr.insertCell().textContent = run.state === "running"
      ? `${done}/${run.cfg.steps}`
      : run.state === "finished"
      ? String(done)
      : `${done} ${run.state}`;
    const recent = run.steps.slice(-5).map((s) => s.loss);
    tr.insertCell().textContent = number(
      recent.length ? recent.reduce((a, b) => a + b) / recent.length : NaN,
      3,
    );
    tr.insertCell().textContent = number(run.evals.at(-1)?.valLoss, 3);
    const speed = median(run.steps.slice(-10).map((s) => s.tokensPerSec));
    tr.insertCell().textContent = Number.isFinite(speed)
      ? Math.round(speed).toLocaleString("en")
      : "–";
  }
}

function renderSample(run: Run | undefined): void {
  const pre = byId("sample-text");
  pre.replaceChildren();
  if (!run) {
    pre.textContent = "Train a run to sample from it.";
  } else if (run.id === samplingId) {
    pre.textContent = `Generating from run #${run.id}…`;
  } else if (run.sample) {
    const prompt = document.createElement("span");
    prompt.className = "prompt";
    prompt.textContent = run.sample.prompt;
    prompt.title = "prompt: the first bytes of the validation text";
    pre.append(prompt, run.sample.text);
  } else {
    pre.textContent = run.state === "running"
      ? `Run #${run.id} samples when it ends.`
      : `Run #${run.id} has no sample yet.`;
  }
}

function render(): void {
  renderTable();
  const views = runs.map(view);
  const entropy = runs.find((r) => r.entropy !== null)?.entropy ?? null;
  draw(byId("loss-chart"), lossChart(views, entropy));
  draw(byId("speed-chart"), speedChart(views));
  draw(byId("gain-chart"), gainChart(views.slice(-GAIN_RUNS)));

  const run = runOf(selected) ?? runs.at(-1);
  const last = run?.evals.at(-1);
  const mixing = last?.stability?.meanMixing;
  const caption = !run
    ? ""
    : run.cfg.mode === "residual"
    ? `run #${run.id} is a plain residual network: no H_res`
    : last
    ? `run #${run.id} at step ${last.step}`
    : `run #${run.id}, waiting for its first evaluation`;
  draw(
    byId("mixing"),
    mixingChart(mixing, run?.cfg.streams ?? 1, caption),
  );
  renderSample(run);

  const busy = runningId !== null;
  buttons.start.disabled = !ready || busy;
  buttons.stop.disabled = !busy || stopping;
  buttons.sample.disabled = !run || run.state === "running" ||
    samplingId !== null || run.steps.length === 0;
  buttons.clear.disabled = runs.every((r) => r.id === runningId);
  const current = runOf(runningId);
  statusLine.textContent = current
    ? `Run #${current.id}: step ${current.steps.length} of ${current.cfg.steps}${
      stopping ? ", stopping…" : ""
    }`
    : samplingId !== null
    ? `Generating a sample from run #${samplingId}…`
    : ready
    ? "Ready."
    : "Starting the trainer…";
  document.body.dataset.state = busy ? "running" : "idle";
}

// ---- wiring -------------------------------------------------------------

async function chooseDevice(): Promise<WantedDevice> {
  const tail = "the CPU trainer runs in a Web Worker, at a reduced size.";
  if (new URLSearchParams(location.search).get("device") === "cpu") {
    fallbackLine = `WebGPU is turned off by ?device=cpu: ${tail}`;
    return "cpu";
  }
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) {
    fallbackLine =
      `This browser has no WebGPU (navigator.gpu is undefined): ${tail}`;
    return "cpu";
  }
  try {
    if (await gpu.requestAdapter()) return "webgpu";
    fallbackLine = `This browser found no WebGPU adapter: ${tail}`;
  } catch (e) {
    fallbackLine = `WebGPU failed to start (${
      e instanceof Error ? e.message : e
    }): ${tail}`;
  }
  return "cpu";
}

function snapshot(): PlaygroundSnapshot {
  return {
    ready,
    device,
    deviceLine: deviceLine.textContent ?? "",
    running: runningId !== null,
    sampling: samplingId !== null,
    errors,
    runs: runs.map((r) => ({
      id: r.id,
      mode: r.cfg.mode,
      state: r.state,
      losses: r.steps.map((s) => s.loss),
      evals: r.evals.map((e) => ({
        step: e.step,
        valLoss: e.valLoss,
        maxColumnSumError: e.stability?.maxColumnSumError ?? null,
        maxForwardGain: e.stability?.maxForwardGain ?? null,
        maxBackwardGain: e.stability?.maxBackwardGain ?? null,
        sites: e.stability?.meanMixing.length ?? 0,
        values: e.stability?.meanMixing[0]?.length ?? 0,
      })),
      sample: r.sample ? r.sample.text : null,
      error: r.error,
    })),
  };
}

worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
worker.onerror = (e) => {
  e.preventDefault();
  showErrors("The trainer worker failed:", [e.message || "it did not load"]);
  runningId = null;
  schedule();
};
buttons.start.addEventListener("click", start);
buttons.stop.addEventListener("click", () => {
  stopping = true;
  send({ type: "stop" });
  schedule();
});
buttons.sample.addEventListener("click", () => {
  const run = runOf(selected) ?? runs.at(-1);
  if (run) requestSample(run.id);
});
buttons.clear.addEventListener("click", () => {
  for (let i = runs.length - 1; i >= 0; i--) {
    if (runs[i].id !== runningId) runs.splice(i, 1);
  }
  if (!runOf(selected)) selected = runningId;
  schedule();
});
field("mode").addEventListener("change", syncStreams);
form.addEventListener("input", (e) => {
  (e.target as Element).classList.remove("invalid");
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  start();
});

(globalThis as { mhcPlayground?: unknown }).mhcPlayground = { snapshot };
fillForm(defaultSettings(CPU_LIMITS));
new SinkhornView();
schedule();
send({ type: "init", device: await chooseDevice() });
