#!/usr/bin/env bash
# Sanitizer runs that do not fit CI's time budget (issue 7):
#   ThreadSanitizer on the scheduler tests, then on the compiled-program (runtime)
#   tests, in separate processes (tests that block inside Swift concurrency tasks
#   would otherwise wait for the cooperative pool behind slow sanitized tests);
#   AddressSanitizer on the kernel tests.
# Debug builds in their own folders (.build-tsan, .build-asan). Takes 10+ minutes on
# 2 cores. Exits non-zero if a sanitizer reports anything or a test fails.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

run() {  # name, log, sanitizer, scratch, test arguments…
    local name=$1 log=$2 sanitizer=$3 scratch=$4; shift 4
    echo "== $name"
    swift test --sanitize="$sanitizer" --scratch-path "$scratch" "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    if grep -qE "WARNING: ThreadSanitizer|ERROR: AddressSanitizer" "$log"; then
        echo "$name: the sanitizer reported a problem (see $log)"; status=1
    elif [ "$rc" -ne 0 ]; then
        echo "$name: tests failed (see $log)"; status=1
    fi
}

run "ThreadSanitizer: scheduler" /tmp/dataflow-tsan-scheduler.log thread .build-tsan --filter DataflowSchedulerTests
# The 100 000-op chain is left out: under TSan's debug build it takes many minutes.
run "ThreadSanitizer: runtime" /tmp/dataflow-tsan-runtime.log thread .build-tsan \
    --filter 'CompilerTests|Reliability' --skip deepChain
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp"
run "AddressSanitizer: kernels" /tmp/dataflow-asan.log address .build-asan --filter DataflowKernelsTests
[ $status -eq 0 ] && echo "sanitizers: clean"
exit $status
