import os
import sys

from surrogate_study.plan.cost import DEFAULT_RATES, job_seconds, read_rates
from surrogate_study.storage.cell_files import stale_jobs
from surrogate_study.storage.grid_progress import (
    PROGRESS_FILE,
    start_message,
    write_progress_plan,
)


# Helpers of workflow/rules/train.smk (no rules here).
# Training: one rule `train` with the job as wildcard, one job per entry of PLAN.jobs (the cells of one
# architecture, trained as one batched computation), so that a cluster profile addresses every training
# job by one name (`set-resources: train: ...`). `train` declares the job's manifest
# results/jobs/<job>_<n>cells.json (written last, after every cell's folder, with the files' sizes); the
# readers of cells depend on the manifests (common.smk: cell_manifests) and a cell file deleted or cut short
# retrains its job (the check at planning below).
# Predicted wall seconds of every training job: the cost model (surrogate_study.plan.cost, rates of
# benchmarks/cost_calibration.py in the config's cost_rates); empty without a rates file. Used twice: the
# job's priority, and the grid's progress line (onstart below).
def _predicted_seconds():
    """(job -> predicted wall seconds, None), or ({}, why not) without usable rates."""
    try:
        rates = read_rates(config.get("cost_rates", DEFAULT_RATES))
        return {
            job: job_seconds([PLAN.cells[c] for c in cells], rates, _THREADS)
            for job, cells in PLAN.jobs.items()
        }, None
    except (OSError, ValueError) as error:
        return {}, str(error)


_THREADS = train_job_threads()
_PREDICTED, _NOT_PREDICTED = _predicted_seconds()
# Priority = rank of the job's predicted time (longest first), so that the longest jobs do not start last;
# without rates, its cells' neuron-steps.
_WORK = _PREDICTED or {
    job: sum(neuron_steps(PLAN.cells[c]) for c in cells)
    for job, cells in PLAN.jobs.items()
}
_PRIORITY = {
    job: rank for rank, job in enumerate(sorted(_WORK, key=lambda j: (_WORK[j], j)))
}


def train_benchmark(job):
    """The Snakemake benchmark file of a training job."""
    return f"results/benchmarks/train/{job}_{len(PLAN.jobs[job])}cells.tsv"


def train_job_cells(wildcards):
    """The cells of the job named by the wildcards (the cell count in the path must match the plan)."""
    cells = PLAN.jobs.get(wildcards.job)
    if cells is None or len(cells) != int(wildcards.cells):
        raise ValueError(
            f"no training job {wildcards.job} with {wildcards.cells} cells in this config "
            f"(jobs: {', '.join(job_manifest(j) for j in PLAN.jobs)})"
        )
    return cells


def train_conda_env():
    """The conda environment of training jobs: CUDA torch when the profile asks for GPUs
    (`set-resources: train: gpu: 1`, as profiles/slurm does), else the CPU build."""
    train = workflow.resource_settings._parsed_overwrite_resources.get("train")
    gpu = train.get("gpu").raw if train is not None else None
    if str(gpu) in ("0", "", "None"):
        return "../envs/study.yaml"
    return "../envs/study-cuda.yaml"


# A finished job whose cells' files are not what it wrote (a cell folder or file deleted, a file cut short:
# sizes recorded in its manifest, surrogate_study.storage.cell_files) is retrained by this run: its manifest
# is forced (Snakemake's --forcerun; Snakemake 9's private _prepare_dag, like train_conda_env's settings).
# Not in a clone made by `make pull` (no results/cells: the per-cell folders are not in the DVC remote).
_STALE = (
    stale_jobs({job: (job_manifest(job), cells) for job, cells in PLAN.jobs.items()})
    if os.path.isdir("results/cells")
    else {}
)
for _job, _problem in sorted(_STALE.items()):
    print(f"note: {_problem}: retraining its job {job_manifest(_job)}", file=sys.stderr)
_FORCED = {job_manifest(job) for job in _STALE}


def _prepare_dag_forcing(*args, _prepare=workflow._prepare_dag, **kwargs):
    """Snakemake's DAG preparation with the stale jobs' manifests added to --forcerun (the DAG settings are
    given to the workflow only after this file is read)."""
    workflow.dag_settings.forcerun = frozenset(workflow.dag_settings.forcerun) | _FORCED
    return _prepare(*args, **kwargs)


if _FORCED:
    workflow._prepare_dag = _prepare_dag_forcing


# Progress of a long grid: when the run starts, the jobs not yet done and their predicted time on this run's
# cores are printed and written to .snakemake/grid_progress.json; each training job then prints on the
# terminal when it ends how many jobs are done and about how long the rest will take
# (surrogate_study.storage.grid_progress).
onstart:
    _plan = write_progress_plan(
        PROGRESS_FILE,
        {job_manifest(job): seconds for job, seconds in _PREDICTED.items()},
        cores=run_cores(),
        threads=_THREADS,
        retrained=_FORCED,
    )
    if _plan["jobs"]:
        print(start_message(_plan), file=sys.stderr)
    elif _NOT_PREDICTED:
        print(
            f"note: no time prediction for this grid ({_NOT_PREDICTED})",
            file=sys.stderr,
        )
