#!/usr/bin/env bash
# Checks that each generated source file is exactly what its generator in
# scripts/generators/ writes (exit 0: regenerating changes nothing). The generators
# run by hand, never at build time; `--write` regenerates the files instead.
#   scripts/check-generated.sh           check (CI, scripts/reliability.sh)
#   scripts/check-generated.sh --write   regenerate after editing a generator
set -euo pipefail
cd "$(dirname "$0")/.."

# generator script, generated file
pairs=(
    scripts/generators/gemm-micro-kernel.swift Sources/DataflowKernels/GEMM+MicroKernel.swift
    scripts/generators/gemm-transpose.swift Sources/DataflowKernels/GEMM+Transpose.swift
)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
status=0
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    generator=${pairs[i]} file=${pairs[i + 1]}
    swift "$generator" > "$tmp"
    if [[ "${1:-}" == "--write" ]]; then
        cp "$tmp" "$file"
        echo "wrote $file"
    elif ! diff -u "$file" "$tmp"; then
        echo "check-generated: $file is not what $generator writes; regenerate with" >&2
        echo "  swift $generator > $file" >&2
        status=1
    fi
done
exit $status
