#!/usr/bin/env python3
"""Deterministic data order, noise and initialisation for the classic-model benchmarks.

Specified in INIT.md (same folder); everything here is reproducible bit for bit in Swift
(or any language with wrapping uint64 arithmetic and IEEE doubles): no numpy generator.

    .venv/bin/python Benchmarks/peers/models/init.py          # self-tests + check values
    .venv/bin/python Benchmarks/peers/models/init.py --markdown   # the check-value block of INIT.md

The scalar functions (SplitMix64.next, .uniform) are the reference; the vectorised numpy
versions (splitmix64_block, uniform_block) are used for speed and are checked against them.
"""
import hashlib
import math
import os
import struct
import sys

import numpy as np

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
TWO_M53 = 2.0 ** -53

BATCH = 32
N_TRAIN = 1437
STEPS_PER_EPOCH = N_TRAIN // BATCH   # 44; the last 29 positions of each epoch's order are dropped
DAE_DROP = 0.3
SYNTH_OFFSET = 1_000_000             # synthetic timing data: state = seed + SYNTH_OFFSET

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "digits.bin")


# --------------------------------------------------------------------------- generator

class SplitMix64:
    """state = seed; next(): state += GAMMA (mod 2^64), mix(state)."""

    def __init__(self, seed):
        self.state = seed & MASK64
        self.count = 0      # draws so far (used to continue the stream in vectorised form)

    def next(self):
        self.state = (self.state + GAMMA) & MASK64
        self.count += 1
        z = self.state
        z = ((z ^ (z >> 30)) * M1) & MASK64
        z = ((z ^ (z >> 27)) * M2) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        """Double in [0, 1): (next() >> 11) * 2^-53 (exact)."""
        return (self.next() >> 11) * TWO_M53

    def block(self, n):
        """The next n outputs as a uint64 array (vectorised; advances the generator)."""
        out = splitmix64_block(self.state, n)
        self.state = (self.state + n * GAMMA) & MASK64
        self.count += n
        return out

    def uniform_block(self, n):
        return (self.block(n) >> np.uint64(11)).astype(np.float64) * TWO_M53


def splitmix64_block(state, n):
    """Outputs 1..n of SplitMix64 started at `state`: mix(state + k*GAMMA), k = 1..n."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(state) + k * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
        z = z ^ (z >> np.uint64(31))
    return z


# --------------------------------------------------------------------------- parameters

def uniform_tensor(rng, shape, bound):
    """float32 tensor, row-major draws: value = float32((2u - 1) * bound), bound a double."""
    n = int(np.prod(shape))
    u = rng.uniform_block(n)
    return ((2.0 * u - 1.0) * bound).astype(np.float32).reshape(shape)


def bound_for(fan_in):
    return 1.0 / math.sqrt(fan_in)     # double: 1 / sqrt(fan_in), both correctly rounded


# Each spec entry: (name, shape, fan_in or None); fan_in None = zeros (no draws).
def param_specs(model, timing=False):
    if model == "logreg":
        return [("W", (64, 10), 64), ("b", (10,), None)]
    if model == "mlp":
        return [("W1", (64, 128), 64), ("b1", (128,), None),
                ("W2", (128, 10), 128), ("b2", (10,), None)]
    if model == "cnn":
        side = 28 if timing else 8
        flat = (side // 4) * (side // 4) * 16
        return [("K1", (3, 3, 1, 8), 9), ("c1", (8,), None),
                ("K2", (3, 3, 8, 16), 72), ("c2", (16,), None),
                ("W3", (flat, 10), flat), ("b3", (10,), None)]
    if model == "dae":
        return [("W", (64, 32), 64), ("b", (32,), None), ("c", (64,), None)]
    if model == "lstm":
        i, h = lstm_sizes(timing)[:2]
        # LSTM weights: bound 1/sqrt(H) (PyTorch's nn.LSTM default), gates [i | f | g | o].
        return [("Wx", (i, 4 * h), h), ("Wh", (h, 4 * h), h), ("b", (4 * h,), None),
                ("Wo", (h, 10), h), ("bo", (10,), None)]
    raise ValueError(model)


def lstm_sizes(timing=False):
    """(input features, hidden, steps, batch)."""
    return (32, 256, 32, 64) if timing else (8, 32, 8, BATCH)


def init_params(model, seed, timing=False):
    """Ordered list of (name, float32 array); one SplitMix64 stream, state = seed."""
    rng = SplitMix64(seed)
    out = []
    for name, shape, fan_in in param_specs(model, timing):
        if fan_in is None:
            out.append((name, np.zeros(shape, np.float32)))
        else:
            out.append((name, uniform_tensor(rng, shape, bound_for(fan_in))))
    return out


# --------------------------------------------------------------------------- data order and noise

def fisher_yates(rng, n):
    """Permutation of range(n): for i = n-1 down to 1: j = next() mod (i+1); swap p[i], p[j]."""
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def epoch_stream(seed, epoch):
    """Generator for epoch `epoch` (1-based): state = seed + epoch (mod 2^64)."""
    return SplitMix64(seed + epoch)


def epoch_order(seed, epoch, n_train=N_TRAIN):
    """Positions into the training index list, in the order epoch `epoch` visits them.
    Batch b (0-based) = positions [32b, 32b+32) of the result, b < 44; the rest is dropped.
    Returns (order, rng) with rng positioned after the shuffle's n_train-1 draws."""
    rng = epoch_stream(seed, epoch)
    return fisher_yates(rng, n_train), rng


def dae_keep_masks(rng, steps=STEPS_PER_EPOCH, batch=BATCH, features=64, drop=DAE_DROP):
    """Continues the epoch stream after the shuffle: for each batch, each row, each pixel
    (row-major), one draw; keep = (u >= drop). Returns float32 [steps, batch, features]."""
    u = rng.uniform_block(steps * batch * features)
    return (u >= drop).astype(np.float32).reshape(steps, batch, features)


def synthetic(seed, shape, classes=10):
    """Timing data: state = seed + SYNTH_OFFSET; x = float32(u) for prod(shape) draws
    (row-major), then shape[0] labels = next() mod classes."""
    rng = SplitMix64(seed + SYNTH_OFFSET)
    x = rng.uniform_block(int(np.prod(shape))).astype(np.float32).reshape(shape)
    y = (rng.block(shape[0]) % np.uint64(classes)).astype(np.int64)
    return x, y


# --------------------------------------------------------------------------- data

def load_digits(path=DATA_FILE):
    """Returns x_train [1437,64] f32 (= pixel/16), y_train int64, x_test [360,64], y_test."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"DIGITS01", "bad magic"
    n, h, w, ntrain = struct.unpack_from("<4I", b, 8)
    px = np.frombuffer(b, np.uint8, n * h * w, 24).reshape(n, h * w)
    y = np.frombuffer(b, np.uint8, n, 24 + n * h * w).astype(np.int64)
    p = np.frombuffer(b, "<u2", n, 24 + n * h * w + n).astype(np.int64)
    x = px.astype(np.float32) / np.float32(16.0)
    tr, te = p[:ntrain], p[ntrain:]
    return x[tr], y[tr], x[te], y[te]


# --------------------------------------------------------------------------- self-tests

def f32_hex(v):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def param_digest(params):
    h = hashlib.sha256()
    for _, a in params:
        h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
    return h.hexdigest()[:16]


def self_test():
    # scalar vs vectorised generator
    a, b = SplitMix64(42), SplitMix64(42)
    scalar = [a.next() for _ in range(1000)]
    assert [int(v) for v in b.block(1000)] == scalar
    assert a.state == b.state
    assert [a.next() for _ in range(5)] == [int(v) for v in b.block(5)]
    # seed 0 reference values of SplitMix64 (Vigna's splitmix64.c)
    z = SplitMix64(0)
    assert [z.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    # uniform_tensor equals the scalar formula
    r1, r2 = SplitMix64(7), SplitMix64(7)
    t = uniform_tensor(r1, (5, 3), bound_for(5))
    ref = [np.float32((2.0 * r2.uniform() - 1.0) * (1.0 / math.sqrt(5))) for _ in range(15)]
    assert t.ravel().tolist() == [float(v) for v in ref]
    # permutation sanity
    order, _ = epoch_order(42, 1)
    assert sorted(order) == list(range(N_TRAIN))
    return True


def check_values():
    s = SplitMix64(42)
    nxt = [s.next() for _ in range(4)]
    s = SplitMix64(42)
    uni = [s.uniform() for _ in range(4)]
    lines = []
    lines.append("SplitMix64(seed 42).next() x4:")
    lines += ["  0x%016x  (%d)" % (v, v) for v in nxt]
    lines.append("uniform(seed 42) x4 (double, %.17g):")
    lines += ["  %.17g" % v for v in uni]
    for model in ("logreg", "mlp", "cnn", "dae", "lstm"):
        ps = init_params(model, 42)
        first = next(a for n, a in ps if a.any())
        name = next(n for n, a in ps if a.any())
        vals = first.ravel()[:4]
        lines.append(f"{model} seed 42: {name}[first 4, row-major] = "
                     + ", ".join("%.9g (%s)" % (v, f32_hex(v)) for v in vals))
        sums = ", ".join("%s %.9g" % (n, float(np.sum(a, dtype=np.float64))) for n, a in ps if a.any())
        lines.append(f"  float64 sums: {sums}; sha256(params as LE f32, in order)[:16] = {param_digest(ps)}")
    for model in ("cnn", "lstm"):
        ps = init_params(model, 42, timing=True)
        lines.append(f"{model} timing size seed 42: shapes "
                     + ", ".join(f"{n}{list(a.shape)}" for n, a in ps)
                     + f"; sha256[:16] = {param_digest(ps)}")
    order, rng = epoch_order(42, 1)
    lines.append("epoch 1 order (seed 42), first 10 positions: " + ", ".join(map(str, order[:10])))
    lines.append("epoch 1 order (seed 42), last 5 positions:   " + ", ".join(map(str, order[-5:])))
    order2, _ = epoch_order(42, 2)
    lines.append("epoch 2 order (seed 42), first 10 positions: " + ", ".join(map(str, order2[:10])))
    m = dae_keep_masks(rng)
    lines.append("epoch 1 DAE keep mask (seed 42), batch 0 row 0, pixels 0..15: "
                 + "".join(str(int(v)) for v in m[0, 0, :16])
                 + f"; kept fraction over the epoch = {m.mean():.6f}")
    x, y = synthetic(42, (2, 3))
    lines.append("synthetic(seed 42, shape [2,3]): x = " + ", ".join("%.9g" % v for v in x.ravel())
                 + "; y = " + ", ".join(map(str, y)))
    return lines


def main():
    self_test()
    lines = check_values()
    if "--markdown" in sys.argv:
        print("```")
        print("\n".join(lines))
        print("```")
    else:
        print("self-tests OK")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
