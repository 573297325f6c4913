#!/usr/bin/env bash
# Runs the benchmark report on the lent GPU machine (the H200) and brings the
# figures back. It is the command given to the device tool; the steps are in
# bench/RESULTS.md, section "H200: not yet measured":
#
#   here, once per session:   bash ../shared/device/prepare.sh   (fills .device/)
#   device tool:              run(carry: [".device"], timeout_s: 540,
#                                 command: "bash .device/run.sh bash bench/device.sh")
#
# The machine has no network: @std comes from the offline import map
# (MHC_STD=offline). What comes back, under the tool's files_at:
#   RESULTS.md   bench/RESULTS.md with the "h200" blocks filled in
#   report.log   the report's progress lines and any error
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OUT:-}" ]; then
  echo "bench/device.sh: OUT is not set (run it through the device tool)" >&2
  exit 2
fi
export MHC_STD=offline NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
section=${MHC_BENCH_SECTION:-h200}
echo "== bench:report --section $section (limit ${MHC_DEVICE_LIMIT_S:-480} s)"
timeout "${MHC_DEVICE_LIMIT_S:-480}" deno task bench:report \
  --section "$section" --out "$OUT/RESULTS.md" 2>&1 | tee "$OUT/report.log"
status=${PIPESTATUS[0]}
echo "== bench:report exit status $status"
exit "$status"
