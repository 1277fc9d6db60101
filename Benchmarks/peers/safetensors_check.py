#!/usr/bin/env python3
"""Safetensors interoperability between Dataflow (Swift) and Python/PyTorch.

Both directions, bitwise:
  1. Python (safetensors + torch) writes files into a temporary directory.
  2. `swift test --filter CheckpointInterop` runs with DATAFLOW_SAFETENSORS_DIR set
     to that directory: the Swift tests read Python's files, check every value
     bitwise, refuse F16/BF16/I64 with a named error, and write their own files
     (Tests/DataflowTests/CheckpointInteropTests.swift).
  3. Python reads the Swift files with safetensors.torch.load_file, safe_open
     (numpy) and torch.nn.Linear.load_state_dict, checks every value bitwise, and
     compares bytes: Swift's encoding of a set of tensors equals
     safetensors.torch.save's (same layout, same JSON, same padding).

Both sides build the tensors from one formula: element i of a tensor with salt k
is ((37 i + 11 k) mod 101 - 50) / 8 for floats (exact in float32) and
((7919 i + 13 k) mod 65536) - 32768 for int32 (CheckpointSupport.swift).

Usage (from the repository root):
  .venv/bin/python Benchmarks/peers/safetensors_check.py [--package-path .]
      [--scratch-path .build-ckpt] [--keep DIR]
Needs: safetensors, torch, numpy (.venv/bin/pip install safetensors numpy;
       .venv/bin/pip install -r Benchmarks/peers/requirements-torch.txt).
Exit status 0 when every check passes.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import safetensors
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

SPECS = [  # name, dtype, shape, salt: the InteropTensors.specs of the Swift tests
    ("f32.matrix", torch.float32, [3, 4], 1),
    ("f64.vector", torch.float64, [5], 2),
    ("i32.cube", torch.int32, [2, 3, 4], 3),
    ("f32.scalar", torch.float32, [], 4),
    ("f64.empty", torch.float64, [0, 3], 5),
    ("i32.empty", torch.int32, [4, 0], 6),
    ('odd "name"/\u00fcn\u00ef', torch.float32, [1, 1, 2], 7),
    ("tab\tname", torch.float64, [2], 8),
]


def float_element(i, salt):
    return ((37 * i + 11 * salt) % 101 - 50) / 8


def make(dtype, shape, salt):
    n = math.prod(shape)
    if dtype == torch.int32:
        values = [(7919 * i + 13 * salt) % 65536 - 32768 for i in range(n)]
    else:
        values = [float_element(i, salt) for i in range(n)]
    return torch.tensor(values, dtype=dtype).reshape(shape)


def interop_tensors():
    out = {name: make(dtype, shape, salt) for name, dtype, shape, salt in SPECS}
    f32 = np.finfo(np.float32)
    out["f32.special"] = torch.tensor(
        [0.0, -0.0, math.inf, -math.inf, float(f32.smallest_subnormal), float(f32.max), math.nan], dtype=torch.float32)
    out["f64.special"] = torch.tensor([0.0, -0.0, math.inf, -math.inf, 5e-324, sys.float_info.max, math.nan], dtype=torch.float64)
    out["i32.extremes"] = torch.tensor([-2**31, -1, 0, 1, 2**31 - 1], dtype=torch.int32)
    return out


def bits(t):
    """The tensor's bit patterns as a flat numpy integer array (NaN == NaN, -0 != 0)."""
    a = t.detach().contiguous().numpy()
    view = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}.get(a.dtype)
    return (a.view(view) if view else a).reshape(-1)


def same(a, b):
    return a.dtype == b.dtype and list(a.shape) == list(b.shape) and np.array_equal(bits(a), bits(b))


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, ok, what):
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")
        self.failures += 0 if ok else 1


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package-path", default=root)
    parser.add_argument("--scratch-path", default=".build-ckpt")
    parser.add_argument("--keep", help="write the files into this directory and keep them")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, safetensors {safetensors.__version__}, numpy {np.__version__}")

    directory = args.keep or tempfile.mkdtemp(prefix="dataflow-safetensors-")
    os.makedirs(directory, exist_ok=True)
    path = lambda name: os.path.join(directory, name)
    checks = Checks()

    # 1. Python writes.
    tensors = interop_tensors()
    save_file(tensors, path("py_values.safetensors"), metadata={"format": "pt"})
    linear = torch.nn.Linear(4, 3)
    with torch.no_grad():
        linear.weight.copy_(make(torch.float32, [3, 4], 21))
        linear.bias.copy_(make(torch.float32, [3], 22))
    save_file(linear.state_dict(), path("py_linear.safetensors"), metadata={"format": "pt"})
    save_file({"half": torch.ones(2, dtype=torch.float16)}, path("py_F16.safetensors"))
    save_file({"brain": torch.ones(2, dtype=torch.bfloat16)}, path("py_BF16.safetensors"))
    save_file({"long": torch.ones(2, dtype=torch.int64)}, path("py_I64.safetensors"))
    print(f"wrote Python files to {directory}")

    # 2. Swift reads and writes.
    command = ["swift", "test", "-c", "release", "--scratch-path", args.scratch_path, "--filter", "CheckpointInterop"]
    print("$ DATAFLOW_SAFETENSORS_DIR=" + directory + " " + " ".join(command))
    run = subprocess.run(command, cwd=args.package_path, env={**os.environ, "DATAFLOW_SAFETENSORS_DIR": directory},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in run.stdout.splitlines():
        if line.startswith(("✔", "✘", "↳")) or "error:" in line:
            print("  swift: " + line)
    checks.check(run.returncode == 0, f"swift test --filter CheckpointInterop exited {run.returncode}")
    if run.returncode != 0:
        print(run.stdout[-4000:])

    # 3. Python reads what Swift wrote.
    print("checking the Swift files:")
    for name in ["swift_values.safetensors", "swift_echo.safetensors", "swift_linear.safetensors"]:
        checks.check(os.path.exists(path(name)), f"{name} exists")
    if os.path.exists(path("swift_values.safetensors")):
        loaded = load_file(path("swift_values.safetensors"))
        checks.check(set(loaded) == set(tensors), "swift_values: same tensor names")
        bad = [n for n in tensors if n in loaded and not same(loaded[n], tensors[n])]
        checks.check(not bad, f"swift_values: all {len(tensors)} tensors bitwise equal via safetensors.torch.load_file" + (f" (differ: {bad})" if bad else ""))
        with safe_open(path("swift_values.safetensors"), framework="np") as f:
            checks.check(f.metadata() == {"format": "pt"}, f"swift_values: metadata {f.metadata()}")
            bad = [n for n in f.keys() if not np.array_equal(bits(torch.from_numpy(f.get_tensor(n).copy())), bits(tensors[n]))]
            checks.check(not bad, "swift_values: all tensors bitwise equal via safe_open(framework='np')" + (f" (differ: {bad})" if bad else ""))
        with open(path("swift_values.safetensors"), "rb") as f:
            swift_bytes = f.read()
        python_bytes = save(tensors, metadata={"format": "pt"})
        checks.check(swift_bytes == python_bytes,
                     f"swift_values: byte-identical to safetensors.torch.save ({len(swift_bytes)} vs {len(python_bytes)} bytes)")
    if os.path.exists(path("swift_echo.safetensors")):
        with open(path("swift_echo.safetensors"), "rb") as f, open(path("py_values.safetensors"), "rb") as g:
            echo, original = f.read(), g.read()
        checks.check(echo == original, f"swift_echo: Swift's re-encoding of py_values is byte-identical ({len(echo)} bytes)")
    if os.path.exists(path("swift_linear.safetensors")):
        fresh = torch.nn.Linear(4, 3)
        result = fresh.load_state_dict(load_file(path("swift_linear.safetensors")), strict=True)
        checks.check(not result.missing_keys and not result.unexpected_keys, "swift_linear: nn.Linear.load_state_dict(strict=True)")
        checks.check(same(fresh.weight.data, make(torch.float32, [3, 4], 31)) and same(fresh.bias.data, make(torch.float32, [3], 32)),
                     "swift_linear: weight and bias bitwise equal to the values set in Swift")

    print(f"{'OK' if checks.failures == 0 else 'FAILED'}: {checks.failures} failed check(s)")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
