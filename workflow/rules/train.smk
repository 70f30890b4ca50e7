# Training jobs and the cells they write (helpers and the design: workflow/rules/train_jobs.smk).


rule train:
    """Train the cells of one job together (wildcards: job id, number of cells), write their folders."""
    input:
        lambda wildcards: job_data(train_job_cells(wildcards)),
    output:
        "results/jobs/{job}_{cells}cells.json",
    log:
        "logs/train/{job}_{cells}cells.log",
    benchmark:
        "results/benchmarks/train/{job}_{cells}cells.tsv"
    wildcard_constraints:
        # a pattern, not the list of ids (an alternation of every id made planning quadratic in the
        # grid); train_job_cells checks the id against the plan
        job=r"[0-9a-f]+-\d+",
        cells=r"\d+",
    priority: lambda wildcards: _PRIORITY[wildcards.job]
    conda:
        train_conda_env()
    threads: config.get("train_threads", 2)
    # Defaults for local runs; a cluster profile replaces them (profiles/slurm: `set-resources: train:`).
    resources:
        cells=lambda wildcards: int(wildcards.cells),
        gpu=0,
        runtime=lambda wildcards: 30 + 15 * int(wildcards.cells),
        mem_mb=lambda wildcards: 2000 + 500 * int(wildcards.cells),
    params:
        cells=train_job_cells,
        configs=lambda wildcards: [PLAN.cells[c] for c in train_job_cells(wildcards)],
    script:
        "../scripts/train_cells.py"
