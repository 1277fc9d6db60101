#!/usr/bin/env bash
# Long run of the safetensors reader fuzzer (Tests/DataflowTests/CheckpointFuzzTests.swift).
# Usage: scripts/fuzz-checkpoint.sh [iterations per seed file, default 200000]
# Each mutated file must decode or throw CheckpointError; a trap fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATAFLOW_FUZZ_ITERATIONS="${1:-200000}"
exec swift test -c release --scratch-path "${SCRATCH_PATH:-.build-ckpt}" --filter CheckpointFuzz
