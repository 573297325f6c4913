// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Whole-model gradient check: float64 central finite differences through the
// full forward pass of a tiny model, for every connection mode, against the
// op-by-op backward.

import { describe, it } from "@std/testing/bdd";
import { assert } from "@std/assert";
import { CONNECTION_MODES } from "../src/train/connection.ts";
import { Model, type ModelConfig, VOCAB } from "../src/train/model.ts";
import { Rng } from "../src/train/rng.ts";

function tinyModel(mode: ModelConfig["mode"], seed: number) {
  const cfg: ModelConfig = {
    mode,
    layers: 2,
    width: 6,
    heads: 2,
    context: 5,
    streams: 3,
    sinkhornIters: 7,
  };
  const B = 2;
  const model = new Model(cfg, B, Float64Array);
  const rng = new Rng(seed);
  model.init(rng);
  // Move every parameter away from its structured init so that no gradient
  // is zero by symmetry (φ = θ = 0, equal α, unit gains).
  for (let i = 0; i < model.params.length; i++) {
    model.params[i] += 0.3 * rng.normal();
  }
  // Random inputs and random targets make a random upstream gradient.
  const inputs = Array.from({ length: B * cfg.context }, () => rng.int(VOCAB));
  const targets = Array.from({ length: B * cfg.context }, () => rng.int(VOCAB));
  return { model, rng, B, T: cfg.context, inputs, targets };
}

describe("the whole-model gradient", () => {
  for (const mode of CONNECTION_MODES) {
    it(`matches central finite differences for every tensor in ${mode} mode`, () => {
      const { model, rng, B, T, inputs, targets } = tinyModel(mode, 7);
      model.zeroGrad();
      model.forward(inputs, targets, B, T);
      model.backward();
      const h = 1e-5;
      let checked = 0;
      for (const spec of model.layout) {
        const picks = new Set<number>();
        const want = Math.min(spec.size, 3);
        while (picks.size < want) picks.add(rng.int(spec.size));
        for (const k of picks) {
          const i = spec.offset + k;
          const keep = model.params[i];
          model.params[i] = keep + h;
          const up = model.forward(inputs, targets, B, T);
          model.params[i] = keep - h;
          const down = model.forward(inputs, targets, B, T);
          model.params[i] = keep;
          const numeric = (up - down) / (2 * h);
          const analytic = model.grads[i];
          // Central differences in float64 with h = 1e-5: truncation error
          // ~h²·|f'''| ≈ 1e-10 and rounding ~1e-16·|loss|/h ≈ 1e-10, far
          // below atol; rtol absorbs both for large gradients.
          const atol = 1e-8, rtol = 1e-5;
          assert(
            Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric),
            `${spec.name}[${k}]: backward ${analytic}, finite difference ${numeric}`,
          );
          checked++;
        }
      }
      assert(checked >= model.layout.length);
    });
  }
});
