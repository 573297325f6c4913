#!/usr/bin/env bash
# Runs the benchmark report on a machine with a GPU and leaves the results in
# $OUT. Run from anywhere; it works on the repository it lives in.
#
#   OUT=/tmp/bench-gpu bash bench/device.sh
#
# Needs Deno 2.9.6 on PATH and a WebGPU adapter (a GPU with a Vulkan driver:
# Deno's WebGPU uses Vulkan on Linux). No network: @std comes from the
# offline stand-ins (MHC_STD=offline), so the machine may be cut off.
#
# Settings (environment):
#   OUT                  directory for the results (default: a new temporary
#                        directory, printed at the end)
#   MHC_BENCH_SECTION    name of the blocks to fill in bench/RESULTS.md
#                        (default h200: the blocks under "H200")
#   MHC_DEVICE_LIMIT_S   time limit of the report in seconds (default 480)
#   MHC_BENCH_MB         bytes per [T, n, C] buffer in MiB (default 1024 on a
#                        GPU; see bench/_env.ts)
#
# What it writes to $OUT:
#   RESULTS.md   bench/RESULTS.md with the section's blocks filled in and
#                everything else unchanged: copy it over bench/RESULTS.md,
#                then update the hand-written "Goals" explanations if the
#                verdicts call for it
#   report.log   the report's progress lines and any error
#
# Expect a few minutes on a large GPU (1 GiB buffers: T = 52 224 at C = 1280).
# Without timestamp queries the report falls back to wall-clock time per
# batch of calls.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export MHC_STD=offline NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
section=${MHC_BENCH_SECTION:-h200}
echo "== bench:report --section $section (limit ${MHC_DEVICE_LIMIT_S:-480} s)"
timeout "${MHC_DEVICE_LIMIT_S:-480}" deno task bench:report \
  --section "$section" --out "$OUT/RESULTS.md" 2>&1 | tee "$OUT/report.log"
status=${PIPESTATUS[0]}
echo "== bench:report exit status $status; results in $OUT"
exit "$status"
