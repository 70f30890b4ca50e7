# One rule per job: the cells of one architecture, trained as one batched computation.
# Priority = rank of the job's estimated work (longest first), so that the longest jobs do not start last.
# A job whose work cannot be estimated from the config (a real dataset: its size is known only once loaded)
# counts as the longest: in the default run the MNIST-5k job, started last, set the wall time.
_WORK = {
    job: sum(
        neuron_steps(PLAN.cells[c])
        * (2.5 if PLAN.cells[c]["model"]["recurrent"] else 1.0)
        for c in cells
    )
    or float("inf")
    for job, cells in PLAN.jobs.items()
}
_PRIORITY = {
    job: rank for rank, job in enumerate(sorted(_WORK, key=lambda j: (_WORK[j], j)))
}
for _job, _cells in PLAN.jobs.items():

    rule:
        name:
            f"train_{_job.replace('-', '_')}"
        input:
            job_data(_cells),
        output:
            metrics=[f"{cell_dir(c)}/metrics.json" for c in _cells],
            history=[f"{cell_dir(c)}/history.csv" for c in _cells],
            model=[f"{cell_dir(c)}/model.pt" for c in _cells],
        log:
            f"logs/train/{_job}.log",
        benchmark:
            f"results/benchmarks/train/{_job}.tsv"
        priority: _PRIORITY[_job]
        conda:
            "../envs/study.yaml"
        threads: config.get("train_threads", 2)
        resources:
            cells=len(_cells),
            gpu=config.get("train_gpus", 0),
            runtime=config.get("train_runtime_min", 120),
            mem_mb=config.get("train_mem_mb", 8000),
        params:
            configs=[PLAN.cells[c] for c in _cells],
        script:
            "../scripts/train_cells.py"
