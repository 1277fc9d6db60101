#!/usr/bin/env bash
# Sanitizer runs that do not fit CI's time budget (issue 7):
#   ThreadSanitizer on the scheduler tests, then on the compiled-program (runtime)
#   tests, in separate processes (tests that block inside Swift concurrency tasks
#   would otherwise wait for the cooperative pool behind slow sanitized tests);
#   AddressSanitizer on the kernel tests.
# Debug builds in their own folders (.build-tsan, .build-asan). Takes 10+ minutes on
# 2 cores. Exits non-zero if a build fails, a sanitizer reports anything or a test
# fails, and says which (summary at the end; one line per run).
#
# Every sanitizer build defines DATAFLOW_NO_PREFETCH: under -sanitize=thread the
# compiler emits the `llvm.prefetch` intrinsic (Sources/DataflowKernels/Prefetch.swift)
# as an `invoke`, which LLVM's verifier rejects ("Broken module found"), so sanitizer
# builds get no-op prefetch hints instead.
#
# Environment: SANITIZE_ONLY=tsan-scheduler|tsan-runtime|asan-kernels (comma-separated)
# runs only those; JOBS=N passes -j N to swift build (default: swift's choice).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
summary=()
defines=(-Xswiftc -DDATAFLOW_NO_PREFETCH)
jobs=()
[ -n "${JOBS:-}" ] && jobs=(-j "$JOBS")

# The first line of a build log that names why the build failed: a compiler or
# LLVM error (the verifier's message comes before swift's "fatal error" line).
first_build_error() {
    local line
    line=$(grep -m1 -E 'error:|^LLVM ERROR|^Cannot invoke|Broken module|Assertion .* failed|^Stack dump' "$1")
    [ -n "$line" ] || line=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1)
    printf '%s' "$line"
}

# The first line in which a sanitizer reports a problem.
first_sanitizer_report() {
    grep -m1 -E 'WARNING: ThreadSanitizer|ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer|SUMMARY: (Address|Leak|Thread|UndefinedBehavior)Sanitizer' "$1"
}

selected() {
    [ -z "${SANITIZE_ONLY:-}" ] && return 0
    [[ ",$SANITIZE_ONLY," == *",$1,"* ]]
}

run() {  # key, name, log, sanitizer, scratch, test arguments…
    local key=$1 name=$2 log=$3 sanitizer=$4 scratch=$5; shift 5
    selected "$key" || return 0
    echo "== $name"
    local start=$SECONDS result rc
    # Build the test bundle first (and only it and what it imports: not the
    # benchmark executable), so that a compiler failure is reported as one.
    # (Again, up to twice, if a source file changed under the build.)
    local try
    for try in 1 2 3; do
        swift build --product DataflowPackageTests --sanitize="$sanitizer" --scratch-path "$scratch" \
            "${defines[@]}" "${jobs[@]}" > "$log.build" 2>&1
        rc=$?
        [ "$rc" -ne 0 ] && grep -q 'was modified during the build' "$log.build" || break
        echo "$name: a source file changed during the build; building again"
    done
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log.build"
        result="build failed: $(first_build_error "$log.build") (exit $rc; see $log.build)"
    else
        swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" \
            "${defines[@]}" "$@" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        local report
        report=$(first_sanitizer_report "$log")
        if [ -n "$report" ]; then
            result="sanitizer reported: $report (exit $rc; see $log)"
        elif [ "$rc" -ne 0 ]; then
            result="tests failed (exit $rc; see $log)"
        else
            result="clean"
        fi
    fi
    local line
    line=$(printf '%s: %s [%ds]' "$name" "$result" $((SECONDS - start)))
    [ "$result" = clean ] || status=1
    echo "$line"
    summary+=("$line")
}

run tsan-scheduler "ThreadSanitizer: scheduler" /tmp/dataflow-tsan-scheduler.log thread .build-tsan \
    --filter DataflowSchedulerTests
# Narrowed (TSAN_RUNTIME_FILTER / TSAN_RUNTIME_SKIP override): with CompilerTests
# ('CompilerTests|Reliability|UpdateSemantics|HeldValue|ProgramCache', skipping
# deepChain) the run passed 15 minutes on a loaded 2-core machine; CompilerTests'
# numerical checks (finite differences, 1/2/4/8 workers across tilings), the
# 100 000-op chain and the 1 000-step buffer-reuse test are left out.
run tsan-runtime "ThreadSanitizer: runtime" /tmp/dataflow-tsan-runtime.log thread .build-tsan \
    --filter "${TSAN_RUNTIME_FILTER:-Reliability|UpdateSemantics|HeldValue|ProgramCache}" \
    --skip "${TSAN_RUNTIME_SKIP:-deepChain|buffersAreReused}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp"
run asan-kernels "AddressSanitizer: kernels" /tmp/dataflow-asan.log address .build-asan \
    --filter DataflowKernelsTests

echo "== summary"
for line in "${summary[@]}"; do echo "$line"; done
if [ $status -eq 0 ]; then echo "sanitizers: clean"; else echo "sanitizers: FAILED"; fi
exit $status
