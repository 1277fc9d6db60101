#!/usr/bin/env python3
"""One training step of the seed network in numpy, PyTorch or JAX.

The seed network (16384-5000-3000-512-40 by default): sigmoid hidden layers and a
softmax cross-entropy on the last, linear, layer:

    L1 = sigmoid(x.W1 + b1), L2 = sigmoid(L1.W2 + b2), L3 = sigmoid(L2.W3 + b3),
    logits = L3.W4 + b4,     loss = -mean(log(softmax(logits))[arange(n), y])

One step = the forward pass and all the gradients with respect to the weights and
biases (never with respect to x); with --update, also SGD on the parameters.

  numpy  hand-written backprop on preallocated buffers (OpenBLAS GEMMs)
  torch  eager mode, torch.autograd.grad(loss, params)
  jax    jax.jit(jax.value_and_grad(loss)) over the tuple of parameters

Thread limits must be in place before the framework is imported, so this script
sets them itself from --threads before any import of numpy/torch/jax; when given
several thread counts it runs itself once per count in a fresh subprocess.

  seed_step.py --framework numpy --threads 1,2 --batch 256,64 --reps 5 --json
  seed_step.py --check            # tiny float64 net: numpy vs torch vs jax grads

Exit codes: 0 ok, 1 --check failed, 2 bad options, 3 framework not installed.
"""

import argparse
import json
import os
import subprocess
import sys
import time

DEFAULT_SIZES = "16384,5000,3000,512,40"
FRAMEWORKS = ("numpy", "torch", "jax")
EXIT_SKIPPED = 3

# Variables that make OpenBLAS choose a slower kernel on this machine (a forced core
# type and a small L2 size); removed from the environment of every measurement.
OPENBLAS_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# glibc malloc settings that keep freed memory in the heap for reuse (see --no-malloc-reuse).
MALLOC_REUSE = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def int_list(text, what):
    try:
        values = [int(v) for v in text.replace("-", ",").split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{what}: expected positive integers, got {text!r}")
    return values


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Time one seed-network training step (forward + all gradients) "
                    "in numpy, PyTorch or JAX.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 ok, 1 --check failed, 2 bad options, 3 framework not installed.")
    p.add_argument("--framework", choices=FRAMEWORKS, help="which implementation to time")
    p.add_argument("--threads", type=lambda s: int_list(s, "--threads"), default=[1],
                   help="thread count(s), comma-separated; each runs in a fresh process (default 1)")
    p.add_argument("--batch", type=lambda s: int_list(s, "--batch"), default=[256],
                   help="batch size(s), comma-separated (default 256)")
    p.add_argument("--sizes", type=lambda s: int_list(s, "--sizes"),
                   default=int_list(DEFAULT_SIZES, "--sizes"),
                   help=f"layer sizes, input first, comma- or dash-separated (default {DEFAULT_SIZES})")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5); the median is reported")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before timing (default 2, at least 1 is advised)")
    p.add_argument("--update", action="store_true", help="also apply SGD (w -= lr*gw) in each step")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate for --update (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="random seed for parameters and data")
    p.add_argument("--pin", choices=("auto", "yes", "no"), default="auto",
                   help="restrict the process to THREADS CPUs with sched_setaffinity; 'auto' does it "
                        "for jax only, whose CPU runtime has no working thread-count knob (default auto)")
    p.add_argument("--no-malloc-reuse", action="store_true",
                   help="leave glibc malloc at its defaults; by default the step runs with "
                        "MALLOC_MMAP_MAX_=0 and a huge MALLOC_TRIM_THRESHOLD_, so the large gradient "
                        "buffers torch and jax allocate each step reuse memory instead of fresh, "
                        "page-faulting mmap pages")
    p.add_argument("--keep-openblas-env", action="store_true",
                   help="do not remove OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE from the environment")
    p.add_argument("--json", action="store_true", help="one JSON object per measurement")
    p.add_argument("--check", action="store_true",
                   help="verify the math: tiny float64 net, numpy's hand-written gradients vs finite "
                        "differences, torch autograd and jax autograd; exit 1 if they disagree")
    p.add_argument("--check-sizes", type=lambda s: int_list(s, "--check-sizes"), default=[7, 5, 4, 3])
    p.add_argument("--check-batch", type=int, default=6)
    p.add_argument("--tol", type=float, default=1e-9, help="--check tolerance for autograd (default 1e-9)")
    args = p.parse_args(argv)
    if not args.check and args.framework is None:
        p.error("--framework is required (or use --check)")
    if len(args.sizes) < 2:
        p.error("--sizes needs at least an input and an output size")
    if args.reps < 1 or args.warmup < 0:
        p.error("--reps must be >= 1 and --warmup >= 0")
    return args


def log(msg):
    print(f"[seed_step] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- env

def configure_process(threads, framework, pin, keep_openblas_env):
    """Must run before numpy/torch/jax are imported. Returns the pinned CPUs or None."""
    if not keep_openblas_env:
        for var in OPENBLAS_UNSET:
            os.environ.pop(var, None)
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    if framework == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
            flags = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
        os.environ["XLA_FLAGS"] = flags
    pinned = None
    if pin == "yes" or (pin == "auto" and framework == "jax"):
        allowed = sorted(os.sched_getaffinity(0))
        if threads < len(allowed):
            pinned = allowed[:threads]
            os.sched_setaffinity(0, pinned)
    return pinned


# --------------------------------------------------------------------------- data

def make_problem(sizes, batch, dtype, seed, bias_one=True):
    """Parameters and data as numpy arrays: W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    b = 1 (or U(-1,1) when bias_one is False), x ~ U(0,1), y ~ randint(0, classes)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    gen_dtype = np.float32 if dtype == "float32" else np.float64
    Ws, bs = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        r = 1.0 / np.sqrt(fan_in)
        W = rng.random((fan_in, fan_out), dtype=gen_dtype)
        W *= 2 * r
        W -= r
        Ws.append(W)
        if bias_one:
            bs.append(np.ones(fan_out, dtype=gen_dtype))
        else:
            bs.append(rng.uniform(-1, 1, fan_out).astype(gen_dtype))
    x = rng.random((batch, sizes[0]), dtype=gen_dtype)
    y = rng.integers(0, sizes[-1], size=batch, dtype=np.int64)
    return Ws, bs, x, y


# --------------------------------------------------------------------------- numpy

class NumpyStep:
    """Hand-written backprop on buffers allocated once (first touch of fresh memory
    is slow, so every step reuses them). Gradients are written into self.gW/self.gb."""

    def __init__(self, Ws, bs, x, y):
        import numpy as np
        self.np = np
        self.Ws, self.bs, self.x, self.y = Ws, bs, x, y
        n, dt = x.shape[0], x.dtype
        self.n = n
        self.rows = np.arange(n)
        self.A = [np.empty((n, W.shape[1]), dt) for W in Ws]          # activations, last = logits/probs
        self.D = [np.empty((n, W.shape[0]), dt) for W in Ws[1:]]      # dA_k for hidden layers
        self.gW = [np.empty_like(W) for W in Ws]
        self.gb = [np.empty_like(b) for b in bs]
        self.m = np.empty((n, 1), dt)
        self.s = np.empty((n, 1), dt)

    def step(self, update=False, lr=0.01):
        np = self.np
        Ws, bs, A, D, gW, gb = self.Ws, self.bs, self.A, self.D, self.gW, self.gb
        L = len(Ws)
        with np.errstate(over="ignore"):
            inp = self.x
            for k in range(L):
                np.matmul(inp, Ws[k], out=A[k])
                A[k] += bs[k]
                if k < L - 1:                                         # sigmoid in place
                    np.negative(A[k], out=A[k])
                    np.exp(A[k], out=A[k])
                    A[k] += 1
                    np.reciprocal(A[k], out=A[k])
                inp = A[k]
            P = A[-1]                                                 # logits -> softmax in place
            np.max(P, axis=1, keepdims=True, out=self.m)
            P -= self.m
            zy = P[self.rows, self.y].copy()                          # logit_y - max
            np.exp(P, out=P)
            np.sum(P, axis=1, keepdims=True, out=self.s)
            loss = -float(np.mean(zy - np.log(self.s[:, 0])))
            P /= self.s
            P[self.rows, self.y] -= 1                                 # dZ = (softmax - onehot) / n
            P *= 1.0 / self.n
            dZ = P
            for k in range(L - 1, -1, -1):
                below = A[k - 1] if k > 0 else self.x
                np.matmul(below.T, dZ, out=gW[k])                     # dW_k = A_{k-1}^T dZ_k
                np.sum(dZ, axis=0, out=gb[k])                         # db_k = colsum(dZ_k)
                if k == 0:
                    break                                             # never dX
                dA = D[k - 1]
                np.matmul(dZ, Ws[k].T, out=dA)                        # dA_{k-1} = dZ_k W_k^T
                dA *= below                                           # dZ = dA * s * (1 - s)
                np.subtract(1, below, out=below)                      # (activation no longer needed)
                dA *= below
                dZ = dA
            if update:
                for p, g in zip(Ws + bs, gW + gb):
                    g *= -lr
                    p += g
        return loss

    def grads(self):
        return self.gW + self.gb

    def parameters(self):
        return self.Ws + self.bs


# --------------------------------------------------------------------------- torch

class TorchStep:
    def __init__(self, Ws, bs, x, y, threads):
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(threads)
        self.torch, self.F = torch, F
        self.params = [torch.from_numpy(a.copy()).requires_grad_(True) for a in Ws + bs]
        self.L = len(Ws)
        self.x = torch.from_numpy(x)
        self.y = torch.from_numpy(y)
        self.g = None

    def step(self, update=False, lr=0.01):
        torch, F, L = self.torch, self.F, self.L
        Ws, bs = self.params[:L], self.params[L:]
        h = self.x
        for k in range(L - 1):
            h = torch.sigmoid(h @ Ws[k] + bs[k])
        logits = h @ Ws[-1] + bs[-1]
        loss = F.cross_entropy(logits, self.y)                   # -mean(log_softmax[arange, y])
        self.g = torch.autograd.grad(loss, self.params)
        if update:
            with torch.no_grad():
                for p, g in zip(self.params, self.g):
                    p.sub_(g, alpha=lr)
        return float(loss.detach())

    def grads(self):
        return [g.numpy() for g in self.g]

    def parameters(self):
        return [p.detach().numpy() for p in self.params]


# --------------------------------------------------------------------------- jax

class JaxStep:
    def __init__(self, Ws, bs, x, y, float64=False):
        import jax
        if float64:
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax = jax
        L = len(Ws)

        def loss_fn(params, x, y):
            h = x
            for k in range(L - 1):
                h = jax.nn.sigmoid(h @ params[k] + params[L + k])
            logits = h @ params[L - 1] + params[2 * L - 1]
            logp = jax.nn.log_softmax(logits, axis=1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        self.grad_fn = jax.jit(jax.value_and_grad(loss_fn))

        def sgd(params, x, y, lr):
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            return loss, tuple(p - lr * gp for p, gp in zip(params, g)), g

        self.update_fn = jax.jit(sgd, donate_argnums=(0,))
        self.params = tuple(jax.device_put(a) for a in Ws + bs)
        self.x = jax.device_put(x)
        self.y = jax.device_put(y.astype("int32"))
        self.g = None

    def step(self, update=False, lr=0.01):
        if update:
            loss, self.params, self.g = self.update_fn(self.params, self.x, self.y, lr)
        else:
            loss, self.g = self.grad_fn(self.params, self.x, self.y)
        self.jax.block_until_ready((loss, self.g))
        return float(loss)

    def grads(self):
        import numpy as np
        return [np.asarray(g) for g in self.g]

    def parameters(self):
        import numpy as np
        return [np.asarray(p) for p in self.params]


# --------------------------------------------------------------------------- runner

def framework_version(framework):
    if framework == "numpy":
        import numpy
        return numpy.__version__
    if framework == "torch":
        import torch
        return torch.__version__
    import jax
    import jaxlib
    return f"{jax.__version__} (jaxlib {jaxlib.__version__})"


def import_or_skip(framework, as_json):
    try:
        __import__(framework)
        return True
    except Exception as e:  # ImportError, or a broken install
        msg = (f"{framework} is not usable here ({type(e).__name__}: {e}); skipped. "
               f"Install it with: pip install -r Benchmarks/peers/requirements.txt (see README)")
        if as_json:
            print(json.dumps({"bench": "peer-step", "framework": framework, "skipped": msg}), flush=True)
        log(msg)
        return False


def make_step(framework, Ws, bs, x, y, threads):
    if framework == "numpy":
        return NumpyStep(Ws, bs, x, y)
    if framework == "torch":
        return TorchStep(Ws, bs, x, y, threads)
    return JaxStep(Ws, bs, x, y, float64=(x.dtype.itemsize == 8))


def measure(args, threads, pinned):
    import numpy as np
    version = framework_version(args.framework)
    for batch in args.batch:
        Ws, bs, x, y = make_problem(args.sizes, batch, args.dtype, args.seed)
        step = make_step(args.framework, Ws, bs, x, y, threads)
        label = f"{args.framework} {threads}t batch {batch}"
        for w in range(args.warmup):
            t0 = time.perf_counter()
            step.step(args.update, args.lr)
            log(f"{label}: warm-up {w + 1}/{args.warmup}: {time.perf_counter() - t0:.4f} s")
        times, cpu = [], []
        loss = None
        for r in range(args.reps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            loss = step.step(args.update, args.lr)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            log(f"{label}: rep {r + 1}/{args.reps}: {times[-1]:.4f} s (cpu {cpu[-1]:.4f} s)")
        med = float(np.median(times))
        rec = {"bench": "peer-step", "framework": args.framework, "version": version,
               "threads": threads, "batch": batch, "median_s": med,
               "min_s": min(times), "max_s": max(times), "cpu_median_s": float(np.median(cpu)),
               "reps": args.reps, "warmup": args.warmup,
               "sizes": args.sizes, "dtype": args.dtype, "update": args.update, "loss": loss,
               "pinned_cpus": pinned, "malloc_reuse": not args.no_malloc_reuse}
        if args.json:
            print(json.dumps(rec), flush=True)
        else:
            print(f"{args.framework:6s} {version:28s} threads {threads:2d} batch {batch:4d}  "
                  f"median {med:.4f} s  (min {min(times):.4f}, max {max(times):.4f}, {args.reps} reps; "
                  f"cpu {float(np.median(cpu)):.4f} s)",
                  flush=True)
        del step, Ws, bs, x, y


# --------------------------------------------------------------------------- check

def run_check(args):
    import numpy as np
    sizes, n = args.check_sizes, args.check_batch
    Ws, bs, x, y = make_problem(sizes, n, "float64", args.seed + 1, bias_one=False)
    names = [f"W{k + 1}" for k in range(len(Ws))] + [f"b{k + 1}" for k in range(len(bs))]
    copy = lambda: ([W.copy() for W in Ws], [b.copy() for b in bs], x.copy(), y.copy())
    ref_step = NumpyStep(*copy())
    ref_loss = ref_step.step()
    ref = [g.copy() for g in ref_step.grads()]
    upd_steps, upd_lr = 3, 0.5
    upd_step = NumpyStep(*copy())
    for _ in range(upd_steps):
        upd_step.step(update=True, lr=upd_lr)
    upd_ref = [p.copy() for p in upd_step.parameters()]
    print(f"check: sizes {'-'.join(map(str, sizes))}, batch {n}, float64; numpy loss {ref_loss:.12f}")
    ok = True

    # numpy against central finite differences of its own forward pass.
    def loss_at(Wl, bl):
        return NumpyStep(Wl, bl, x.copy(), y.copy()).step()
    eps, fd_err = 1e-6, 0.0
    for i, name in enumerate(names):
        Wl, bl, _, _ = copy()
        p = (Wl + bl)[i]
        fd = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            lp = loss_at(Wl, bl)
            p[idx] = old - eps
            lm = loss_at(Wl, bl)
            p[idx] = old
            fd[idx] = (lp - lm) / (2 * eps)
        fd_err = max(fd_err, float(np.max(np.abs(fd - ref[i]))))
    fd_tol = 1e-7
    print(f"  numpy vs finite differences: max abs diff {fd_err:.3e} (tolerance {fd_tol:g})"
          f" {'ok' if fd_err <= fd_tol else 'FAIL'}")
    ok &= fd_err <= fd_tol

    for fw, make in (("torch", lambda: TorchStep(*copy(), threads=1)),
                     ("jax", lambda: JaxStep(*copy(), float64=True))):
        if not import_or_skip(fw, False):
            print(f"  {fw}: not installed, skipped")
            continue
        s = make()
        loss = s.step()
        got = s.grads()
        per = {nm: float(np.max(np.abs(g - r))) for nm, g, r in zip(names, got, ref)}
        worst = max(per.values())
        dloss = abs(loss - ref_loss)
        good = worst <= args.tol and dloss <= args.tol
        s = make()
        for _ in range(upd_steps):
            s.step(update=True, lr=upd_lr)
        dupd = max(float(np.max(np.abs(p - r))) for p, r in zip(s.parameters(), upd_ref))
        good &= dupd <= args.tol
        ok &= good
        detail = ", ".join(f"{k} {v:.1e}" for k, v in per.items())
        detail += f"; parameters after {upd_steps} SGD steps (--update): {dupd:.1e}"
        print(f"  numpy vs {fw} {framework_version(fw)}: max abs diff {worst:.3e}, loss diff {dloss:.1e}"
              f" (tolerance {args.tol:g}) {'ok' if good else 'FAIL'}\n    [{detail}]")
    print("check: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


# --------------------------------------------------------------------------- main

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.check:
        os.environ.setdefault("XLA_FLAGS", "")
        return run_check(args)
    if not args.no_malloc_reuse and any(os.environ.get(k) != v for k, v in MALLOC_REUSE.items()):
        # glibc reads these at start-up only: run this script again with them set.
        os.environ.update(MALLOC_REUSE)
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *argv])
    if len(args.threads) > 1:
        # Thread limits are fixed at import time: one fresh process per thread count.
        rc_all = 0
        for t in args.threads:
            child = [a for a in argv]
            i = child.index("--threads") if "--threads" in child else None
            if i is not None:
                del child[i:i + 2]
            child = [x for x in child if not x.startswith("--threads=")]
            rc = subprocess.call([sys.executable, os.path.abspath(__file__), *child, "--threads", str(t)])
            if rc == EXIT_SKIPPED:
                return rc
            rc_all = rc_all or rc
        return rc_all
    threads = args.threads[0]
    pinned = configure_process(threads, args.framework, args.pin, args.keep_openblas_env)
    if not import_or_skip(args.framework, args.json):
        return EXIT_SKIPPED
    if args.framework == "jax" and args.dtype == "float64":
        import jax
        jax.config.update("jax_enable_x64", True)
    measure(args, threads, pinned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
