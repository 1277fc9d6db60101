#!/usr/bin/env bash
# Reproduces the README's results table on this machine: every figure comes from
# these commands (medians of several runs; ratios against peers measured in the same
# script). Output goes to Benchmarks/results/ (git-ignored) and standard output.
#   PYTHON   a Python with numpy (and optionally torch, jax) for the peers
#            (default: .venv/bin/python if present, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Benchmarks/results
mkdir -p "$out" docs
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
swift build -c release
bench=.build/release/dataflow-bench
date -u +"%Y-%m-%d %H:%M UTC" | tee "$out/date.txt"
uptime | tee -a "$out/date.txt"

$bench speedup --threads 1,2 --batch 256 --reps 7 --warmup 2 --svg docs/seed-step.svg --trace docs/seed-step-trace.json | tee "$out/speedup-256.txt"
$bench speedup --threads 1,2 --batch 64 --reps 9 --warmup 2 | tee "$out/speedup-64.txt"
$bench seed | tee "$out/seed.txt"
$bench gemm --threads 1,2 | tee "$out/gemm.txt"
# Dataflow beside numpy, one thread, alternating rounds (gemm_compare.py unsets the OpenBLAS overrides).
"$PYTHON" Benchmarks/peers/gemm_compare.py --python "$PYTHON" --rounds 3 | tee "$out/gemm-vs-numpy.txt"
"$PYTHON" Benchmarks/peers/gemm_compare.py --python "$PYTHON" --rounds 3 --dtype double \
    --shapes 1024x1024x1024,2048x2048x2048,4096x4096x4096,256x5000x16384,16384x5000x256:TN,256x5000x3000:NT \
    | tee "$out/gemm-vs-numpy-double.txt"
$bench sched | tee "$out/sched.txt"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" Benchmarks/peers/compare.py --threads 1,2 --batch 256,64 --reps 5 --rounds 3 \
    | tee "$out/peers.txt"
