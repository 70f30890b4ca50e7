"""Table 1 — parameters per dataset, rendered from the aggregated tables of the configuration run."""

import sys

import pandas as pd

from surrogate_study.atomic import write_text_atomic
from surrogate_study.tables import parameter_table, to_latex, to_markdown

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
cells = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True).drop_duplicates("cell")
table = parameter_table(cells)
write_text_atomic(snakemake.output.md, "# Table 1 — parameters of the runs in this configuration\n\n"
                  + to_markdown(table))
write_text_atomic(snakemake.output.tex, to_latex(table))
