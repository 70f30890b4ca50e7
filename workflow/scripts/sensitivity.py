"""Snakemake adapter: figures/sensitivity.md and results/sensitivity.csv (surrogate_study.analysis.sensitivity)."""

import sys

import pandas as pd

from surrogate_study.analysis.sensitivity import decide, to_frame, to_markdown
from surrogate_study.provenance import stamps as provenance
from surrogate_study.storage.atomic import write_text_atomic

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
tables = {study: pd.read_csv(path) for study, path in zip(snakemake.params.studies, snakemake.input)}
spec, thresholds = snakemake.params.spec, snakemake.params.thresholds
frame = to_frame(decide(tables, spec, thresholds), thresholds)
record = provenance.from_snakemake(snakemake)
write_text_atomic(snakemake.output.numbers, frame.to_csv(index=False))
write_text_atomic(snakemake.output.table, to_markdown(frame, spec, thresholds) + "\n" + provenance.comment(record))
