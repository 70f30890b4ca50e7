"""Snakemake adapter: predicted core-hours of the configured grid, per study and per dataset, and its wall hours on
the run's cores, printed and written as TSV (surrogate_study.plan.cost, rates of benchmarks/cost_calibration.py)."""

from surrogate_study.plan.cost import estimate, estimate_by_dataset, grid_wall_hours, read_rates

snakemake = globals()["snakemake"]
log = open(snakemake.log[0], "w", buffering=1)
rates = read_rates(snakemake.input.rates)
threads, cores = int(snakemake.params.threads), max(1, int(snakemake.params.cores or 1))
cells = snakemake.params.cells
table = estimate(snakemake.params.studies, cells, rates, threads)
by_dataset = estimate_by_dataset(cells, rates, threads)
jobs = {job: [cells[c] for c in members] for job, members in snakemake.params.jobs.items()}
wall = grid_wall_hours(jobs, rates, threads, cores)
table.to_csv(snakemake.output.studies, sep="\t", index=False)
by_dataset.to_csv(snakemake.output.datasets, sep="\t", index=False)
measured = len({arch for arch, _ in rates})
text = (f"rates: {snakemake.input.rates} ({measured} measured architectures); {threads} threads per job\n"
        + table.to_string(index=False, float_format="%.3g") + "\n\nper dataset:\n"
        + by_dataset.to_string(index=False, float_format="%.3g")
        + f"\n\npredicted wall time on {cores} cores ({max(1, cores // threads)} jobs at a time): {wall:.2f} h")
print(text)
print(text, file=log)
