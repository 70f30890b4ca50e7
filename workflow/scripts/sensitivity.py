"""Snakemake adapter: figures/sensitivity.md and results/sensitivity.csv (surrogate_study.analysis.sensitivity)."""

import sys

from surrogate_study.analysis.sensitivity import decide, to_frame, to_markdown
from surrogate_study.analysis.study_tables import read_study_tables
from surrogate_study.provenance import stamps as provenance
from surrogate_study.storage.atomic import corrupt_input_ends_job, write_text_atomic

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
# each table checked against the plan: a truncated one is one line naming it, never a partial verdict
with corrupt_input_ends_job():
    tables = read_study_tables(list(snakemake.input), snakemake.params.planned)
spec, thresholds = snakemake.params.spec, snakemake.params.thresholds
frame = to_frame(decide(tables, spec, thresholds), thresholds)
record = provenance.from_snakemake(snakemake)
write_text_atomic(snakemake.output.numbers, frame.to_csv(index=False))
write_text_atomic(snakemake.output.table, to_markdown(frame, spec, thresholds) + "\n" + provenance.comment(record))
