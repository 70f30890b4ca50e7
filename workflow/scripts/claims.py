"""Snakemake adapter: figures/claims.md and results/metrics.json (their headline numbers, for `dvc metrics`)
from the aggregated study tables."""

import json
import sys
from pathlib import Path

import pandas as pd

from surrogate_study.provenance import stamps as provenance
from surrogate_study.storage.atomic import write_text_atomic
from surrogate_study.analysis.claims import check_claims, claims_markdown, headline_metrics

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
tables = {Path(path).stem: pd.read_csv(path) for path in snakemake.input}
results = check_claims(tables, snakemake.params.thresholds)
record = provenance.from_snakemake(snakemake)
write_text_atomic(snakemake.output.table, claims_markdown(results) + "\n" + provenance.comment(record))
write_text_atomic(snakemake.output.metrics,
                  json.dumps({**headline_metrics(results), "provenance": record}, indent=2, sort_keys=True) + "\n")
for result in results:
    print(f"{result.claim}: {result.verdict} — {result.value}", file=sys.stderr)
