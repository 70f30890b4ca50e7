"""Cost estimates: CPU-hours of a planned grid from measured benchmark data.

Two measured rates:

- Randman (and any architecture without a per-sample measurement): work of one cell in
  neuron-steps = training samples × epochs × time steps × Σ hidden units (the evaluation passes
  are folded into the measured rate). The rate (seconds per neuron-step) is the total measured wall
  time of the reference jobs over their total work; CPU-hours = work × rate × threads / 3600.
- Real datasets (MNIST, Fashion-MNIST, SHD, MNIST-5k): CPU-hours = training samples × epochs ×
  c_arch / 3600, where c_arch (CPU seconds per training sample and epoch for one cell, the
  evaluation of its validation and test splits included) is measured for the cell's architecture
  (inputs, hidden layers, recurrence, classes) by ``benchmarks/sample_cost.py`` into
  ``benchmarks/sample_cost.csv``. Inputs (784 / 700 vs Randman's 20) and recurrence change the cost
  per neuron-step, so Randman's rate is not scaled to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from surrogate_study.plan.dataset_catalog import PREPROCESSING, REAL_DATASETS, split_sizes

if TYPE_CHECKING:  # pandas is imported where a table is built, so that planning stays light
    import pandas as pd

SAMPLE_COST_COLUMNS = ["architecture", "n_inputs", "hidden", "recurrent", "n_classes", "steps", "batch_size",
                       "cells", "threads", "train_samples", "epochs", "wall_s", "cpu_s_per_sample"]


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


def time_steps(config: Mapping[str, Any]) -> int:
    """Time steps of one cell's inputs (a real dataset's: its package preprocessing default)."""
    dataset = config["dataset"]
    if dataset["name"] in PREPROCESSING:
        return int(PREPROCESSING[dataset["name"]]["steps"])
    return int(dataset.get("steps", 0))


def architecture(config: Mapping[str, Any]) -> str:
    """"inputs-hidden-classes" of one cell, e.g. "784-100-10", "700-128r-20", "20-100x100-10" (r: recurrent)."""
    dataset, model = config["dataset"], config["model"]
    if dataset["name"] in REAL_DATASETS:
        spec = REAL_DATASETS[dataset["name"]]
        n_in, n_out = spec.n_units, spec.n_classes
    else:
        n_in, n_out = dataset.get("units", 0), dataset.get("classes", 0)
    hidden = "x".join(str(h) for h in model["hidden"]) + ("r" if model["recurrent"] else "")
    return f"{n_in}-{hidden}-{n_out}"


def neuron_steps(config: Mapping[str, Any]) -> float:
    """Training work of one cell in neuron-steps."""
    return float(train_samples(config)) * config["training"]["epochs"] * time_steps(config) \
        * sum(config["model"]["hidden"])


def seconds_per_neuron_step(benchmarks: pd.DataFrame) -> float:
    """Measured rate: Σ wall seconds / Σ neuron-steps over the reference jobs."""
    return float(benchmarks["s"].sum() / benchmarks["neuron_steps"].sum())


def sample_cost_table(sample_costs: pd.DataFrame | None) -> dict[str, float]:
    """architecture -> measured CPU seconds per training sample and epoch (the last row of an architecture wins)."""
    if sample_costs is None or sample_costs.empty:
        return {}
    missing = sorted(set(SAMPLE_COST_COLUMNS) - set(sample_costs.columns))
    if missing:
        raise ValueError(f"sample-cost table lacks the columns {', '.join(missing)} "
                         f"(expected {', '.join(SAMPLE_COST_COLUMNS)}); rerun benchmarks/sample_cost.py")
    return {str(a): float(c) for a, c in zip(sample_costs["architecture"], sample_costs["cpu_s_per_sample"])}


def cell_cost(config: Mapping[str, Any], rate: float, threads: int,
              per_sample: Mapping[str, float]) -> tuple[float, str]:
    """(CPU seconds, how) of one cell: measured per sample for a real dataset's architecture, else neuron-steps."""
    arch = architecture(config)
    if config["dataset"]["name"] in REAL_DATASETS and arch in per_sample:
        return train_samples(config) * config["training"]["epochs"] * per_sample[arch], "per sample " + arch
    return neuron_steps(config) * rate * threads, "neuron-step rate (Randman)"


def estimate(studies: Mapping[str, list[str]], cells: Mapping[str, Mapping[str, Any]],
             benchmarks: pd.DataFrame, threads: int, sample_costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per study and in total: distinct cells, neuron-steps and estimated CPU-hours."""
    import pandas as pd

    rate, per_sample = seconds_per_neuron_step(benchmarks), sample_cost_table(sample_costs)
    rows, counted = [], set()
    for study, members in studies.items():
        new = [c for c in members if c not in counted]
        counted.update(new)
        work = sum(neuron_steps(cells[c]) for c in new)
        seconds = sum(cell_cost(cells[c], rate, threads, per_sample)[0] for c in new)
        rows.append({"study": study, "cells": len(members), "new_cells": len(new), "neuron_steps": work,
                     "cpu_hours": seconds / 3600})
    table = pd.DataFrame(rows)
    total = {"study": "total", "cells": len(counted), "new_cells": len(counted),
             "neuron_steps": table["neuron_steps"].sum(), "cpu_hours": table["cpu_hours"].sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def estimate_by_dataset(cells: Mapping[str, Mapping[str, Any]], benchmarks: pd.DataFrame, threads: int,
                        sample_costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per dataset (all studies, each cell once): cells, architectures, how it is costed, CPU-hours; and a total."""
    import pandas as pd

    rate, per_sample = seconds_per_neuron_step(benchmarks), sample_cost_table(sample_costs)
    rows: dict[str, dict[str, Any]] = {}
    for config in cells.values():
        seconds, how = cell_cost(config, rate, threads, per_sample)
        row = rows.setdefault(config["dataset"]["name"], {"cells": 0, "architectures": set(), "how": set(),
                                                          "train_samples": train_samples(config), "seconds": 0.0})
        row["cells"] += 1
        row["architectures"].add(architecture(config))
        row["how"].add(how)
        row["seconds"] += seconds
    table = pd.DataFrame([{"dataset": name, "cells": r["cells"], "train_samples": r["train_samples"],
                           "architectures": ", ".join(sorted(r["architectures"])), "cost": "; ".join(sorted(r["how"])),
                           "cpu_hours": r["seconds"] / 3600} for name, r in rows.items()],
                         columns=["dataset", "cells", "train_samples", "architectures", "cost", "cpu_hours"])
    total = {"dataset": "total", "cells": int(table["cells"].sum()), "train_samples": "", "architectures": "",
             "cost": "", "cpu_hours": table["cpu_hours"].sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
