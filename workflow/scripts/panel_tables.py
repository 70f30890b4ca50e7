"""Snakemake adapter: the figure-panel tables (mean, sd, n per plotted point) of one figure from its study tables."""

import sys
from pathlib import Path

import pandas as pd

from surrogate_study.storage.atomic import write_text_atomic
from surrogate_study.analysis.panels import panel_table

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
tables = {Path(path).stem: pd.read_csv(path) for path in snakemake.input}
params = {"top_cells": snakemake.params.top_cells, "claim_top_cells": snakemake.params.claim_top_cells}
for name, path in snakemake.output.items():
    table = panel_table(name, tables, params)
    write_text_atomic(path, table.to_csv(index=False))
    print(f"{name}: {len(table)} rows", file=sys.stderr)
