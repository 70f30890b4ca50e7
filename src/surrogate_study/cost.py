"""Cost estimates: CPU-hours of a planned grid from measured benchmark data.

Work of one cell, in neuron-steps: training samples × epochs × time steps × Σ hidden
units (the evaluation passes are folded into the measured rate). The rate (seconds per
neuron-step) is the total measured wall time of the reference jobs over their total work,
so the estimate scales with grid size, epochs, data and network size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .dataset_catalog import split_sizes

if TYPE_CHECKING:  # pandas is imported where a table is built, so that planning stays light
    import pandas as pd


def neuron_steps(config: Mapping[str, Any]) -> float:
    """Training work of one cell in neuron-steps."""
    dataset = config["dataset"]
    samples = dataset.get("samples_per_class", 0) * dataset.get("classes", 0)
    split = dataset.get("split", {"train": 1.0, "valid": 0.0, "test": 0.0})
    train = split_sizes(samples, [split["train"], split["valid"], split["test"]])[0]
    return float(train) * config["training"]["epochs"] * dataset.get("steps", 0) * sum(config["model"]["hidden"])


def seconds_per_neuron_step(benchmarks: pd.DataFrame) -> float:
    """Measured rate: Σ wall seconds / Σ neuron-steps over the reference jobs."""
    return float(benchmarks["s"].sum() / benchmarks["neuron_steps"].sum())


def estimate(studies: Mapping[str, list[str]], cells: Mapping[str, Mapping[str, Any]],
             benchmarks: pd.DataFrame, threads: int) -> pd.DataFrame:
    """Per study and in total: distinct cells, neuron-steps and estimated CPU-hours (wall × threads)."""
    import pandas as pd

    rate = seconds_per_neuron_step(benchmarks)
    rows, counted = [], set()
    for study, members in studies.items():
        new = [c for c in members if c not in counted]
        counted.update(new)
        work = sum(neuron_steps(cells[c]) for c in new)
        rows.append({"study": study, "cells": len(members), "new_cells": len(new), "neuron_steps": work,
                     "cpu_hours": work * rate * threads / 3600})
    table = pd.DataFrame(rows)
    total = {"study": "total", "cells": len(counted), "new_cells": len(counted),
             "neuron_steps": table["neuron_steps"].sum(), "cpu_hours": table["cpu_hours"].sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
