"""Snakemake adapter: figures/claims.md and results/metrics.json (their headline numbers, for `dvc metrics`)
from the aggregated study tables."""

import json
import sys

from surrogate_study.provenance import stamps as provenance
from surrogate_study.analysis.study_tables import read_study_tables
from surrogate_study.storage.atomic import CorruptFileError, write_text_atomic
from surrogate_study.analysis.claims import check_claims, claims_markdown, headline_metrics

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
try:  # each table checked against the plan: a truncated one is one line naming it, never a partial verdict
    tables = read_study_tables(list(snakemake.input), snakemake.params.planned)
except CorruptFileError as error:
    print(f"error: {error}", file=sys.stderr)
    print(f"error: {error}", file=sys.__stderr__)
    sys.exit(1)
results = check_claims(tables, snakemake.params.thresholds)
record = provenance.from_snakemake(snakemake)
write_text_atomic(snakemake.output.table, claims_markdown(results) + "\n" + provenance.comment(record))
write_text_atomic(snakemake.output.metrics,
                  json.dumps({**headline_metrics(results), "provenance": record}, indent=2, sort_keys=True) + "\n")
for result in results:
    print(f"{result.claim}: {result.verdict} — {result.value}", file=sys.stderr)
