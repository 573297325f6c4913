// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The one-paragraph summary printed at the end of a run.
 *
 * @module
 */

import { duration } from "./progress.ts";
import { gainText } from "./report.ts";
import type { RunResult } from "./result.ts";

const NAMES = { residual: "residual", hc: "HC", mhc: "mHC" } as const;

function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(100 * x).toFixed(0)} %`;
}

function loss(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(3);
}

/**
 * @param results One run, or the three runs of `--compare`.
 * @param reportPath Where the report was written.
 * @returns A paragraph of plain text.
 */
export function summaryParagraph(
  results: RunResult[],
  reportPath: string,
): string {
  const r0 = results[0], cfg = r0.cfg;
  const tokens = cfg.steps * cfg.batch * cfg.context;
  const parts: string[] = [];
  const shape =
    `${cfg.layers}-block, width-${cfg.width} byte-level transformer`;
  const h = r0.entropy;
  const bound = h
    ? ` The source's entropy rate is ${
      h.perByte.toFixed(3)
    } nats/byte; no model can average below ${h.perByte.toFixed(3)}–${
      (h.perByte + h.stateEntropy / cfg.context).toFixed(3)
    } over ${cfg.context}-byte windows.`
    : "";
  if (results.length === 1) {
    const r = r0, s = r.evals.at(-1)?.stability;
    parts.push(
      `Trained a ${shape} with ${NAMES[cfg.mode]}${
        cfg.mode === "residual" ? " connections" : ` (n = ${cfg.streams})`
      } on ${r.dataName} for ${r.steps.length} steps (${
        tokens.toLocaleString("en-US")
      } tokens) in ${duration(r.trainMs / 1000)} of step time, ${
        Math.round(r.tokensPerSec)
      } tokens/s.`,
      `Validation loss went from ${loss(r.evals[0]?.valLoss)} to ${
        loss(r.evals.at(-1)?.valLoss)
      } nats/byte${r.diverged ? " before training diverged" : ""}.${bound}`,
    );
    if (s) {
      parts.push(
        `The composite stream mixing ${
          s.maxForwardGain < 2 && s.maxBackwardGain < 2
            ? "stayed bounded"
            : "grew"
        }: largest Amax gain ${gainText(s.maxForwardGain)} forward, ${
          gainText(s.maxBackwardGain)
        } backward` +
          (cfg.mode === "mhc"
            ? `; column sums within ${
              s.maxColumnSumError.toExponential(1)
            } of 1`
            : "") +
          `; stream spread ${
            r.evals.at(-1)!.streamSpread!.at(-1)!.toFixed(3)
          } (0 = identical streams).`,
      );
    }
    if (r.overhead) {
      parts.push(
        `A step took ${r.overhead.modeMs.toFixed(0)} ms against ${
          r.overhead.residualMs.toFixed(0)
        } ms for residual (${
          pct(r.overhead.measured)
        }; the FLOP count predicts ${pct(r.overhead.expected)}).`,
      );
    }
  } else {
    parts.push(
      `Trained the same ${shape} with residual, HC and mHC (n = ${cfg.streams}) connections, same seed and data (${r0.dataName}), ${cfg.steps} steps each.`,
      `Final validation loss: ${
        results.map((r) =>
          `${NAMES[r.cfg.mode]} ${loss(r.evals.at(-1)?.valLoss)}${
            r.diverged ? " (diverged)" : ""
          }`
        ).join(", ")
      } nats/byte.${bound}`,
    );
    const gains = results.filter((r) => r.evals.at(-1)?.stability);
    if (gains.length) {
      parts.push(
        `Largest composite Amax gain over training (forward / backward): ${
          gains.map((r) => {
            const f = Math.max(
              ...r.evals.map((e) => e.stability?.maxForwardGain ?? 0),
            );
            const b = Math.max(
              ...r.evals.map((e) => e.stability?.maxBackwardGain ?? 0),
            );
            return `${NAMES[r.cfg.mode]} ${gainText(f)} / ${gainText(b)}`;
          }).join(", ")
        }.`,
      );
    }
    const oh = results.filter((r) => r.overhead);
    if (oh.length) {
      parts.push(
        `Step time against residual (${
          results.find((r) => r.cfg.mode === "residual")!.stepMs.toFixed(0)
        } ms): ${
          oh.map((r) =>
            `${NAMES[r.cfg.mode]} ${pct(r.overhead!.measured)} (FLOPs predict ${
              pct(r.overhead!.expected)
            })`
          ).join(", ")
        }.`,
      );
    }
  }
  parts.push(`Report: ${reportPath}`);
  return parts.join(" ");
}
