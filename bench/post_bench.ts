// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// `deno bench` suite of the post kernels, forward and backward: the TypeScript
// reference (baseline), the fused WGSL kernel and, forward, the unfused
// three-pass WGSL path of unfused_post.ts, side by side (see _register.ts).

import "./_permissions.ts";
import { registerFamily } from "./_register.ts";

await registerFamily("post");
