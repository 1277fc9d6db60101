#!/usr/bin/env python3
"""Five classic models on the 8x8 digits, in PyTorch (eager) and JAX (jit), for comparison
with Dataflow. Same data, split, initialisation, batch order, noise, optimizer and
hyper-parameters in both; all of it specified in INIT.md and README.md (this folder).

    .venv/bin/python Benchmarks/peers/models/models.py --framework torch --model mlp
    .venv/bin/python Benchmarks/peers/models/models.py --framework jax --model cnn --threads 2 --json
    .venv/bin/python Benchmarks/peers/models/models.py --framework jax --model lstm --timing-size
    .venv/bin/python Benchmarks/peers/models/models.py --check      # torch vs jax, 1 epoch each model

Models: logreg, mlp, cnn, dae, lstm. Output: per epoch the mean training loss, test accuracy
(DAE: none; its metric is the test reconstruction loss) and test loss, the epoch's training
time and median step time; at the end a summary with the median step time after warm-up.
"""
import argparse
import json
import os
import statistics
import sys
import time

MODELS = ("logreg", "mlp", "cnn", "dae", "lstm")
FRAMEWORKS = ("torch", "jax")
# Hyper-parameters per model (Adam, batch 32, 44 steps per epoch); see README.md.
HYPER = {
    "logreg": dict(lr=1e-2, epochs=30),
    "mlp": dict(lr=3e-3, epochs=30),
    "cnn": dict(lr=3e-3, epochs=30),
    "dae": dict(lr=3e-3, epochs=30),
    "lstm": dict(lr=3e-3, epochs=30),
}
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
WARMUP_STEPS = 5          # steps at the start of epoch 1 left out of the step statistics
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
OPENBLAS_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
EXIT_SKIPPED = 3


def log(msg):
    print(f"[models] {msg}", file=sys.stderr, flush=True)


def configure_process(threads, framework, pin):
    """Before torch/jax are imported: thread variables, XLA flags, CPU affinity (as seed_step.py)."""
    for var in OPENBLAS_UNSET:
        os.environ.pop(var, None)
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    if framework == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
            flags = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
        os.environ["XLA_FLAGS"] = flags
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    pinned = None
    if pin == "yes" or (pin == "auto" and framework == "jax"):
        allowed = sorted(os.sched_getaffinity(0))
        if threads < len(allowed):
            pinned = allowed[:threads]
            os.sched_setaffinity(0, pinned)
    return pinned


# --------------------------------------------------------------------------- PyTorch

class TorchModel:
    def __init__(self, model, params, lr, threads=None, timing=False):
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        if threads:
            torch.set_num_threads(threads)
        self.model, self.timing = model, timing
        self.names = [n for n, _ in params]
        self.p = [torch.tensor(a.copy(), requires_grad=True) for _, a in params]
        if model == "cnn":   # HWIO -> OIHW, as a leaf of its own (Adam is elementwise: same result)
            self.p[0] = torch.tensor(params[0][1].transpose(3, 2, 0, 1).copy(), requires_grad=True)
            self.p[2] = torch.tensor(params[2][1].transpose(3, 2, 0, 1).copy(), requires_grad=True)
        self.opt = torch.optim.Adam(self.p, lr=lr, betas=(BETA1, BETA2), eps=EPS)

    def version(self):
        return self.torch.__version__

    def tensor(self, a):
        return self.torch.from_numpy(a)

    def forward(self, x):
        F, torch, p = self.F, self.torch, self.p
        m = self.model
        if m == "logreg":
            return x @ p[0] + p[1]
        if m == "mlp":
            return torch.relu(x @ p[0] + p[1]) @ p[2] + p[3]
        if m == "cnn":
            side = 28 if self.timing else 8
            a = x.reshape(-1, 1, side, side)                     # NCHW, C = 1
            a = F.max_pool2d(torch.relu(F.conv2d(a, p[0], p[1], padding=1)), 2)
            a = F.max_pool2d(torch.relu(F.conv2d(a, p[2], p[3], padding=1)), 2)
            a = a.permute(0, 2, 3, 1).reshape(a.shape[0], -1)    # flatten in NHWC order
            return a @ p[4] + p[5]
        if m == "lstm":
            Wx, Wh, b, Wo, bo = p
            H = Wh.shape[0]
            B, T = x.shape[0], x.shape[1]
            h = x.new_zeros(B, H)
            c = x.new_zeros(B, H)
            for t in range(T):
                g = x[:, t] @ Wx + h @ Wh + b
                i, f, gg, o = g.split(H, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
                h = torch.sigmoid(o) * torch.tanh(c)
            return h @ Wo + bo
        raise ValueError(m)

    def loss(self, x, y, keep=None):
        F = self.F
        if self.model == "dae":
            W, b, c = self.p
            xt = x * keep if keep is not None else x
            h = self.torch.sigmoid(xt @ W + b)
            z = h @ W.t() + c
            return F.binary_cross_entropy_with_logits(z, x), None
        logits = self.forward(x)
        return F.cross_entropy(logits, y), logits

    def step(self, x, y, keep=None):
        self.opt.zero_grad(set_to_none=True)
        loss, _ = self.loss(x, y, keep)
        loss.backward()
        self.opt.step()
        return loss.item()

    def evaluate(self, x, y):
        with self.torch.no_grad():
            loss, logits = self.loss(x, y)
            acc = None if logits is None else (logits.argmax(1) == y).float().mean().item()
            return acc, loss.item()

    def params_numpy(self):
        out = [t.detach().numpy().copy() for t in self.p]
        if self.model == "cnn":
            out[0] = out[0].transpose(2, 3, 1, 0)
            out[2] = out[2].transpose(2, 3, 1, 0)
        return out


# --------------------------------------------------------------------------- JAX

class JaxModel:
    def __init__(self, model, params, lr, threads=None, timing=False):
        import jax
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        self.model, self.timing = model, timing
        self.p = tuple(jnp.asarray(a) for _, a in params)
        self.m = tuple(jnp.zeros_like(a) for a in self.p)
        self.v = tuple(jnp.zeros_like(a) for a in self.p)
        self.t = 0
        lax = jax.lax
        side = 28 if timing else 8

        def forward(p, x):
            if model == "logreg":
                return x @ p[0] + p[1]
            if model == "mlp":
                return jax.nn.relu(x @ p[0] + p[1]) @ p[2] + p[3]
            if model == "cnn":
                dn = ("NHWC", "HWIO", "NHWC")
                a = x.reshape(-1, side, side, 1)
                for K, c in ((p[0], p[1]), (p[2], p[3])):
                    a = lax.conv_general_dilated(a, K, (1, 1), "SAME", dimension_numbers=dn) + c
                    a = lax.reduce_window(jax.nn.relu(a), -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
                return a.reshape(a.shape[0], -1) @ p[4] + p[5]
            if model == "lstm":
                Wx, Wh, b, Wo, bo = p
                H = Wh.shape[0]
                B, T = x.shape[0], x.shape[1]
                h = jnp.zeros((B, H), x.dtype)
                c = jnp.zeros((B, H), x.dtype)
                for t in range(T):                     # unrolled in the traced program
                    g = x[:, t] @ Wx + h @ Wh + b
                    i, f, gg, o = jnp.split(g, 4, axis=1)
                    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(gg)
                    h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return h @ Wo + bo
            raise ValueError(model)

        def ce(logits, y):
            lp = jax.nn.log_softmax(logits, axis=1)
            return -jnp.mean(jnp.take_along_axis(lp, y[:, None], axis=1))

        def loss_fn(p, x, y, keep):
            if model == "dae":
                W, b, c = p
                h = jax.nn.sigmoid((x * keep) @ W + b)
                z = h @ W.T + c
                return jnp.mean(jax.nn.softplus(z) - x * z)
            return ce(forward(p, x), y)

        def train_step(p, m, v, t, x, y, keep):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y, keep)
            bc1 = 1.0 - BETA1 ** t
            bc2 = 1.0 - BETA2 ** t
            m = tuple(BETA1 * mi + (1.0 - BETA1) * gi for mi, gi in zip(m, g))
            v = tuple(BETA2 * vi + (1.0 - BETA2) * gi * gi for vi, gi in zip(v, g))
            p = tuple(pi - (lr / bc1) * mi / (jnp.sqrt(vi) / jnp.sqrt(bc2) + EPS)
                      for pi, mi, vi in zip(p, m, v))
            return p, m, v, loss

        def evaluate(p, x, y):
            if model == "dae":
                return jnp.float32(0), loss_fn(p, x, y, jnp.ones_like(x))
            logits = forward(p, x)
            return jnp.mean((jnp.argmax(logits, 1) == y).astype(jnp.float32)), ce(logits, y)

        self._step = jax.jit(train_step, donate_argnums=(0, 1, 2))
        self._eval = jax.jit(evaluate)

    def version(self):
        return self.jax.__version__

    def tensor(self, a):
        return self.jnp.asarray(a)

    def step(self, x, y, keep=None):
        self.t += 1
        if keep is None:
            keep = x  # unused by the non-DAE losses (traced away)
        t = self.jnp.float32(self.t)
        self.p, self.m, self.v, loss = self._step(self.p, self.m, self.v, t, x, y, keep)
        return float(loss)   # waits for the step

    def evaluate(self, x, y):
        acc, loss = self._eval(self.p, x, y)
        return (None if self.model == "dae" else float(acc)), float(loss)

    def params_numpy(self):
        import numpy as np
        return [np.asarray(a).copy() for a in self.p]


# --------------------------------------------------------------------------- runs

def make(framework, model, params, lr, threads=None, timing=False):
    cls = TorchModel if framework == "torch" else JaxModel
    return cls(model, params, lr, threads, timing)


def reshape_input(model, x):
    """Flat [B, 64] pixels -> the model's input layout (LSTM: [B, 8 steps, 8 features])."""
    return x.reshape(x.shape[0], 8, 8) if model == "lstm" else x


def train(args, framework, model, emit):
    import numpy as np
    import init as I
    xtr, ytr, xte, yte = I.load_digits()
    params = I.init_params(model, args.seed)
    net = make(framework, model, params, args.lr, args.threads)
    xte_t = net.tensor(np.ascontiguousarray(reshape_input(model, xte)))
    yte_t = net.tensor(yte)
    step_times, cpu_times, epoch_times, history = [], [], [], []
    for epoch in range(1, args.epochs + 1):
        # data loading (not timed): this epoch's batches, and the DAE's masks
        order, rng = I.epoch_order(args.seed, epoch)
        order = np.asarray(order[:I.STEPS_PER_EPOCH * I.BATCH]).reshape(I.STEPS_PER_EPOCH, I.BATCH)
        masks = I.dae_keep_masks(rng) if model == "dae" else None
        batches = []
        for b in range(I.STEPS_PER_EPOCH):
            idx = order[b]
            xb = net.tensor(np.ascontiguousarray(reshape_input(model, xtr[idx])))
            yb = net.tensor(ytr[idx])
            kb = net.tensor(masks[b]) if masks is not None else None
            batches.append((xb, yb, kb))
        losses, times = [], []
        e0 = time.perf_counter()
        for xb, yb, kb in batches:
            t0, c0 = time.perf_counter(), time.process_time()
            losses.append(net.step(xb, yb, kb))
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
        epoch_s = time.perf_counter() - e0
        step_times.extend(times)
        epoch_times.append(epoch_s)
        acc, test_loss = net.evaluate(xte_t, yte_t)
        rec = dict(bench="peer-model-epoch", framework=framework, model=model, threads=args.threads,
                   epoch=epoch, train_loss=float(np.mean(losses)), test_acc=acc, test_loss=test_loss,
                   epoch_s=epoch_s, step_median_s=statistics.median(times))
        history.append(rec)
        emit(rec)
    timed = step_times[WARMUP_STEPS:]
    cpu_timed = cpu_times[WARMUP_STEPS:]
    later = epoch_times[1:] or epoch_times
    summary = dict(bench="peer-model", framework=framework, version=net.version(), model=model,
                   threads=args.threads, pinned_cpus=args.pinned, seed=args.seed, epochs=args.epochs,
                   lr=args.lr, batch=I.BATCH, steps_per_epoch=I.STEPS_PER_EPOCH,
                   final_train_loss=history[-1]["train_loss"], final_test_acc=history[-1]["test_acc"],
                   final_test_loss=history[-1]["test_loss"],
                   best_test_acc=(None if model == "dae" else max(h["test_acc"] for h in history)),
                   step_median_s=statistics.median(timed), step_min_s=min(timed),
                   cpu_step_median_s=statistics.median(cpu_timed), steps_timed=len(timed),
                   epoch_median_s=statistics.median(later), first_step_s=step_times[0])
    emit(summary)
    return history, summary, net


def timing_size(args, framework, model, emit):
    import init as I
    if model == "cnn":
        shape = (128, 28 * 28)
    elif model == "lstm":
        _, _, T, B = I.lstm_sizes(True)
        shape = (B, T, 32)
    else:
        raise SystemExit("--timing-size is defined for cnn and lstm only")
    x, y = I.synthetic(args.seed, shape)
    params = I.init_params(model, args.seed, timing=True)
    net = make(framework, model, params, args.lr, args.threads, timing=True)
    xt, yt = net.tensor(x), net.tensor(y)
    t0 = time.perf_counter()
    first = net.step(xt, yt)
    first_s = time.perf_counter() - t0
    for _ in range(args.warmup - 1):
        net.step(xt, yt)
    times, cpu = [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = net.step(xt, yt)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    desc = "28x28x1, batch 128" if model == "cnn" else "hidden 256, 32 steps x 32 features, batch 64"
    rec = dict(bench="peer-model-timing", framework=framework, version=net.version(), model=model,
               size=desc, threads=args.threads, pinned_cpus=args.pinned, steps=args.steps,
               warmup=args.warmup, step_median_s=statistics.median(times), step_min_s=min(times),
               step_max_s=max(times), cpu_step_median_s=statistics.median(cpu), first_step_s=first_s,
               first_loss=first, last_loss=loss)
    emit(rec)
    return rec


def run_check(args):
    """Both frameworks, every model, one epoch: per-step training losses and final parameters."""
    import numpy as np
    import init as I
    xtr, ytr, _, _ = I.load_digits()
    worst = 0.0
    for model in MODELS:
        res = {}
        for fw in FRAMEWORKS:
            net = make(fw, model, I.init_params(model, args.seed), HYPER[model]["lr"])
            order, rng = I.epoch_order(args.seed, 1)
            masks = I.dae_keep_masks(rng) if model == "dae" else None
            losses = []
            for b in range(I.STEPS_PER_EPOCH):
                idx = np.asarray(order[b * I.BATCH:(b + 1) * I.BATCH])
                kb = net.tensor(masks[b]) if masks is not None else None
                losses.append(net.step(net.tensor(np.ascontiguousarray(reshape_input(model, xtr[idx]))),
                                       net.tensor(ytr[idx]), kb))
            res[fw] = (np.array(losses), net.params_numpy())
        dl = float(np.max(np.abs(res["torch"][0] - res["jax"][0])))
        dp = max(float(np.max(np.abs(a - b))) for a, b in zip(res["torch"][1], res["jax"][1]))
        worst = max(worst, dl)
        print(f"{model:6s} first-step loss torch {res['torch'][0][0]:.7f} jax {res['jax'][0][0]:.7f}; "
              f"epoch 1 (44 steps): max |loss diff| {dl:.2e}, max |param diff| {dp:.2e}")
    ok = worst < args.tol
    print("OK" if ok else f"FAIL (tolerance {args.tol})")
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framework", choices=FRAMEWORKS)
    ap.add_argument("--model", choices=MODELS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, help="default: per model, see README.md")
    ap.add_argument("--lr", type=float, help="Adam learning rate; default: per model")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", action="store_true", help="JSON lines on stdout")
    ap.add_argument("--timing-size", action="store_true",
                    help="cnn: 28x28x1 batch 128; lstm: hidden 256, 32 steps, batch 64; synthetic data")
    ap.add_argument("--steps", type=int, default=20, help="timed steps for --timing-size")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps for --timing-size")
    ap.add_argument("--pin", choices=("auto", "yes", "no"), default="auto",
                    help="restrict the process to THREADS CPUs (auto: for jax only, as seed_step.py)")
    ap.add_argument("--check", action="store_true", help="compare torch and jax for one epoch of each model")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.check:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        return run_check(args)
    if not args.framework or not args.model:
        ap.error("--framework and --model are required (or --check)")
    args.pinned = configure_process(args.threads, args.framework, args.pin)
    try:
        __import__(args.framework)
    except ImportError as e:
        msg = f"{args.framework} is not installed ({e}); see Benchmarks/peers/README.md"
        print(json.dumps(dict(bench="peer-model", framework=args.framework, skipped=msg)) if args.json else msg)
        return EXIT_SKIPPED
    hp = HYPER[args.model]
    args.lr = args.lr if args.lr is not None else hp["lr"]
    args.epochs = args.epochs if args.epochs is not None else hp["epochs"]

    def emit(rec):
        if args.json:
            print(json.dumps(rec), flush=True)
        elif rec["bench"] == "peer-model-epoch":
            acc = "   -  " if rec["test_acc"] is None else f"{100 * rec['test_acc']:6.2f}"
            print(f"epoch {rec['epoch']:3d}  train loss {rec['train_loss']:.5f}  test acc {acc}%  "
                  f"test loss {rec['test_loss']:.5f}  epoch {rec['epoch_s'] * 1e3:8.2f} ms  "
                  f"step median {rec['step_median_s'] * 1e3:7.3f} ms", flush=True)
        else:
            print(" ".join(f"{k}={v}" for k, v in rec.items()), flush=True)

    if args.timing_size:
        timing_size(args, args.framework, args.model, emit)
    else:
        train(args, args.framework, args.model, emit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
