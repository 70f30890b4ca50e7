"""Table 1 — parameters per dataset, rendered from the aggregated tables of the configuration run,
followed by the plateau epoch of every study's best configuration (surrogate_study.analysis.plateau)."""

import sys

import pandas as pd

from surrogate_study.analysis import plateau
from surrogate_study.analysis.choices import choices_line
from surrogate_study.provenance import stamps as provenance
from surrogate_study.analysis.study_tables import read_study_history, read_study_table
from surrogate_study.storage.atomic import corrupt_input_ends_job, write_text_atomic
from surrogate_study.analysis.tables import parameter_table, to_latex, to_markdown

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
planned = snakemake.params.planned
# each table checked against the plan: a truncated one is one line naming it, never a partial table
with corrupt_input_ends_job():
    frames = {study: (read_study_table(table, planned[study]), read_study_history(history, planned[study]))
              for study, table, history in zip(snakemake.params.studies, snakemake.input.tables,
                                               snakemake.input.histories)}
cells = pd.concat([table for table, _ in frames.values()], ignore_index=True).drop_duplicates("cell")
table = parameter_table(cells)
plateaus = plateau.plateau_table(frames)
record = provenance.from_snakemake(snakemake)
write_text_atomic(snakemake.output.md, "# Table 1 — parameters of the runs in this configuration\n\n"
                  + to_markdown(table) + "\n" + choices_line([cells])
                  + "\n\n## Plateau epochs per study\n\n" + plateau.to_markdown(plateaus)
                  + "\n" + provenance.comment(record))
write_text_atomic(snakemake.output.tex, to_latex(table) + provenance.comment(record, "tex"))
