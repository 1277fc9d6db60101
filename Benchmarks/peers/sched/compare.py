#!/usr/bin/env python3
"""Dataflow's scheduler beside oneTBB's flow graph and a plain std::thread pool, same
shapes, alternating rounds.

Builds the peers (g++ and Debian's libtbb-dev: `apt-get install -y g++ libtbb-dev`;
sched_threads.cpp needs only g++) and dataflow-bench, then for each round runs
`dataflow-bench sched --json`, `sched_tbb` and `sched_threads`, one after the other (the
order rotates between rounds), so a burst of load from other processes hits all.
Prints the median over rounds of each figure and the ratio peer / Dataflow
(> 1: Dataflow is faster), with the CPU model. Both peers build their graphs from an
edge list made outside the timed region; Dataflow's build+run includes adding every
task and dependency through the public API.

    python3 Benchmarks/peers/sched/compare.py [--rounds 3] [--size 1000000] [--reps 5]
        [--workers 1,2] [--bench PATH] [--scratch-path .build]
"""
import argparse, json, os, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + " x%d" % os.cpu_count()
    except OSError:
        pass
    return "unknown CPU"


def lines(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--size", type=int, default=1000000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--shapes", default="chain,independent,wavefront,tree")
    p.add_argument("--bench", help="a built dataflow-bench (default: build it)")
    p.add_argument("--scratch-path", default=".build")
    args = p.parse_args()

    def build(name, flags):
        exe, src = os.path.join(here, name), os.path.join(here, name + ".cpp")
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            subprocess.run(["g++", "-O2", "-std=c++17", "-o", exe, src] + flags, check=True)
        return exe
    peer = build("sched_tbb", ["-ltbb"])
    threads_peer = build("sched_threads", ["-pthread"])
    bench = args.bench
    if not bench:
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", args.scratch_path, "--product", "dataflow-bench"],
                       cwd=root, check=True, stdout=subprocess.DEVNULL)
        bench = os.path.join(root, args.scratch_path, "release", "dataflow-bench")

    common = ["--workers", args.workers, "--size", str(args.size), "--reps", str(args.reps), "--shapes", args.shapes]
    df_cmd = [bench, "sched", "--json", "--skip-scaling", "--baseline-size", "4"] + common
    tbb_cmd = [peer, "--latency"] + common
    threads_cmd = [threads_peer, "--latency"] + common
    results = {}  # (who, shape, mode, workers) -> [values]
    for r in range(args.rounds):
        order = [("dataflow", df_cmd), ("onetbb", tbb_cmd), ("threads", threads_cmd)]
        order = order[r % 3:] + order[:r % 3]
        for who, cmd in order:
            print(f"… round {r + 1}/{args.rounds}: {who}", file=sys.stderr, flush=True)
            for o in lines(cmd):
                value = o.get("ns_per_task", o.get("us_per_run"))
                results.setdefault((who, o["shape"], o["mode"], o["workers"]), []).append(value)

    print(f"sched: Dataflow vs oneTBB flow graph on {cpu_model()}; medians of {args.rounds} alternating rounds "
          f"(each the median of {args.reps} reps); ns per task (latency: µs per run); ratio = peer / Dataflow")
    print(f"{'shape':12} {'mode':11} {'workers':>7} {'Dataflow':>9} {'oneTBB':>9} {'ratio':>7} {'threads':>9} {'ratio':>7}")
    order = ["rerun", "build+run", "rebuild+run", "latency"]
    keys = sorted({k[1:] for k in results},
                  key=lambda k: (k[0] == "ten-task", k[0], order.index(k[1]) if k[1] in order else 9, k[2]))
    for shape, mode, workers in keys:
        d = results.get(("dataflow", shape, mode, workers))
        if not d:
            continue
        md = statistics.median(d)
        digits = 3 if mode == "latency" else 1
        cells = ""
        for who in ("onetbb", "threads"):
            t = results.get((who, shape, mode, workers))
            if t:
                mt = statistics.median(t)
                cells += f" {mt:>9.{digits}f} {mt / md:>6.2f}×"
            else:
                cells += f" {'–':>9} {'':>7}"
        print(f"{shape:12} {mode:11} {workers:>7} {md:>9.{digits}f}" + cells)


if __name__ == "__main__":
    main()
