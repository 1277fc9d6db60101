#!/usr/bin/env python3
"""Dataflow's GEMM beside numpy's, one thread, in alternating rounds.

Each round runs `dataflow-bench gemm --json` and then `gemm.py --json` (numpy, in a
fresh process with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset and one BLAS thread)
on the same shapes; after all rounds it prints, per shape, the median GFLOP/s of
each over the rounds and their ratio (> 1: Dataflow is faster). Alternating rounds
spread the machine's slow phases over both sides.

  python3 Benchmarks/peers/gemm_compare.py                           # seed shapes + 2048², 3 rounds
  python3 Benchmarks/peers/gemm_compare.py --shapes 2048x2048x2048 --rounds 5 --cpu-time
  python3 Benchmarks/peers/gemm_compare.py --dtype double --shapes 4096x4096x4096
"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_SHAPES = ("2048x2048x2048,256x5000x16384,256x3000x5000,256x512x3000,256x40x512,"
                  "16384x5000x256:TN,5000x3000x256:TN,3000x512x256:TN,512x40x256:TN,"
                  "256x5000x3000:NT,256x3000x512:NT,256x512x40:NT")


def default_python():
    exe = os.path.join(REPO, ".venv", "bin", "python")
    return exe if os.path.isfile(exe) else sys.executable


def run_json(cmd, env=None):
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default=DEFAULT_SHAPES)
    p.add_argument("--dtype", default="float", choices=["float", "double"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--cpu-time", action="store_true", help="both sides time with CPU time instead of wall time")
    p.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "dataflow-bench"))
    p.add_argument("--python", default=default_python())
    args = p.parse_args()
    common = ["--shapes", args.shapes, "--dtype", args.dtype, "--reps", str(args.reps), "--json"] + \
             (["--cpu-time"] if args.cpu_time else [])
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    ours, theirs = {}, {}
    key = lambda r: (r["m"], r["n"], r["k"], r["transA"], r["transB"])
    for r in range(args.rounds):
        print(f"… round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for row in run_json([args.bench, "gemm", "--threads", "1"] + common):
            ours.setdefault(key(row), []).append(row["gflops"])
        for row in run_json([args.python, os.path.join(HERE, "gemm.py"), "--threads", "1"] + common, env=env):
            if row["library"] == "numpy":
                theirs.setdefault(key(row), []).append(row["gflops"])
    print(f"{'m':>6} {'n':>6} {'k':>6}  op   Dataflow    numpy   ratio   ({args.dtype}, 1 thread, "
          f"{'CPU' if args.cpu_time else 'wall'} time, median GFLOP/s of {args.rounds} rounds)")
    for k in ours:
        a, b = statistics.median(ours[k]), statistics.median(theirs.get(k, [float("nan")]))
        op = ("T" if k[3] else "N") + ("T" if k[4] else "N")
        print(f"{k[0]:6d} {k[1]:6d} {k[2]:6d}  {op}   {a:8.1f} {b:8.1f}   {a / b:5.2f}")


if __name__ == "__main__":
    main()
