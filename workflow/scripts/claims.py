"""Snakemake adapter: figures/claims.md from the aggregated study tables."""

import sys
from pathlib import Path

import pandas as pd

from surrogate_study.atomic import write_text_atomic
from surrogate_study.claims import check_claims, claims_markdown

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
tables = {Path(path).stem: pd.read_csv(path) for path in snakemake.input}
results = check_claims(tables, snakemake.params.thresholds)
write_text_atomic(snakemake.output[0], claims_markdown(results))
for result in results:
    print(f"{result.claim}: {result.verdict} — {result.value}", file=sys.stderr)
