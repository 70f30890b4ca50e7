"""Snakemake adapter: aggregate one study's cells into tidy tables (pandas)."""

import json
import sys
from pathlib import Path

import pandas as pd

from surrogate_study.analysis.aggregate import cell_row, history_frame, read_metrics
from surrogate_study.plan.config import test_every_epoch
from surrogate_study.storage.atomic import corrupt_input_ends_job, write_frame_atomic

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)

rows = json.loads(snakemake.params.rows)
# the cells' folders, written by the training jobs whose manifests are this rule's inputs
folders = [Path("results/cells") / labels["cell"] for labels in rows]
# every input checked where it is read: a corrupt or missing file is one line naming it
with corrupt_input_ends_job():
    metrics = [read_metrics(folder / "metrics.json") for folder in folders]
    table = pd.DataFrame([cell_row(m, labels) for m, labels in zip(metrics, rows)])
    history = pd.concat(
        [history_frame(folder / "history.csv", labels["cell"], m["epochs_completed"],
                       test_every_epoch(m["config"]["training"]))
         for labels, folder, m in zip(rows, folders, metrics)],
        ignore_index=True,
    )
write_frame_atomic(snakemake.output.table, table)
write_frame_atomic(snakemake.output.history, history)
print(f"{len(table)} cells, {len(history)} history rows", file=sys.stderr)
