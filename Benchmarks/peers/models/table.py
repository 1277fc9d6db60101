#!/usr/bin/env python3
"""Markdown tables from the JSON lines of models.py / run_all.sh.

    .venv/bin/python Benchmarks/peers/models/table.py results.jsonl [more.jsonl ...]

With several files (repeated runs) the accuracy table comes from the first one (a note
says whether the others agree) and each timing cell gives the range over the runs:
"wall min–max (cpu min–max)" in ms.
"""
import json
import sys

MODELS = ("logreg", "mlp", "cnn", "dae", "lstm")


def load(path):
    summ, timing = {}, {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("bench") == "peer-model" and "skipped" not in r:
            summ[(r["model"], r["framework"], r["threads"])] = r
        elif r.get("bench") == "peer-model-timing":
            timing[(r["model"], r["framework"], r["threads"])] = r
    return summ, timing


def rng(vals, fmt="{:.3f}"):
    vals = [v * 1e3 for v in vals]
    lo, hi = min(vals), max(vals)
    return fmt.format(lo) if len(vals) == 1 or fmt.format(lo) == fmt.format(hi) else \
        fmt.format(lo) + "–" + fmt.format(hi)


def main(paths):
    runs = [load(p) for p in paths]
    summ, timing = runs[0]
    keys = set().union(*(set(s) for s, _ in runs))
    tkeys = set().union(*(set(t) for _, t in runs))
    models = [m for m in MODELS if any(k[0] == m for k in keys)]
    threads = sorted({k[2] for k in keys} | {k[2] for k in tkeys})
    fws = [f for f in ("torch", "jax") if any(k[1] == f for k in keys)]
    print("| model | epochs | lr | " + " | ".join(f"{f} final test acc (best)" for f in fws)
          + " | " + " | ".join(f"{f} final test loss" for f in fws) + " |")
    print("|---|---:|---:|" + "---:|" * (2 * len(fws)))
    for m in models:
        any_r = next(summ[k] for k in summ if k[0] == m)
        cells = []
        for f in fws:
            r = summ.get((m, f, threads[0]))
            if r is None or r["final_test_acc"] is None:
                cells.append("–" if r is None else "(loss)")
            else:
                cells.append(f"{100 * r['final_test_acc']:.2f}% ({100 * r['best_test_acc']:.2f}%)")
        for f in fws:
            r = summ.get((m, f, threads[0]))
            cells.append("–" if r is None else f"{r['final_test_loss']:.4f}")
        print(f"| {m} | {any_r['epochs']} | {any_r['lr']:g} | " + " | ".join(cells) + " |")
    if len(runs) > 1:
        same = all(abs(s[k]["final_test_loss"] - summ[k]["final_test_loss"]) < 1e-9
                   for s, _ in runs[1:] for k in s if k in summ)
        print(f"\n(final test losses of the other {len(runs) - 1} run(s): "
              f"{'identical' if same else 'DIFFERENT'})")
    print()
    cols = [(f, t) for t in threads for f in fws]
    unit = "ms per step, wall (cpu); ms per epoch" + (f"; range over {len(runs)} runs" if len(runs) > 1 else "")
    print(f"| model ({unit}) | " + " | ".join(f"{f} {t}T" for f, t in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for m in models:
        cells = []
        for f, t in cols:
            rs = [s[(m, f, t)] for s, _ in runs if (m, f, t) in s]
            cells.append("–" if not rs else
                         f"{rng([r['step_median_s'] for r in rs])} ({rng([r['cpu_step_median_s'] for r in rs])}); "
                         f"{rng([r['epoch_median_s'] for r in rs], '{:.1f}')}")
        print(f"| {m} | " + " | ".join(cells) + " |")
    for m in ("cnn", "lstm"):
        if not any(k[0] == m for k in tkeys):
            continue
        size = next(t[k]["size"] for _, t in runs for k in t if k[0] == m)
        cells = []
        for f, t in cols:
            rs = [tt[(m, f, t)] for _, tt in runs if (m, f, t) in tt]
            cells.append("–" if not rs else
                         f"{rng([r['step_median_s'] for r in rs], '{:.1f}')} "
                         f"({rng([r['cpu_step_median_s'] for r in rs], '{:.1f}')})")
        print(f"| {m} timing size ({size}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
