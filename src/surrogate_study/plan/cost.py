"""Cost model: the wall and core seconds of a planned training job from measured per-architecture rates.

A rate is measured by ``benchmarks/cost_calibration.py``: one planned job of each architecture (its cells,
batch and threads as planned) trains a few epochs and the median epoch after the first (warm-up: compiled
kernels, silent hidden layers) gives

    r_arch = epoch wall seconds / (K_arch · N_train)        [s per cell and training sample, evaluation included]

where K_arch is the job's cell count and N_train its training samples per epoch (the validation and test
splits evaluated in the dataset's own proportion to them). The part of the epoch spent evaluating gives the
rate per evaluated sample, r_eval = eval_s / (K_arch · N_eval) (N_eval: samples the measured job evaluated per
epoch, q = N_eval / N_train of them per training sample). A job of K cells of that architecture then takes

    wall_s = Σ_cells (N_train · epochs · (r_arch − q · r_eval) + N_evaluated · r_eval + s_arch / K_arch)
    core_s = wall_s · threads

with N_evaluated = epochs · N_valid + epochs · N_test, or epochs · N_valid + N_test for a cell that evaluates
the test split once (``training.test_split: best_epoch``), and s_arch the job's start-up, the first epoch's time
beyond the median one (kernels loaded from numba's cache, hidden layers settling); linear in K: a job of fewer
cells is predicted proportionally faster. A rate without r_eval (an older rates file) counts evaluation as the
measured job did: wall_s = Σ_cells (N_train · epochs · r_arch + s_arch / K_arch). Rates
are per threads per job; at other threads core seconds are kept. An architecture without a rate is scaled
from the measured one with the same recurrence and the nearest input count by Σ hidden, and says so. Rates
are read with the csv module, so that planning (the Snakefile's ETA, the grid-size check) stays free of
pandas; the per-study and per-dataset tables use pandas.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from surrogate_study.plan.config import test_every_epoch
from surrogate_study.plan.dataset_catalog import PREPROCESSING, REAL_DATASETS, split_sizes

if TYPE_CHECKING:  # pandas is imported where a table is built, so that planning stays light
    import pandas as pd

#: Columns of benchmarks/cost_rates.csv (written by benchmarks/cost_calibration.py).
RATE_COLUMNS = ["architecture", "dataset", "cells", "threads", "batch_size", "train_samples", "eval_samples",
                "input_spikes", "jobs_at_once", "epochs_timed", "epoch_s", "eval_s", "startup_s", "s_per_cell_sample",
                "s_per_cell_eval_sample", "machine", "commit"]
#: Default rates file of the workflow config's ``cost_rates`` key.
DEFAULT_RATES = "benchmarks/cost_rates.csv"


@dataclass(frozen=True)
class Rate:
    """Measured wall seconds per cell and training sample of one architecture (evaluation included), and per
    evaluated sample (None: not measured apart); ``eval_per_train``: samples the measured job evaluated per epoch
    for each of its training samples."""

    architecture: str
    s_per_cell_sample: float
    threads: int
    cells: int
    startup_s: float = 0.0
    s_per_cell_eval_sample: Optional[float] = None
    eval_per_train: float = 0.0


def train_samples(config: Mapping[str, Any]) -> int:
    """Training samples of one cell: Randman's train split, or a real dataset's train split minus validation."""
    dataset = config["dataset"]
    if dataset["name"] in REAL_DATASETS:
        total = REAL_DATASETS[dataset["name"]].train_size
        fraction = dataset.get("valid_fraction", 0.1)
        return split_sizes(total, [1 - fraction, fraction])[0]
    samples = dataset.get("samples_per_class", 0) * dataset.get("classes", 0)
    split = dataset.get("split", {"train": 1.0, "valid": 0.0, "test": 0.0})
    return split_sizes(samples, [split["train"], split["valid"], split["test"]])[0]


def valid_and_test_samples(config: Mapping[str, Any]) -> tuple[int, int]:
    """Validation and test samples of one cell."""
    dataset = config["dataset"]
    if dataset["name"] in REAL_DATASETS:
        spec = REAL_DATASETS[dataset["name"]]
        return spec.train_size - train_samples(config), spec.test_size
    samples = dataset.get("samples_per_class", 0) * dataset.get("classes", 0)
    split = dataset.get("split", {"train": 1.0, "valid": 0.0, "test": 0.0})
    _, valid, test = split_sizes(samples, [split["train"], split["valid"], split["test"]])
    return valid, test


def evaluated_samples(config: Mapping[str, Any]) -> int:
    """Samples one cell evaluates over its run: the validation split every epoch, the test split every epoch
    or, with ``training.test_split: best_epoch``, once."""
    epochs = config["training"]["epochs"]
    valid, test = valid_and_test_samples(config)
    return epochs * valid + (epochs if test_every_epoch(config["training"]) else 1) * test


def time_steps(config: Mapping[str, Any]) -> int:
    """Time steps of one cell's inputs (a real dataset's: its package preprocessing default)."""
    dataset = config["dataset"]
    if dataset["name"] in PREPROCESSING:
        return int(PREPROCESSING[dataset["name"]]["steps"])
    return int(dataset.get("steps", 0))


def n_inputs(config: Mapping[str, Any]) -> int:
    dataset = config["dataset"]
    return REAL_DATASETS[dataset["name"]].n_units if dataset["name"] in REAL_DATASETS else dataset.get("units", 0)


def architecture(config: Mapping[str, Any]) -> str:
    """"inputs-hidden-classes" of one cell, e.g. "784-100-10", "700-128r-20", "20-100x100-10" (r: recurrent)."""
    dataset, model = config["dataset"], config["model"]
    n_out = REAL_DATASETS[dataset["name"]].n_classes if dataset["name"] in REAL_DATASETS else dataset.get("classes", 0)
    hidden = "x".join(str(h) for h in model["hidden"]) + ("r" if model["recurrent"] else "")
    return f"{n_inputs(config)}-{hidden}-{n_out}"


def neuron_steps(config: Mapping[str, Any]) -> float:
    """Training work of one cell in neuron-steps (samples × epochs × T × Σ hidden; job priorities)."""
    return float(train_samples(config)) * config["training"]["epochs"] * time_steps(config) \
        * sum(config["model"]["hidden"])


Rates = Mapping[tuple[str, int], Rate]


def read_rates(path: str | Path) -> dict[tuple[str, int], Rate]:
    """(architecture, threads) -> :class:`Rate` from a rates CSV (the last such row wins); {} when absent."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = sorted({"architecture", "s_per_cell_sample", "threads", "cells"} - set(reader.fieldnames or []))
        if missing:
            raise ValueError(f"{path}: the rates table lacks the column(s) {', '.join(missing)}; "
                             "rerun benchmarks/cost_calibration.py")
        return {(row["architecture"], int(row["threads"])): rate_from_row(row) for row in reader}


def rate_from_row(row: Mapping[str, Any]) -> Rate:
    """One row of a rates table, as read from the CSV (strings) or as measured (numbers); the evaluation
    columns may be absent or empty (an older file)."""
    eval_rate = row.get("s_per_cell_eval_sample") or None
    train, evaluated = float(row.get("train_samples") or 0), float(row.get("eval_samples") or 0)
    return Rate(row["architecture"], float(row["s_per_cell_sample"]), int(row["threads"]), int(row["cells"]),
                float(row.get("startup_s") or 0.0), None if eval_rate is None else float(eval_rate),
                evaluated / train if eval_rate is not None and train > 0 else 0.0)


def _parts(arch: str) -> tuple[int, list[int], bool]:
    n_in, hidden, _ = arch.split("-")
    recurrent = hidden.endswith("r")
    return int(n_in), [int(h) for h in hidden.rstrip("r").split("x")], recurrent


def rate_for(config: Mapping[str, Any], rates: Rates, threads: int) -> tuple[Rate, str]:
    """The rate of a cell's architecture at ``threads`` threads per job, and how it was found: measured at those
    threads; else measured at other threads (core seconds kept: wall × their threads / ``threads``); else scaled
    from the nearest measured architecture (same recurrence, nearest input count and depth) by Σ hidden."""
    arch = architecture(config)
    if not rates:
        raise ValueError("no measured cost rates: run benchmarks/cost_calibration.py "
                         "(writes benchmarks/cost_rates.csv)")
    if (arch, threads) in rates:
        return rates[arch, threads], "measured " + arch
    n_in, hidden, recurrent = _parts(arch)

    def distance(key: tuple[str, int]) -> tuple[bool, int, int, int]:
        o_in, o_hidden, o_rec = _parts(key[0])
        return o_rec != recurrent, abs(o_in - n_in), abs(len(o_hidden) - len(hidden)), abs(key[1] - threads)

    nearest = rates[min(sorted(rates), key=distance)]
    scale = sum(hidden) / sum(_parts(nearest.architecture)[1]) * nearest.threads / threads
    how = (f"measured {arch} at {nearest.threads} threads" if nearest.architecture == arch
           else f"scaled from {nearest.architecture}")
    eval_rate = nearest.s_per_cell_eval_sample
    return replace(nearest, architecture=arch, threads=threads, s_per_cell_sample=nearest.s_per_cell_sample * scale,
                   s_per_cell_eval_sample=None if eval_rate is None else eval_rate * scale), how


def cell_seconds(config: Mapping[str, Any], rates: Rates, threads: int) -> tuple[float, float, str]:
    """(wall seconds it adds to its job, core seconds, how) of one cell in a job of ``threads`` threads: its epochs,
    and its share of the job's start-up (the first epoch's excess: kernels loaded, layers settling) for K_arch cells."""
    rate, how = rate_for(config, rates, threads)
    wall = work_seconds(rate, train_samples(config) * config["training"]["epochs"], evaluated_samples(config)) \
        + rate.startup_s / rate.cells
    return wall, wall * rate.threads, how


def work_seconds(rate: Rate, trained: float, evaluated: float) -> float:
    """Wall seconds one cell adds to its job for ``trained`` training and ``evaluated`` evaluated samples;
    without a measured evaluation rate, evaluation counts as the measured job did it (in r_arch)."""
    if rate.s_per_cell_eval_sample is None:
        return trained * rate.s_per_cell_sample
    per_train_sample = rate.s_per_cell_sample - rate.eval_per_train * rate.s_per_cell_eval_sample
    return trained * per_train_sample + evaluated * rate.s_per_cell_eval_sample


def job_seconds(configs: Sequence[Mapping[str, Any]], rates: Rates, threads: int) -> float:
    """Predicted wall seconds of one training job of ``threads`` threads (its cells trained together)."""
    return sum(cell_seconds(config, rates, threads)[0] for config in configs)


def estimate(studies: Mapping[str, list[str]], cells: Mapping[str, Mapping[str, Any]],
             rates: Rates, threads: int) -> pd.DataFrame:
    """Per study and in total: cells, cells new to the study (a shared cell counts once), neuron-steps and
    predicted core-hours."""
    import pandas as pd

    rows, counted = [], set()
    for study, members in studies.items():
        new = [c for c in members if c not in counted]
        counted.update(new)
        rows.append({"study": study, "cells": len(members), "new_cells": len(new),
                     "neuron_steps": sum(neuron_steps(cells[c]) for c in new),
                     "cpu_hours": sum(cell_seconds(cells[c], rates, threads)[1] for c in new) / 3600})
    table = pd.DataFrame(rows)
    total = {"study": "total", "cells": len(counted), "new_cells": len(counted),
             "neuron_steps": table["neuron_steps"].sum(), "cpu_hours": table["cpu_hours"].sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def estimate_by_dataset(cells: Mapping[str, Mapping[str, Any]], rates: Rates, threads: int) -> pd.DataFrame:
    """Per dataset (all studies, each cell once): cells, architectures, how each is costed, core-hours; a total."""
    import pandas as pd

    rows: dict[str, dict[str, Any]] = {}
    for config in cells.values():
        _, core, how = cell_seconds(config, rates, threads)
        row = rows.setdefault(config["dataset"]["name"], {"cells": 0, "architectures": set(), "how": set(),
                                                          "train_samples": train_samples(config), "seconds": 0.0})
        row["cells"] += 1
        row["architectures"].add(architecture(config))
        row["how"].add(how)
        row["seconds"] += core
    table = pd.DataFrame([{"dataset": name, "cells": r["cells"], "train_samples": r["train_samples"],
                           "architectures": ", ".join(sorted(r["architectures"])), "cost": "; ".join(sorted(r["how"])),
                           "cpu_hours": r["seconds"] / 3600} for name, r in rows.items()],
                         columns=["dataset", "cells", "train_samples", "architectures", "cost", "cpu_hours"])
    total = {"dataset": "total", "cells": int(table["cells"].sum()), "train_samples": "", "architectures": "",
             "cost": "", "cpu_hours": table["cpu_hours"].sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def grid_wall_hours(jobs: Mapping[str, Sequence[Mapping[str, Any]]], rates: Rates, threads: int,
                    cores: int) -> float:
    """Predicted wall hours of the jobs on ``cores`` cores: ⌊cores / threads⌋ jobs of ``threads`` threads at a
    time, longest first (Snakemake's priorities), each to the earliest free slot."""
    slots = [0.0] * max(1, cores // max(1, threads))
    for seconds in sorted((job_seconds(configs, rates, threads) for configs in jobs.values()), reverse=True):
        slots[slots.index(min(slots))] += seconds
    return max(slots) / 3600
