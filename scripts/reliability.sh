#!/usr/bin/env bash
# Longer reliability runs than CI's (issue 7): a long fuzz, the soak test of resident
# memory, then the sanitizers.
#   DATAFLOW_FUZZ_ITERATIONS   random programs per fuzz test (default here 500; CI uses 12)
set -euo pipefail
cd "$(dirname "$0")/.."
export DATAFLOW_FUZZ_ITERATIONS="${DATAFLOW_FUZZ_ITERATIONS:-500}"
swift test -c release --filter 'Fuzz|fuzz|randomDAG|Reliability'
swift run -c release dataflow-bench soak --steps 1000
bash scripts/sanitize.sh
bash scripts/check-generated.sh
