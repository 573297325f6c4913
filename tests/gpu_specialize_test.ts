// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// Every constant that the host code and a kernel share is defined once, in
// the host, and written into the kernel when its source is built; the
// kernels' invariants between constants are checked there. No GPU needed:
// a stand-in runtime records the sources the encode functions build.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import {
  encodeMhcCoefficients,
  encodeMhcCoefficientsBackward,
  encodeMhcPost,
  encodeMhcPre,
  encodeSinkhornKnopp,
  mhcCoefficientsSavedBytes,
  mhcCoefficientsScratchBytes,
  type MhcGpu,
  type PipelineSpec,
} from "@birkhoff/mhc";
import {
  assertInvariant,
  constantValue,
  withConstants,
} from "../src/gpu/specialize.ts";
import {
  LANES_WIDE,
  MAX_STREAMS,
  ONE_LANE_MAX_VECTORS,
  WG_ELEMENTWISE,
  WG_POST,
} from "../src/gpu/_streams.ts";
import { tokenReduceWgsl } from "../src/kernels/token_reduce.ts";
import { preWgsl } from "../src/kernels/pre.ts";

/** A runtime stand-in that keeps the source of every pipeline asked for. */
function recordingRuntime(): { gpu: MhcGpu; sources: Map<string, string> } {
  const sources = new Map<string, string>();
  const gpu = {
    f16: true,
    limits: {
      maxStorageBufferBindingSize: 1 << 27,
      maxComputeWorkgroupsPerDimension: 65535,
      minStorageBufferOffsetAlignment: 256,
    },
    device: { limits: { maxStorageBuffersPerShaderStage: 10 } },
    compute: () => Promise.resolve([]),
    requireF16: () => {},
    pipeline(spec: PipelineSpec) {
      sources.set(spec.entryPoint ?? spec.label, spec.code);
      return Promise.resolve({} as GPUComputePipeline);
    },
    encodeTokens: () => {},
  };
  return { gpu: gpu as unknown as MhcGpu, sources };
}

const buffer = {} as GPUBuffer;
const encoder = {} as GPUCommandEncoder;
const alphas = { alphaPre: 0.1, alphaPost: 0.1, alphaRes: 0.1 };
const value = (sources: Map<string, string>, entry: string, name: string) =>
  constantValue(sources.get(entry)!, name);

describe("kernel constants", () => {
  it("read and check the one line that defines them", () => {
    assertEquals(
      constantValue("const A: u32 = 12u;\nconst B: u32 = 3u;", "A"),
      12,
    );
    assertThrows(
      () => constantValue("const A: u32 = 1u;", "B"),
      Error,
      "0 lines",
    );
    assertThrows(
      () => constantValue("const A: u32 = 1u;\nconst A: u32 = 2u;", "A"),
      Error,
      "2 lines",
    );
    assertEquals(
      constantValue(withConstants(preWgsl, { WG: 64 }), "WG"),
      64,
    );
    assertThrows(() => assertInvariant(false, "x <= y"), Error, "x <= y");
  });

  it("give the pre kernel the host's workgroup size", async () => {
    const { gpu, sources } = recordingRuntime();
    for (const n of [1, 5, 8]) {
      for (const C of [37, 64]) {
        await encodeMhcPre(gpu, encoder, {
          x: buffer,
          hPre: buffer,
          out: buffer,
        }, { n, C, T: 3 });
      }
    }
    assert(sources.size > 0);
    for (const [key, code] of sources) {
      assertEquals(constantValue(code, "WG"), WG_ELEMENTWISE, key);
    }
  });

  it("give the post kernel the host's workgroup size and one lane per token on short rows, LANES_WIDE on long ones", async () => {
    const cases = [
      // C, vectors per row, lanes per token
      [37, 37, 1],
      [64, 16, 1],
      [4 * ONE_LANE_MAX_VECTORS, ONE_LANE_MAX_VECTORS, 1],
      [4 * ONE_LANE_MAX_VECTORS + 4, ONE_LANE_MAX_VECTORS + 1, LANES_WIDE],
      [ONE_LANE_MAX_VECTORS + 1, ONE_LANE_MAX_VECTORS + 1, LANES_WIDE],
      [1280, 320, LANES_WIDE],
    ];
    for (const n of [1, 5, 8]) {
      for (const [C, , lanes] of cases) {
        const { gpu, sources } = recordingRuntime();
        await encodeMhcPost(gpu, encoder, {
          x: buffer,
          y: buffer,
          hPost: buffer,
          hRes: buffer,
          out: buffer,
        }, { n, C, T: 3 });
        assertEquals(sources.size, 1);
        for (const [key, code] of sources) {
          assertEquals(constantValue(code, "WG"), WG_POST, key);
          assertEquals(constantValue(code, "L"), lanes, key);
          assertEquals(constantValue(code, "N"), n, key);
          assertEquals(WG_POST % lanes, 0, key);
        }
      }
    }
  });

  it("give the token reduction one round for every supported n (R == MAX_STREAMS)", () => {
    assertEquals(constantValue(tokenReduceWgsl, "R"), MAX_STREAMS);
  });

  it("give the Sinkhorn kernels N and the host's matrices per workgroup", async () => {
    const { gpu, sources } = recordingRuntime();
    await encodeSinkhornKnopp(
      gpu,
      encoder,
      { logits: buffer, output: buffer },
      {
        n: 7,
        T: 5,
      },
    );
    assertEquals(value(sources, "sinkhorn_forward", "N"), 7);
    assertEquals(value(sources, "sinkhorn_forward", "SK_WG"), 64);
  });

  it("give the coefficient kernels the row widths of the host's buffers, for every n", async () => {
    for (let n = 1; n <= 8; n++) {
      const { gpu, sources } = recordingRuntime();
      const o = { n, C: 9, T: 1 };
      await encodeMhcCoefficients(
        gpu,
        encoder,
        {
          x: buffer,
          phi: buffer,
          bias: buffer,
          hPre: buffer,
          hPost: buffer,
          hRes: buffer,
          saved: buffer,
        },
        alphas,
        o,
      );
      await encodeMhcCoefficientsBackward(
        gpu,
        encoder,
        {
          x: buffer,
          phi: buffer,
          saved: buffer,
          gradHPre: buffer,
          gradHPost: buffer,
          gradHRes: buffer,
          gradX: buffer,
          gradPhi: buffer,
          gradBias: buffer,
          gradAlpha: buffer,
          scratch: buffer,
        },
        alphas,
        o,
      );
      const saved = mhcCoefficientsSavedBytes({ n, T: 1 }) / 4;
      const scratch = mhcCoefficientsScratchBytes({ n, T: 1 }) / 4;
      assertEquals(value(sources, "coefficients_forward", "SAVED_W"), saved);
      assertEquals(value(sources, "coefficients_backward", "SAVED_W"), saved);
      assertEquals(
        value(sources, "coefficients_backward", "SCRATCH_W"),
        scratch,
      );
      assertEquals(value(sources, "coefficients_project", "SAVED_W"), saved);
      assertEquals(
        value(sources, "coefficients_grad_x", "SCRATCH_W"),
        scratch,
      );
      assertEquals(
        value(sources, "coefficients_grad_phi", "SCRATCH_W"),
        scratch,
      );
    }
  });
});
