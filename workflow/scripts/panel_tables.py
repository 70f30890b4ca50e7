"""Snakemake adapter: the figure-panel tables (mean, sd, n per plotted point) of one figure from its study tables."""

import sys

from surrogate_study.storage.atomic import corrupt_input_ends_job, write_text_atomic
from surrogate_study.analysis.panels import panel_table
from surrogate_study.analysis.study_tables import read_study_tables

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
# each table checked against the plan: a truncated one is one line naming it, never a partial figure
with corrupt_input_ends_job():
    tables = read_study_tables(list(snakemake.input), snakemake.params.planned)
params = {"top_cells": snakemake.params.top_cells, "claim_top_cells": snakemake.params.claim_top_cells}
for name, path in snakemake.output.items():
    table = panel_table(name, tables, params)
    write_text_atomic(path, table.to_csv(index=False))
    print(f"{name}: {len(table)} rows", file=sys.stderr)
