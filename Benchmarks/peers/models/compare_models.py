#!/usr/bin/env python3
"""Dataflow vs PyTorch / JAX on the classic digit models, side by side.

Runs `dataflow-bench models --json` and the peers (`models.py --json`) for each model and
thread count, alternating between the frameworks in every round (so that a load change on
a shared machine hits all of them alike), then prints a Markdown table: final test
accuracy (DAE: test BCE) and median time per training step, per framework, with the
ratios peer / Dataflow (> 1: Dataflow faster). Timing sizes (`--timing-size`) likewise.

    swift build -c release --scratch-path .build-models
    .venv/bin/python Benchmarks/peers/models/compare_models.py --rounds 2
    .venv/bin/python Benchmarks/peers/models/compare_models.py --models lstm --timing-size
    .venv/bin/python Benchmarks/peers/models/compare_models.py --jsonl all.jsonl   # also keep the raw lines

Timing cells are the median over the rounds of each run's median step time (in ms),
with the range over the rounds when there are several.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = ("logreg", "mlp", "cnn", "dae", "lstm")


def log(msg):
    print(f"[compare_models] {msg}", file=sys.stderr, flush=True)


LOADS = []   # 1-minute load average sampled before every run


def run_json(cmd, raw):
    LOADS.append(os.getloadavg())
    log(f"load {LOADS[-1][0]:.2f}: " + " ".join(cmd))
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    recs = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            recs.append(json.loads(line))
            if raw is not None:
                raw.write(line + "\n")
    if p.returncode not in (0, 3):
        log(f"exit status {p.returncode}: {' '.join(cmd)}")
    return recs


def fmt_range(vals):
    vals = [v * 1e3 for v in vals]
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{med:.3f}"
    return f"{med:.3f} ({min(vals):.3f}–{max(vals):.3f})"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build-models", "release", "dataflow-bench"),
                    help="dataflow-bench binary (default: .build-models/release/dataflow-bench)")
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    ap.add_argument("--models", default="logreg,mlp,cnn,dae,lstm")
    ap.add_argument("--frameworks", default="torch,jax")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--epochs", type=int, help="default: 30 (as the peers)")
    ap.add_argument("--timing-size", action="store_true", help="cnn / lstm timing sizes instead of digits training")
    ap.add_argument("--jsonl", help="also write every JSON line to this file")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    fws = [f for f in args.frameworks.split(",") if f]
    threads = [int(t) for t in args.threads.split(",")]
    if args.timing_size:
        models = [m for m in models if m in ("cnn", "lstm")]
    raw = open(args.jsonl, "w") if args.jsonl else None
    bench_kind = "peer-model-timing" if args.timing_size else "peer-model"
    results = {}   # (model, framework, threads) -> [summary records]
    cpu = "unknown CPU"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    for rnd in range(args.rounds):
        for t in threads:
            for m in models:
                order = ["dataflow"] + fws if rnd % 2 == 0 else fws + ["dataflow"]
                for f in order:
                    if f == "dataflow":
                        cmd = [args.bench, "models", "--json", "--model", m, "--threads", str(t)]
                    else:
                        cmd = [args.python, os.path.join(HERE, "models.py"), "--framework", f, "--model", m,
                               "--threads", str(t), "--json"]
                    if args.timing_size:
                        cmd.append("--timing-size")
                    elif args.epochs:
                        cmd += ["--epochs", str(args.epochs)]
                    for r in run_json(cmd, raw):
                        if r.get("bench") == bench_kind and "skipped" not in r:
                            results.setdefault((m, f, r["threads"]), []).append(r)
    if raw:
        raw.close()
    allf = ["dataflow"] + fws
    names = {"dataflow": "Dataflow", "torch": "PyTorch", "jax": "JAX"}
    end = os.getloadavg()
    one = [l[0] for l in LOADS] + [end[0]]
    print(f"Machine: {cpu}, {os.cpu_count()} CPUs; {args.rounds} round(s), frameworks alternating.")
    print(f"Load average (1 min) before each run: {min(one):.2f}–{max(one):.2f} (median {statistics.median(one):.2f});"
          f" at the end 1/5/15 min: {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f}.\n")
    if not args.timing_size:
        print("| model | " + " | ".join(f"{names[f]} final acc (best)" for f in allf)
              + " | " + " | ".join(f"{names[f]} final loss" for f in allf) + " |")
        print("|---|" + "---:|" * (2 * len(allf)))
        for m in models:
            cells = []
            for f in allf:
                rs = results.get((m, f, threads[0]))
                if not rs:
                    cells.append("–")
                elif rs[0]["final_test_acc"] is None:
                    cells.append("(BCE)")
                else:
                    cells.append(f"{100 * rs[0]['final_test_acc']:.2f}% ({100 * rs[0]['best_test_acc']:.2f}%)")
            for f in allf:
                rs = results.get((m, f, threads[0]))
                cells.append("–" if not rs else f"{rs[0]['final_test_loss']:.4f}")
            print(f"| {m} | " + " | ".join(cells) + " |")
        print()
    what = "median step time (ms), timing size" if args.timing_size else "median time per training step (ms)"
    print(f"{what}; ratio = peer / Dataflow (> 1: Dataflow faster)\n")
    print("| model | threads | " + " | ".join(names[f] for f in allf) + " | "
          + " | ".join(f"{names[f]}/Dataflow" for f in fws) + " |")
    print("|---|---:|" + "---:|" * (len(allf) + len(fws)))
    for m in models:
        for t in threads:
            cells, meds = [], {}
            for f in allf:
                rs = results.get((m, f, t))
                if not rs:
                    cells.append("–")
                    continue
                vals = [r["step_median_s"] for r in rs]
                meds[f] = statistics.median(vals)
                cells.append(fmt_range(vals))
            for f in fws:
                cells.append(f"{meds[f] / meds['dataflow']:.2f}×" if f in meds and "dataflow" in meds else "–")
            print(f"| {m} | {t} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
