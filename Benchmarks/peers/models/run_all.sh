#!/bin/sh
# Every model in both frameworks at 1 and 2 threads (digits training runs, then the timing
# sizes), one fresh process each, JSON lines to stdout; then:
#   .venv/bin/python Benchmarks/peers/models/table.py results.jsonl
# Usage (from the repository root): sh Benchmarks/peers/models/run_all.sh > results.jsonl
# Environment: PY (default .venv/bin/python), THREADS (default "1 2"), MODELS, FRAMEWORKS.
PY=${PY:-.venv/bin/python}
THREADS=${THREADS:-"1 2"}
MODELS=${MODELS:-"logreg mlp cnn dae lstm"}
FRAMEWORKS=${FRAMEWORKS:-"torch jax"}
M=Benchmarks/peers/models/models.py
for t in $THREADS; do
  for m in $MODELS; do
    for f in $FRAMEWORKS; do
      echo "[run_all] $f $m threads=$t" >&2
      "$PY" "$M" --framework "$f" --model "$m" --threads "$t" --json
    done
  done
  for m in cnn lstm; do
    case " $MODELS " in *" $m "*) ;; *) continue ;; esac
    for f in $FRAMEWORKS; do
      echo "[run_all] $f $m timing size threads=$t" >&2
      "$PY" "$M" --framework "$f" --model "$m" --threads "$t" --timing-size --json
    done
  done
done
