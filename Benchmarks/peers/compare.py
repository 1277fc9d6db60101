#!/usr/bin/env python3
"""Run the seed-network step in Dataflow and its peers and print them side by side.

Each (framework, thread count) runs seed_step.py in a fresh subprocess (thread
limits are fixed when a library is loaded); Dataflow runs as
`dataflow-bench speedup --json --threads T1,T2 --batch B` once per batch.
For each batch it prints a table: rows framework, columns thread counts, cells the
median seconds per step and, for the peers, peer median / Dataflow median (how
many times faster Dataflow is; > 1 means Dataflow wins).

  python3 Benchmarks/peers/compare.py                        # batch 256 and 64, 1 and 2 threads
  python3 Benchmarks/peers/compare.py --threads 1 --batch 64 --reps 3 --skip-dataflow
  python3 Benchmarks/peers/compare.py --json > results.jsonl
  python3 Benchmarks/peers/compare.py --rounds 3             # taking turns 3 times: steadier on a noisy machine
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SEED_STEP = os.path.join(HERE, "seed_step.py")
DEFAULT_BENCH = os.path.join(REPO, ".build", "release", "dataflow-bench")
DEFAULT_SIZES = "16384,5000,3000,512,40"
OPENBLAS_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
EXIT_SKIPPED = 3


def default_python():
    for venv in (os.path.join(REPO, ".venv"), os.path.join(HERE, ".venv")):
        exe = os.path.join(venv, "bin", "python")
        if os.path.isfile(exe):
            return exe
    return sys.executable


def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_args(argv):
    p = argparse.ArgumentParser(description="Dataflow vs numpy / PyTorch / JAX on the seed-network step.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--threads", type=int_list, default=[1, 2], help="thread counts (default 1,2)")
    p.add_argument("--batch", type=int_list, default=[256, 64], help="batch sizes (default 256,64)")
    p.add_argument("--frameworks", default="numpy,torch,jax",
                   help="peers to run, comma-separated, from numpy,torch,jax (default all; "
                        "empty string for none)")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"layer sizes, input first (default {DEFAULT_SIZES})")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per measurement (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--rounds", type=int, default=1,
                   help="run everything this many times, Dataflow and the peers taking turns, and report "
                        "the median of the per-round medians (spreads a noisy machine's slow phases; default 1)")
    p.add_argument("--bench", default=DEFAULT_BENCH,
                   help="dataflow-bench binary (default .build/release/dataflow-bench in the repo)")
    p.add_argument("--skip-dataflow", action="store_true", help="run the peers only")
    p.add_argument("--dataflow-args", default="",
                   help="extra arguments for 'dataflow-bench speedup', e.g. \"--simulate 4\"")
    p.add_argument("--python", default=default_python(),
                   help="Python that runs the peers (default: the repo's .venv if it exists, else this one)")
    p.add_argument("--peer-args", default="", help="extra arguments for seed_step.py, e.g. \"--update\"")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per subprocess (default 1800)")
    p.add_argument("--json", action="store_true",
                   help="JSON lines: every measurement, then one 'peer-compare' object per cell")
    args = p.parse_args(argv)
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for f in args.frameworks:
        if f not in ("numpy", "torch", "jax"):
            p.error(f"--frameworks: unknown framework {f!r} (choose from numpy, torch, jax)")
    try:
        args.sizes = int_list(args.sizes.replace("-", ","))
    except argparse.ArgumentTypeError as e:
        p.error(f"--sizes: {e}")
    if args.reps < 1 or args.warmup < 0 or args.rounds < 1:
        p.error("--reps and --rounds must be >= 1 and --warmup >= 0")
    return args


def note(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def child_env():
    env = dict(os.environ)
    for var in OPENBLAS_UNSET:
        env.pop(var, None)
    return env


def json_lines(text):
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                pass


def run_peer(args, framework, threads):
    """Returns ({batch: record}, skipped message or None)."""
    cmd = [args.python, SEED_STEP, "--framework", framework, "--threads", str(threads),
           "--batch", ",".join(map(str, args.batch)), "--sizes", ",".join(map(str, args.sizes)),
           "--reps", str(args.reps), "--warmup", str(args.warmup), "--json", *args.peer_args.split()]
    note(f"{framework}, {threads} thread(s): {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=None,
                              text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {args.timeout:.0f} s"
    records = list(json_lines(proc.stdout))
    skipped = next((r["skipped"] for r in records if "skipped" in r), None)
    if proc.returncode == EXIT_SKIPPED or skipped:
        return {}, skipped or "not installed"
    if proc.returncode != 0:
        return {}, f"seed_step.py exited with status {proc.returncode}"
    return {r["batch"]: r for r in records if r.get("bench") == "peer-step"}, None


def run_dataflow(args, batch):
    """Returns ({threads: record}, error message or None)."""
    cmd = [args.bench, "speedup", "--json", "--threads", ",".join(map(str, args.threads)),
           "--batch", str(batch), "--sizes", ",".join(map(str, args.sizes)),
           "--reps", str(args.reps), "--warmup", str(args.warmup), *args.dataflow_args.split()]
    note(f"dataflow, batch {batch}: {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=None,
                              text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {args.timeout:.0f} s"
    except OSError as e:
        return {}, f"could not run {args.bench}: {e}"
    records = [r for r in json_lines(proc.stdout) if r.get("bench") == "speedup"]
    if proc.returncode != 0:
        return {}, f"dataflow-bench exited with status {proc.returncode} (its message is above)"
    if not records:
        return {}, "dataflow-bench printed no {\"bench\":\"speedup\"} lines"
    return {r["threads"]: r for r in records if r.get("batch", batch) == batch}, None


def dataflow_available(args):
    if args.skip_dataflow:
        return False
    if os.path.isfile(args.bench) and os.access(args.bench, os.X_OK):
        return True
    note(f"no dataflow-bench binary at {args.bench}.\n"
         f"          Build it from the repository root with:  swift build -c release\n"
         f"          (or pass --bench PATH, or --skip-dataflow). Continuing with the peers only.")
    return False


def fmt_cell(rec, base):
    if rec is None:
        return "-"
    v = rec["median_s"]
    cell = f"{v:.3f} s" if v >= 0.1 else f"{v * 1e3:.2f} ms"
    if base is not None:
        cell += f" ({rec['median_s'] / base['median_s']:.2f}x)"
    return cell


def print_table(args, batch, dataflow, peers, versions, problems):
    head = ["framework"] + [f"{t} thread{'s' if t > 1 else ''}" for t in args.threads]
    rows = []
    if dataflow is not None:
        rows.append(["dataflow"] + [fmt_cell(dataflow.get(t), None) for t in args.threads])
    for fw in args.frameworks:
        name = f"{fw} {versions.get(fw, '')}".strip()
        if fw in problems:
            short = "not installed" if "not usable" in problems[fw] else problems[fw]
            rows.append([name] + [f"skipped ({short})"] + [""] * (len(args.threads) - 1))
            continue
        rows.append([name] + [fmt_cell(peers.get((fw, t, batch)),
                                       dataflow.get(t) if dataflow else None) for t in args.threads])
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    print(f"\nbatch {batch}, sizes {'-'.join(map(str, args.sizes))}, float32: median seconds per step"
          + (" (peer / dataflow: how many times faster Dataflow is)" if dataflow else ""))
    print(line(head))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.time()
    use_dataflow = dataflow_available(args)
    dataflow, df_problem = {}, None
    peers, versions, problems = {}, {}, {}
    df_rounds, peer_rounds = {}, {}
    for rnd in range(args.rounds):
        if args.rounds > 1:
            note(f"round {rnd + 1}/{args.rounds}")
        if use_dataflow:
            for b in args.batch:
                recs, err = run_dataflow(args, b)
                if err:
                    note(f"dataflow, batch {b}: {err}")
                    df_problem = err
                for t, r in recs.items():
                    df_rounds.setdefault((b, t), []).append(r)
                if args.json:
                    for r in recs.values():
                        print(json.dumps(r), flush=True)
        for fw in args.frameworks:
            if fw in problems:
                continue
            for t in args.threads:
                recs, err = run_peer(args, fw, t)
                if err:
                    note(f"{fw}: {err}")
                    problems[fw] = err
                    if args.json:
                        print(json.dumps({"bench": "peer-step", "framework": fw, "threads": t, "skipped": err}))
                    break
                for b, r in recs.items():
                    peer_rounds.setdefault((fw, t, b), []).append(r)
                    versions[fw] = r.get("version", "")
                    if args.json:
                        print(json.dumps(r), flush=True)

    def median_record(records):
        ordered = sorted(records, key=lambda r: r["median_s"])
        return ordered[(len(ordered) - 1) // 2]  # the lower median: an actual round's record
    for (b, t), recs in df_rounds.items():
        dataflow.setdefault(b, {})[t] = median_record(recs)
    for b in args.batch:
        dataflow.setdefault(b, {})
    for key, recs in peer_rounds.items():
        peers[key] = median_record(recs)

    if args.json:
        for b in args.batch:
            for fw in args.frameworks:
                for t in args.threads:
                    r = peers.get((fw, t, b))
                    d = dataflow.get(b, {}).get(t)
                    if r is None:
                        continue
                    print(json.dumps({
                        "bench": "peer-compare", "framework": fw, "version": r.get("version"),
                        "threads": t, "batch": b, "median_s": r["median_s"],
                        "dataflow_median_s": d["median_s"] if d else None,
                        "ratio": r["median_s"] / d["median_s"] if d else None}), flush=True)
    else:
        for b in args.batch:
            print_table(args, b, dataflow.get(b) if use_dataflow else None, peers, versions, problems)
        if use_dataflow and df_problem:
            print(f"\nnote: dataflow-bench failed for some batch ({df_problem}); its cells show '-'.")
        print(f"\n{args.reps} timed reps after {args.warmup} warm-up(s) per cell"
              + (f", median of {args.rounds} rounds" if args.rounds > 1 else "") + "; "
              f"OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset; {time.time() - started:.0f} s in all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
