rule grid:
    """Target of the DVC stage `grid`: every cell trained, every study aggregated, the figures' data tables."""
    input:
        all_study_tables(),
        "results/benchmarks.csv",
        figure_data_files(),


rule aggregate_study:
    """One tidy row per cell of a study (axis labels, key parameters, metrics) and its per-epoch history."""
    input:
        study_manifests,
    output:
        table="results/studies/{study}.csv",
        history="results/studies/{study}_history.csv",
    log:
        "logs/aggregate/{study}.log",
    conda:
        "../envs/study.yaml"
    params:
        rows=study_rows,  # each row names its cell: results/cells/<cell>/ holds metrics.json, history.csv
    script:
        "../scripts/aggregate_study.py"


rule collect_benchmarks:
    """Snakemake benchmark files of all training jobs in one table."""
    input:
        [train_benchmark(job) for job in PLAN.jobs],
    output:
        "results/benchmarks.csv",
    log:
        "logs/aggregate/benchmarks.log",
    conda:
        "../envs/study.yaml"
    params:
        jobs={job: len(cells) for job, cells in PLAN.jobs.items()},
        work={
            job: sum(neuron_steps(PLAN.cells[c]) for c in cells)
            for job, cells in PLAN.jobs.items()
        },
    script:
        "../scripts/collect_benchmarks.py"


rule cost_estimate:
    """Predicted core-hours of this config's grid, per study and per dataset, and its wall hours on the cores given
    (prints both tables): per-architecture rates measured by benchmarks/cost_calibration.py (surrogate_study.plan.cost).
    """
    input:
        rates=config.get("cost_rates", DEFAULT_RATES),
    output:
        studies="results/cost_estimate.tsv",
        datasets="results/cost_by_dataset.tsv",
    log:
        "logs/aggregate/cost_estimate.log",
    conda:
        "../envs/study.yaml"
    params:
        studies={name: PLAN.study_cells(name) for name in PLAN.studies},
        cells=PLAN.cells,
        jobs=PLAN.jobs,
        threads=train_job_threads(),
        cores=run_cores(),
    script:
        "../scripts/cost_estimate.py"
