"""Snakemake adapter: estimated CPU-hours of the configured grid, printed and written as TSV."""


import pandas as pd

from surrogate_study.cost import estimate, seconds_per_neuron_step

snakemake = globals()["snakemake"]
log = open(snakemake.log[0], "w", buffering=1)
benchmarks = pd.read_csv(snakemake.input[0])
table = estimate(snakemake.params.studies, snakemake.params.cells, benchmarks, snakemake.params.threads)
table.to_csv(snakemake.output[0], sep="\t", index=False)
rate = seconds_per_neuron_step(benchmarks)
text = (f"reference: {snakemake.input[0]} ({len(benchmarks)} jobs, {rate:.3g} s per neuron-step, "
        f"{snakemake.params.threads} threads per job)\n" + table.to_string(index=False, float_format="%.3g"))
print(text)
print(text, file=log)
