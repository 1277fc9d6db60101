#!/usr/bin/env python3
"""Dataflow's optimizers against torch.optim, in float64.

The same tiny network (3-4-2 MLP, tanh hidden layer, mean softmax cross-entropy,
six examples) and the same initial values on both sides: element i of the tensor
with salt k is ((37 i + 11 k) mod 101 - 50) / 100 (Tests/DataflowTests/
OptimizerTestSupport.swift, enum TinyNet). For every optimizer case:

  1. `swift test --filter OptimizerPeerCheck` runs with DATAFLOW_OPTIM_CHECK_DIR set
     to a temporary directory; the Swift test compiles the optimizer into the
     training program, runs N = 5 steps and writes the parameters after each step
     as <dir>/<case>.json (Tests/DataflowTests/OptimizerPeerCheckTests.swift).
  2. This script runs the same N steps with torch.optim (and
     torch.nn.utils.clip_grad_norm_ where the case clips), float64, and compares
     every parameter after every step: max |dataflow - torch| <= 1e-10.

Usage (from the repository root):
  .venv/bin/python Benchmarks/peers/optim_check.py --check [--package-path .]
      [--scratch-path .build-opt] [--keep DIR] [--skip-swift DIR]
Needs: torch (.venv/bin/pip install -r Benchmarks/peers/requirements-torch.txt).
Exit status 0 when every case is within the tolerance.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

TOLERANCE = 1e-10
STEPS = 5
BATCH = 6
PARAMETERS = [("w1", [3, 4], 1), ("b1", [4], 2), ("w2", [4, 2], 3), ("b2", [2], 4)]
LABELS = [0, 1, 1, 0, 1, 0]
SCHEDULE_ADAM = [0.01, 0.02, 0.015, 0.005, 0.001]
SCHEDULE_SGD = [0.1, 0.05, 0.2, 0.1, 0.01]

# name -> (torch optimizer class, keyword arguments, learning rate per step, clip max_norm):
# the OptimizerCase.all table of the Swift tests.
CASES = {
    "sgd": (torch.optim.SGD, dict(), [0.1] * STEPS, None),
    "sgd_weight_decay": (torch.optim.SGD, dict(weight_decay=0.05), [0.1] * STEPS, None),
    "sgd_momentum": (torch.optim.SGD, dict(momentum=0.9, weight_decay=0.01), [0.1] * STEPS, None),
    "sgd_nesterov": (torch.optim.SGD, dict(momentum=0.8, weight_decay=0.001, nesterov=True), [0.05] * STEPS, None),
    "adam": (torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1e-8), [0.01] * STEPS, None),
    "adam_weight_decay": (torch.optim.Adam, dict(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05), [0.02] * STEPS, None),
    "adamw": (torch.optim.AdamW, dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), [0.01] * STEPS, None),
    "rmsprop": (torch.optim.RMSprop, dict(alpha=0.99, eps=1e-8), [0.01] * STEPS, None),
    "rmsprop_centered_momentum": (torch.optim.RMSprop,
                                  dict(alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5, centered=True),
                                  [0.005] * STEPS, None),
    "clip_sgd_momentum": (torch.optim.SGD, dict(momentum=0.9), [0.1] * STEPS, 0.1),
    "clip_adam": (torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1e-8), [0.01] * STEPS, 0.05),
    "adam_scheduled": (torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1e-8), SCHEDULE_ADAM, None),
    "adamw_scheduled": (torch.optim.AdamW, dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), SCHEDULE_ADAM, None),
    "sgd_momentum_scheduled": (torch.optim.SGD, dict(momentum=0.9), SCHEDULE_SGD, None),
}


def element(i, salt):
    return ((37 * i + 11 * salt) % 101 - 50) / 100


def values(shape, salt):
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([element(i, salt) for i in range(n)], dtype=torch.float64).reshape(shape)


def torch_trajectory(name):
    """The parameters (flattened lists) after each of the N torch.optim steps, and the losses."""
    cls, kwargs, rates, clip = CASES[name]
    params = {n: values(shape, salt).requires_grad_(True) for n, shape, salt in PARAMETERS}
    x = values([BATCH, 3], 0)
    y = torch.tensor(LABELS, dtype=torch.int64)
    # foreach=False: the single-tensor loops, whose formulas torch documents.
    optimizer = cls(list(params.values()), lr=rates[0], foreach=False, **kwargs)
    steps, losses = [], []
    for lr in rates:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        hidden = torch.tanh(x @ params["w1"] + params["b1"])
        loss = torch.nn.functional.cross_entropy(hidden @ params["w2"] + params["b2"], y)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(list(params.values()), clip)
        optimizer.step()
        losses.append(loss.item())
        steps.append({n: p.detach().reshape(-1).tolist() for n, p in params.items()})
    return steps, losses


def run_swift(directory, package_path, scratch_path):
    env = dict(os.environ, DATAFLOW_OPTIM_CHECK_DIR=directory)
    command = ["swift", "test", "-c", "release", "--package-path", package_path,
               "--scratch-path", scratch_path, "--filter", "OptimizerPeerCheck"]
    print("$ DATAFLOW_OPTIM_CHECK_DIR=%s %s" % (directory, " ".join(command)), flush=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-6000:])
        sys.stderr.write(result.stderr[-6000:])
        raise SystemExit("swift test failed (exit %d)" % result.returncode)


def compare(directory):
    failures = 0
    print("%-28s %14s %14s  %s" % ("case", "max |Δparam|", "max |Δloss|", "result"))
    for name in CASES:
        path = os.path.join(directory, name + ".json")
        if not os.path.exists(path):
            print("%-28s %14s %14s  MISSING (%s)" % (name, "-", "-", path))
            failures += 1
            continue
        with open(path) as f:
            swift = json.load(f)
        steps, losses = torch_trajectory(name)
        if len(swift["steps"]) != len(steps):
            print("%-28s step count %d != %d  FAIL" % (name, len(swift["steps"]), len(steps)))
            failures += 1
            continue
        worst = 0.0
        for ours, theirs in zip(swift["steps"], steps):
            for n in theirs:
                a, b = ours[n], theirs[n]
                if len(a) != len(b):
                    worst = float("inf")
                    continue
                worst = max([worst] + [abs(u - v) for u, v in zip(a, b)])
        loss_diff = max(abs(u - v) for u, v in zip(swift["losses"], losses))
        ok = worst <= TOLERANCE and loss_diff <= TOLERANCE
        failures += 0 if ok else 1
        print("%-28s %14.3e %14.3e  %s" % (name, worst, loss_diff, "ok" if ok else "FAIL"))
    extra = sorted(set(f[:-5] for f in os.listdir(directory) if f.endswith(".json")) - set(CASES))
    if extra:
        print("cases written by Swift but unknown here: %s" % ", ".join(extra))
        failures += 1
    print("torch %s, float64, %d steps, tolerance %.0e: %s" % (
        torch.__version__, STEPS, TOLERANCE, "all ok" if failures == 0 else "%d FAILED" % failures))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="run the Swift test, then torch, and compare")
    parser.add_argument("--package-path", default=".")
    parser.add_argument("--scratch-path", default=".build-opt")
    parser.add_argument("--keep", help="write the Swift trajectories into this directory and keep them")
    parser.add_argument("--skip-swift", metavar="DIR", help="compare trajectories already written into DIR")
    args = parser.parse_args()
    if not args.check:
        parser.print_help()
        return 2
    torch.set_default_dtype(torch.float64)
    if args.skip_swift:
        return 1 if compare(args.skip_swift) else 0
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        run_swift(os.path.abspath(args.keep), args.package_path, args.scratch_path)
        return 1 if compare(args.keep) else 0
    with tempfile.TemporaryDirectory(prefix="optim_check.") as directory:
        run_swift(directory, args.package_path, args.scratch_path)
        return 1 if compare(directory) else 0


if __name__ == "__main__":
    sys.exit(main())
