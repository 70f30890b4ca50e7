"""Snakemake adapter: aggregate one study's cells into tidy tables (pandas)."""

import json
import sys

import pandas as pd

from surrogate_study.aggregate import cell_row, history_frame

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)

rows = json.loads(snakemake.params.rows)
table = pd.DataFrame([
    cell_row(json.load(open(path)), labels)
    for labels, path in zip(rows, snakemake.input.metrics)
])
history = pd.concat(
    [history_frame(path, labels["cell"]) for labels, path in zip(rows, snakemake.input.history)],
    ignore_index=True,
)
table.to_csv(snakemake.output.table, index=False)
history.to_csv(snakemake.output.history, index=False)
print(f"{len(table)} cells, {len(history)} history rows", file=sys.stderr)
