#!/usr/bin/env bash
# Sanitizer runs that do not fit CI's time budget (issue 7):
#   ThreadSanitizer on the scheduler and the compiled-program (runtime) tests,
#   AddressSanitizer on the kernel tests.
# Each uses its own build folder (.build-tsan, .build-asan), so it does not disturb
# the normal build. Takes several minutes on 2 cores. Exits non-zero on any report.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ThreadSanitizer: scheduler and runtime tests"
swift test --sanitize=thread --scratch-path .build-tsan \
    --filter 'DataflowSchedulerTests|CompilerTests|Reliability' 2>&1 | tee /tmp/dataflow-tsan.log
if grep -q "WARNING: ThreadSanitizer" /tmp/dataflow-tsan.log; then
    echo "ThreadSanitizer reported a problem (see /tmp/dataflow-tsan.log)"; exit 1
fi

echo "== AddressSanitizer: kernel tests"
swift test --sanitize=address --scratch-path .build-asan \
    --filter 'DataflowKernelsTests' 2>&1 | tee /tmp/dataflow-asan.log
if grep -q "ERROR: AddressSanitizer" /tmp/dataflow-asan.log; then
    echo "AddressSanitizer reported a problem (see /tmp/dataflow-asan.log)"; exit 1
fi
echo "sanitizers: clean"
