rule train_run:
    """Train one network of config['runs'] (see src/surrogate_study/training.py)."""
    output:
        metrics="results/runs/{run}/metrics.json",
        history="results/runs/{run}/history.csv",
    params:
        run_config=resolved_run_config,
    log:
        "logs/train/{run}.log",
    benchmark:
        "results/benchmarks/train/{run}.tsv"
    threads: 2
    conda:
        "../envs/study.yaml"
    script:
        "../scripts/train_run.py"
