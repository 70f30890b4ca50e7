"""Snakemake adapter: figures/claims.md and results/metrics.json (their headline numbers, for `dvc metrics`)
from the aggregated study tables."""

import json
import sys

from surrogate_study.provenance import stamps as provenance
from surrogate_study.analysis.study_tables import read_study_tables
from surrogate_study.storage.atomic import corrupt_input_ends_job, write_text_atomic
from surrogate_study.analysis.claims import check_claims, claims_markdown, headline_metrics
from surrogate_study.analysis.sensitivity import flips_markdown, read_numbers

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
# each table checked against the plan: a truncated one is one line naming it, never a partial verdict
with corrupt_input_ends_job():
    tables = read_study_tables(list(snakemake.input.tables), snakemake.params.planned)
results = check_claims(tables, snakemake.params.thresholds)
record = provenance.from_snakemake(snakemake)
report = claims_markdown(results)
if snakemake.input.sensitivity:  # with a sensitivity study: the verdicts that depend on a reconstruction choice
    report += "\n" + flips_markdown(read_numbers(snakemake.input.sensitivity[0]))
else:
    report += ("\nWhether a verdict depends on a reconstruction choice (initialisation gain, recurrent timing, "
               "readout τ, Sigmoid′'s peak, the Randman task instance): `make sensitivity` adds that section here "
               "(docs/science.md, \"Reconstruction choices\").\n")
write_text_atomic(snakemake.output.table, report + "\n" + provenance.comment(record))
write_text_atomic(snakemake.output.metrics,
                  json.dumps({**headline_metrics(results), "provenance": record}, indent=2, sort_keys=True) + "\n")
for result in results:
    print(f"{result.claim}: {result.verdict} — {result.value}", file=sys.stderr)
