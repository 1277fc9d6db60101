#!/usr/bin/env python3
"""Markdown tables from the JSON lines of models.py / run_all.sh.

    .venv/bin/python Benchmarks/peers/models/table.py results.jsonl
"""
import json
import sys


def ms(v):
    return "–" if v is None else f"{v * 1e3:.3f}"


def main(path):
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
    models = [m for m in ("logreg", "mlp", "cnn", "dae", "lstm") if any(k[0] == m for k in summ)]
    threads = sorted({k[2] for k in summ} | {k[2] for k in timing})
    fws = [f for f in ("torch", "jax") if any(k[1] == f for k in summ)]
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
    print()
    cols = [(f, t) for t in threads for f in fws]
    print("| model (median ms per step; per epoch) | "
          + " | ".join(f"{f} {t}T" for f, t in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for m in models:
        cells = []
        for f, t in cols:
            r = summ.get((m, f, t))
            cells.append("–" if r is None else f"{ms(r['step_median_s'])} ({ms(r['cpu_step_median_s'])} cpu); "
                         f"{r['epoch_median_s'] * 1e3:.1f}")
        print(f"| {m} | " + " | ".join(cells) + " |")
    for m in ("cnn", "lstm"):
        if not any(k[0] == m for k in timing):
            continue
        cells = []
        size = next(timing[k]["size"] for k in timing if k[0] == m)
        for f, t in cols:
            r = timing.get((m, f, t))
            cells.append("–" if r is None else f"{ms(r['step_median_s'])} ({ms(r['cpu_step_median_s'])} cpu)")
        print(f"| {m} timing size ({size}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
