#!/usr/bin/env bash
# Reliability check of `dataflow-bench sched` (it used to die with SIGSEGV in about
# half the runs: the DispatchGroup baseline released a million-node chain recursively
# on a Dispatch thread). First every code path once at small sizes, then N full-size
# runs; stops at the first non-zero exit.
#   RUNS   full-size runs (default 5)
#   BENCH  a built dataflow-bench (default: build with --scratch-path .build-sched)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
if [ -z "${BENCH:-}" ]; then
    swift build -c release --scratch-path .build-sched --product dataflow-bench
    BENCH=.build-sched/release/dataflow-bench
fi
echo "== small sizes, every path (rerun, build+run, baseline, breakdown, latency, scaling)"
"$BENCH" sched --size 64 --baseline-size 64 --reps 1 --breakdown > /dev/null
"$BENCH" sched --size 64 --baseline-size 64 --reps 1 --json > /dev/null
for i in $(seq 1 "$RUNS"); do
    echo "== full size, run $i/$RUNS"
    "$BENCH" sched --skip-extras > /dev/null 2>&1 || { rc=$?; echo "run $i failed with exit status $rc"; exit "$rc"; }
done
echo "cli-soak: $RUNS full-size runs of dataflow-bench sched completed"
