"""Snakemake adapter: results/metrics.json, the headline numbers that `dvc metrics` shows and diffs."""

import json
import sys
from pathlib import Path

import pandas as pd

from surrogate_study.atomic import write_text_atomic
from surrogate_study.claims import check_claims, headline_metrics

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
tables = {Path(path).stem: pd.read_csv(path) for path in snakemake.input}
metrics = headline_metrics(check_claims(tables, snakemake.params.thresholds))
write_text_atomic(snakemake.output[0], json.dumps(metrics, indent=2, sort_keys=True) + "\n")
print(json.dumps(metrics, sort_keys=True), file=sys.stderr)
