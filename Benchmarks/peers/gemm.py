#!/usr/bin/env python3
"""numpy (and torch, if importable) on the shapes of `dataflow-bench gemm`.

Setup and run (unset the OpenBLAS overrides, or OpenBLAS picks a slower kernel):

    python3 -m venv .venv && .venv/bin/pip install numpy
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python Benchmarks/peers/gemm.py --threads 1

Options mirror the Swift benchmark: --threads LIST, --dtype float|double|both,
--reps N, --warmup N, --sizes square|seed|all, --shapes MxNxK[:OP],…, --cpu-time
(this process's CPU time instead of wall time; one thread only), --json (keys m,
n, k, transA, transB, dtype, threads, gflops, ms, library). Each thread count runs in a fresh
subprocess with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set before numpy loads.
"""
import argparse, json, os, subprocess, sys, time


def shapes(which):
    out = []
    if which in ("square", "all"):
        for s in [512, 1024, 2048] + ([4096] if which == "all" else []):
            out.append(("square", s, s, s, False, False))
    if which in ("seed", "all"):
        w = [16384, 5000, 3000, 512, 40]
        for l in range(4):
            out.append(("fwd", 256, w[l + 1], w[l], False, False))
        for l in range(4):
            out.append(("dW Xᵀ·dZ", w[l], w[l + 1], 256, True, False))
        for l in range(1, 4):
            out.append(("dX dZ·Wᵀ", 256, w[l], w[l + 1], False, True))
    return out


def parse_shapes(text):
    out = []
    for item in text.split(","):
        dims, _, op = item.partition(":")
        m, n, k = (int(x) for x in dims.lower().split("x"))
        op = (op or "NN").upper()
        out.append(("custom", m, n, k, op[0] == "T", op[1] == "T"))
    return out


def run_one(args, threads):
    import numpy as np
    libs = [("numpy", None)]
    try:
        import torch
        torch.set_num_threads(threads)
        libs.append(("torch", torch))
    except ImportError:
        pass
    dtypes = ["float", "double"] if args.dtype == "both" else [args.dtype]
    clock = time.process_time if args.cpu_time else time.perf_counter
    for dt in dtypes:
        npdt = np.float32 if dt == "float" else np.float64
        for name, m, n, k, ta, tb in (parse_shapes(args.shapes) if args.shapes else shapes(args.sizes)):
            rng = np.random.default_rng(1)
            a = rng.random((k, m) if ta else (m, k), dtype=np.float64).astype(npdt) - 0.5
            b = rng.random((n, k) if tb else (k, n), dtype=np.float64).astype(npdt) - 0.5
            c = np.empty((m, n), dtype=npdt)
            flops = 2.0 * m * n * k
            # As dataflow-bench gemm: at most 3 reps for huge shapes, at least 51 (after
            # at least 5 warm-ups) for shapes under 1e8 flops (~0.1 ms, noisy).
            reps = min(args.reps, 3) if flops > 1e11 else max(args.reps, 51) if flops < 1e8 else args.reps
            warmup = max(args.warmup, 5) if flops < 1e8 else args.warmup
            for lib, torch in libs:
                if lib == "numpy":
                    opa, opb = (a.T if ta else a), (b.T if tb else b)
                    once = lambda: np.matmul(opa, opb, out=c)
                else:
                    ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
                    opa, opb = (ta_.T if ta else ta_), (tb_.T if tb else tb_)
                    tc = torch.from_numpy(c)
                    once = lambda: torch.matmul(opa, opb, out=tc)
                for _ in range(warmup):
                    once()
                times = []
                for _ in range(reps):
                    t0 = clock()
                    once()
                    times.append(clock() - t0)
                times.sort()
                t = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
                g = flops / t / 1e9
                if args.json:
                    print(json.dumps({"m": m, "n": n, "k": k, "transA": ta, "transB": tb, "dtype": dt, "threads": threads,
                                      "gflops": round(g, 1), "ms": round(t * 1e3, 1), "library": lib}), flush=True)
                else:
                    op = ("T" if ta else "N") + ("T" if tb else "N")
                    print(f"{name:<12} {m:6d} {n:6d} {k:6d}  {op}     {dt:<6} {threads:3d} {t*1e3:8.1f} {g:8.1f}   {lib}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1")
    p.add_argument("--dtype", default="float", choices=["float", "double", "both"])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--sizes", default="all", choices=["square", "seed", "all"])
    p.add_argument("--shapes", help="instead of --sizes: comma-separated MxNxK[:OP], OP one of NN, TN, NT, TT")
    p.add_argument("--cpu-time", action="store_true", help="time with this process's CPU time (one thread only)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.cpu_time and args.threads != "1":
        p.error("--cpu-time needs --threads 1")
    if args.child:
        run_one(args, args.child)
        return
    if not args.json:
        print("shape            m      n      k  op     dtype  thr     ms   GFLOP/s  library")
    for t in [int(x) for x in args.threads.split(",")]:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        child = [sys.executable, __file__, "--child", str(t), "--dtype", args.dtype, "--reps", str(args.reps),
                 "--warmup", str(args.warmup), "--sizes", args.sizes] + (["--json"] if args.json else []) \
            + (["--shapes", args.shapes] if args.shapes else []) + (["--cpu-time"] if args.cpu_time else [])
        subprocess.run(child, env=env, check=True)


if __name__ == "__main__":
    main()
