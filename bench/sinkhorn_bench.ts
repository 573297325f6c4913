// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// `deno bench` suite of the sinkhorn kernels, forward and backward: the TypeScript
// reference (baseline) and the WGSL kernels side by side (see _register.ts).

import "./_permissions.ts";
import { registerFamily } from "./_register.ts";

await registerFamily("sinkhorn");
