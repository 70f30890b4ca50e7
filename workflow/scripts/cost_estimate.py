"""Snakemake adapter: estimated CPU-hours of the configured grid, per study and per dataset, printed and written
as TSV (Randman from the reference jobs' neuron-step rate, real datasets from their measured per-sample cost)."""

from pathlib import Path

import pandas as pd

from surrogate_study.plan.cost import estimate, estimate_by_dataset, seconds_per_neuron_step

snakemake = globals()["snakemake"]
log = open(snakemake.log[0], "w", buffering=1)
benchmarks = pd.read_csv(snakemake.input.benchmarks)
sample_costs = pd.read_csv(snakemake.input.sample_costs) if Path(snakemake.input.sample_costs).exists() else None
threads = snakemake.params.threads
table = estimate(snakemake.params.studies, snakemake.params.cells, benchmarks, threads, sample_costs)
by_dataset = estimate_by_dataset(snakemake.params.cells, benchmarks, threads, sample_costs)
table.to_csv(snakemake.output.studies, sep="\t", index=False)
by_dataset.to_csv(snakemake.output.datasets, sep="\t", index=False)
rate = seconds_per_neuron_step(benchmarks)
text = (f"reference: {snakemake.input.benchmarks} ({len(benchmarks)} jobs, {rate:.3g} s per neuron-step, "
        f"{threads} threads per job); per-sample costs: {snakemake.input.sample_costs}\n"
        + table.to_string(index=False, float_format="%.3g") + "\n\nper dataset:\n"
        + by_dataset.to_string(index=False, float_format="%.3g"))
print(text)
print(text, file=log)
