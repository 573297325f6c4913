// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The dense kernels of a training step behind one interface, so that another
 * backend (WebGPU) can supply the same ops. {@linkcode cpuDenseOps} is the
 * plain TypeScript implementation.
 *
 * @module
 */

import { attentionBackward, attentionForward } from "./attention.ts";
import { crossEntropyBackward, crossEntropyForward } from "./cross_entropy.ts";
import { embeddingBackward, embeddingForward } from "./embedding.ts";
import { geluBackward, geluForward } from "./gelu.ts";
import { matmulBackward, matmulForward } from "./matmul.ts";
import { rmsnormBackward, rmsnormForward } from "./rmsnorm.ts";

/** Every dense op a step uses; backward ops accumulate into gradients. */
export interface DenseOps {
  /** Token plus position embedding. */
  embeddingForward: typeof embeddingForward;
  /** Backward of the embedding. */
  embeddingBackward: typeof embeddingBackward;
  /** RMSNorm with gain. */
  rmsnormForward: typeof rmsnormForward;
  /** Backward of RMSNorm. */
  rmsnormBackward: typeof rmsnormBackward;
  /** `out = inp · Wᵀ`. */
  matmulForward: typeof matmulForward;
  /** Backward of the dense layer. */
  matmulBackward: typeof matmulBackward;
  /** Causal multi-head attention. */
  attentionForward: typeof attentionForward;
  /** Backward of attention. */
  attentionBackward: typeof attentionBackward;
  /** GELU. */
  geluForward: typeof geluForward;
  /** Backward of GELU. */
  geluBackward: typeof geluBackward;
  /** Softmax and mean cross-entropy. */
  crossEntropyForward: typeof crossEntropyForward;
  /** Backward of the mean cross-entropy. */
  crossEntropyBackward: typeof crossEntropyBackward;
}

/** The dense ops in plain TypeScript. */
export const cpuDenseOps: DenseOps = {
  embeddingForward,
  embeddingBackward,
  rmsnormForward,
  rmsnormBackward,
  matmulForward,
  matmulBackward,
  attentionForward,
  attentionBackward,
  geluForward,
  geluBackward,
  crossEntropyForward,
  crossEntropyBackward,
};
