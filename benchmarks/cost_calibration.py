"""Measure the cost model's rates on a stratified sample of a config's grid, and print predicted vs measured.

For each architecture the config plans (inputs-hidden-classes, recurrent or not), one of its largest planned
training jobs trains as planned — its cells' resolved configs, K, batch size and threads — for ``--epochs``
epochs, beside ``--side-by-side`` − 1 copies of itself (default ⌊cores / threads⌋ jobs at once, as the grid
runs: two 1-thread jobs share a 2-core machine and slow each other). The median wall time of the epochs
after the first (warm-up: compiled kernels, silent hidden layers)
is the measured epoch (the first one's excess is the job's start-up, ``startup_s``); the rate is

    r_arch = epoch_s / (K · N_train)        [wall s per cell and training sample, evaluation included]
    r_eval = eval_s / (K · N_eval)          [wall s per cell and evaluated sample]

with eval_s the median evaluation of those epochs and N_eval the samples an epoch evaluates (validation, and
test unless the cells evaluate it once: ``training.test_split: best_epoch``; surrogate_study.plan.cost). Randman jobs run on their own generated task. A real dataset (no download here)
trains on generated spike data of its shape, classes and input density, ``--real-fraction`` of its train and
test samples, with validation and test in the dataset's own proportion to training: MNIST-like inputs fire
once per pixel above the latency threshold, 127 spikes per digit on average (measured on the 5k MNIST subset
at threshold 0.2; used for Fashion-MNIST too, which shares the architecture), SHD-like inputs ``--shd-spikes``
spikes per sample in 700 channels over 100 bins (an assumption: no SHD file on this machine).

Prints one row per job: the measured epoch, the epoch predicted by the rates file given with ``--rates`` (the
committed benchmarks/cost_rates.csv by default; none on a first calibration), their ratio; then the grid's
predicted core-hours and wall hours on ``--cores`` cores from the measured rates. ``--write`` stores the
measured rates in the rates file (rows of other architectures or threads are kept).

    .venv/bin/python benchmarks/cost_calibration.py --configfile config/paper.yaml --write   # calibrate
    .venv/bin/python benchmarks/cost_calibration.py --configfile config/paper.yaml           # check, ±30 %
    .venv/bin/python benchmarks/cost_calibration.py --configfile config/config.yaml --only 20-100-10
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from surrogate_study.plan.cost import (  # noqa: E402
    RATE_COLUMNS, architecture, grid_wall_hours, job_seconds, rate_for, rate_from_row, read_rates, train_samples,
    valid_and_test_samples, work_seconds)
from surrogate_study.plan.config import test_every_epoch  # noqa: E402
from surrogate_study.plan.dataset_catalog import REAL_DATASETS, split_sizes  # noqa: E402
from surrogate_study.plan.real_tasks import add_real_datasets  # noqa: E402
from surrogate_study.plan.study import plan_studies  # noqa: E402
from surrogate_study.storage.atomic import write_text_atomic  # noqa: E402

STEPS = 100
MNIST_SPIKES = 127  # mean spikes per digit, latency code at threshold 0.2 (the 5k MNIST subset)


def synthetic_events(rng: np.random.Generator, n: int, units: int, classes: int, spikes: int, one_per_unit: bool):
    """Event arrays of ``n`` samples: ``spikes`` spikes each at random (step, unit); at most one per unit if asked."""
    times, unit_ids, counts = [], [], []
    for _ in range(n):
        u = np.sort(rng.choice(units, size=spikes, replace=False)) if one_per_unit else rng.integers(0, units, spikes)
        times.append(rng.integers(0, STEPS, len(u)))
        unit_ids.append(u)
        counts.append(len(u))
    return (np.concatenate(times).astype(np.int16), np.concatenate(unit_ids).astype(np.int16),
            np.asarray(counts, dtype=np.int32), rng.integers(0, classes, n).astype(np.int8))


def synthetic_dataset(path: Path, name: str, fraction: float, shd_spikes: int) -> tuple[int, int]:
    """A processed-format file of generated spikes shaped like dataset ``name``; (train+valid, test) samples."""
    spec = REAL_DATASETS[name]
    n_train, n_test = max(1, round(spec.train_size * fraction)), max(1, round(spec.test_size * fraction))
    spikes, one_per_unit = (shd_spikes, False) if name == "shd" else (MNIST_SPIKES, True)
    rng, arrays = np.random.default_rng(0), {}
    for prefix, n in (("train", n_train), ("test", n_test)):
        t, u, c, labels = synthetic_events(rng, n, spec.n_units, spec.n_classes, spikes, one_per_unit)
        arrays.update({f"{prefix}_times": t, f"{prefix}_units": u, f"{prefix}_counts": c, f"{prefix}_labels": labels})
    np.savez(path, **arrays, steps=STEPS, n_units=spec.n_units, n_classes=spec.n_classes)
    return n_train, n_test


def plan(configfile: Path):
    config = yaml.safe_load(configfile.read_text())
    config.update(add_real_datasets(config))
    return config, plan_studies(config)


def sample_jobs(the_plan) -> dict[str, str]:
    """architecture -> one of its largest jobs (the first in plan order)."""
    chosen: dict[str, str] = {}
    for job, cells in the_plan.jobs.items():
        arch = architecture(the_plan.cells[cells[0]])
        if arch not in chosen or len(cells) > len(the_plan.jobs[chosen[arch]]):
            chosen[arch] = job
    return dict(sorted(chosen.items()))


def companions(arch: str, threads: int, args) -> list[subprocess.Popen]:
    """``args.side_by_side - 1`` copies of this measurement, started now, so that the timed job shares the machine
    as in the grid (⌊cores / threads⌋ jobs at a time); each trains one epoch more than the timed one."""
    command = [sys.executable, __file__, "--configfile", str(args.configfile), "--only", arch, "--threads",
               str(threads), "--epochs", str(args.epochs + 1), "--real-fraction", str(args.real_fraction),
               "--shd-spikes", str(args.shd_spikes), "--side-by-side", "1", "--companion"]
    return [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(args.side_by_side - 1)]


def job_runs(configs: list[dict], threads: int, folder: Path, real_fraction: float, shd_spikes: int,
             **training) -> tuple[list[dict], dict]:
    """A planned job's run configs as measured: ``threads`` where a cell leaves them open, ``training`` keys set
    (epochs, …; no model saved), and a real dataset replaced by generated spikes of its shape (``real_fraction``
    of its samples, written to ``folder``). Also its sizes: train, valid and test samples, input spikes."""
    name = configs[0]["dataset"]["name"]
    runs = [dict(c, threads=c["threads"] or threads) for c in configs]
    for run in runs:
        run["training"] = {**run["training"], "save_model": False, **training}
    n_train, spikes = train_samples(runs[0]), None
    n_valid, n_test = valid_and_test_samples(runs[0])
    if name in REAL_DATASETS:  # generated spikes of the dataset's shape, a fraction of its samples
        path = folder / f"{name}.npz"
        total, n_test = synthetic_dataset(path, name, real_fraction, shd_spikes)
        fraction = runs[0]["dataset"].get("valid_fraction", 0.1)
        n_train = split_sizes(total, [1 - fraction, fraction])[0]
        n_valid = total - n_train
        spikes = shd_spikes if name == "shd" else MNIST_SPIKES
        for run in runs:
            run["dataset"] = {**run["dataset"], "path": str(path), "check_sizes": False}
    return runs, {"train": n_train, "valid": n_valid, "test": n_test, "spikes": spikes}


def measure(job: str, configs: list[dict], threads: int, args, folder: Path) -> dict:
    """Train one job's cells for ``args.epochs`` epochs (beside its companions); its measured epoch and rate."""
    from surrogate_study.training.trainer import train_cells

    name = configs[0]["dataset"]["name"]
    runs, sizes = job_runs(configs, threads, folder, args.real_fraction, args.shd_spikes, epochs=args.epochs)
    n_train, spikes = sizes["train"], sizes["spikes"]
    n_eval = sizes["valid"] + (sizes["test"] if test_every_epoch(runs[0]["training"]) else 0)  # per epoch
    others = [] if args.companion else companions(architecture(runs[0]), threads, args)
    marks, parts = [time.perf_counter()], []
    train_cells(runs, [folder / job / str(k) for k in range(len(runs))],
                on_epoch_end=lambda epoch, rows: marks.append(time.perf_counter()), progress=False,
                epoch_times=parts)
    for other in others:
        other.kill()
        other.wait()
    epochs = np.diff(marks)
    epoch_s = statistics.median(epochs[1:])
    eval_s = statistics.median([evaluation for _, evaluation in parts[1:]])
    return {"architecture": architecture(runs[0]), "dataset": name, "cells": len(runs), "threads": runs[0]["threads"],
            "batch_size": runs[0]["training"]["batch_size"], "train_samples": n_train, "eval_samples": n_eval,
            "input_spikes": spikes, "jobs_at_once": len(others) + 1, "epochs_timed": args.epochs - 1,
            "epoch_s": round(float(epoch_s), 4), "eval_s": round(float(eval_s), 4),
            "startup_s": round(max(0.0, float(epochs[0] - epoch_s)), 4),
            "s_per_cell_sample": float(epoch_s) / (len(runs) * n_train),
            "s_per_cell_eval_sample": float(eval_s) / (len(runs) * n_eval)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, default=ROOT / "config" / "paper.yaml")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per job; the first is warm-up, not timed")
    parser.add_argument("--real-fraction", type=float, default=0.1,
                        help="fraction of a real dataset's samples the generated stand-in has")
    parser.add_argument("--shd-spikes", type=int, default=5000, help="input spikes per SHD-like sample")
    parser.add_argument("--only", nargs="*", default=None, help="architectures to measure (default: all planned)")
    parser.add_argument("--rates", type=Path, default=ROOT / "benchmarks" / "cost_rates.csv")
    parser.add_argument("--write", action="store_true", help="store the measured rates in --rates")
    parser.add_argument("--cores", type=int, default=2, help="cores of the grid's wall-time prediction")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per job (default: the config's train_threads)")
    parser.add_argument("--side-by-side", type=int, default=None,
                        help="jobs training at once while one is timed (default: ⌊cores / threads⌋, as the grid runs)")
    parser.add_argument("--companion", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs {args.epochs} is not allowed: give at least 2 (the first one is not timed)")
    if not 0 < args.real_fraction <= 1:
        parser.error(f"--real-fraction {args.real_fraction} is not allowed: give a fraction in (0, 1]")
    workflow, the_plan = plan(args.configfile)
    threads = args.threads or int(workflow.get("train_threads", 2))
    args.side_by_side = args.side_by_side or max(1, args.cores // threads)
    if args.companion:  # a load beside a timed job: train, report nothing
        for arch, job in sample_jobs(the_plan).items():
            if arch in args.only:
                with tempfile.TemporaryDirectory() as folder:
                    measure(job, [the_plan.cells[c] for c in the_plan.jobs[job]], threads, args, Path(folder))
        return
    chosen = sample_jobs(the_plan)
    unknown = sorted(set(args.only or []) - set(chosen))
    if unknown:
        parser.error(f"--only {' '.join(unknown)}: not planned by {args.configfile} (planned: {' '.join(chosen)})")
    before = read_rates(args.rates)
    measured = []
    with tempfile.TemporaryDirectory() as folder:
        for arch, job in chosen.items():
            if args.only and arch not in args.only:
                continue
            configs = [the_plan.cells[c] for c in the_plan.jobs[job]]
            row = measure(job, configs, threads, args, Path(folder))
            predicted = None
            if before:  # the rates file's prediction of the same epoch (its K cells, these samples)
                rate = rate_for(configs[0], before, threads)[0]
                predicted = len(configs) * work_seconds(rate, row["train_samples"], row["eval_samples"])
            measured.append(row)
            print(json.dumps({"job": job, "architecture": arch, "cells": row["cells"], "threads": row["threads"],
                              "measured_epoch_s": row["epoch_s"],
                              "predicted_epoch_s": None if predicted is None else round(predicted, 3),
                              "measured_over_predicted": None if predicted is None
                              else round(row["epoch_s"] / predicted, 3)}),
                  flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    machine = f"{platform.machine()} {_cpu_model()}"
    rates = {(r["architecture"], r["threads"]): rate_from_row(r) for r in measured}
    grid_rates = {**before, **rates}
    jobs = {job: [the_plan.cells[c] for c in cells] for job, cells in the_plan.jobs.items()}
    try:
        core_h = sum(job_seconds(configs, grid_rates, threads) for configs in jobs.values()) * threads / 3600
        summary = {"config": str(args.configfile), "cells": len(the_plan.cells), "jobs": len(jobs),
                   "threads_per_job": threads, "predicted_core_hours": round(core_h, 2),
                   f"predicted_wall_hours_{args.cores}_cores": round(grid_wall_hours(jobs, grid_rates, threads,
                                                                                     args.cores), 2)}
    except ValueError as error:
        summary = {"config": str(args.configfile), "grid": f"not predicted: {error}"}
    print(json.dumps(summary), flush=True)
    if args.write:
        old = list(csv.DictReader(open(args.rates))) if args.rates.is_file() else []
        kept = [r for r in old if (r["architecture"], int(r["threads"])) not in rates]
        new = [{**r, "machine": machine, "commit": commit} for r in measured]
        lines = [",".join(RATE_COLUMNS)] + [",".join("" if r.get(c) is None else str(r[c]) for c in RATE_COLUMNS)
                                            for r in kept + new]
        write_text_atomic(args.rates, "\n".join(lines) + "\n")
        print(f"wrote {len(new)} rate(s) to {args.rates}", file=sys.stderr)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip().replace(",", " ")
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
