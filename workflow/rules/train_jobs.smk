import os
import sys

from surrogate_study.storage.cell_files import stale_jobs


# Helpers of workflow/rules/train.smk (no rules here).
# Training: one rule `train` with the job as wildcard, one job per entry of PLAN.jobs (the cells of one
# architecture, trained as one batched computation), so that a cluster profile addresses every training
# job by one name (`set-resources: train: ...`). A wildcard rule cannot declare a job's variable list of
# cell files as outputs, so `train` declares the job's manifest results/jobs/<job>_<n>cells.json (written
# last, after every cell's outputs) and the local rule `cell` declares each cell's metrics.json,
# history.csv and model.pt (the files the training job wrote, checked to be there).
# Priority = rank of the job's estimated work (longest first), so that the longest jobs do not start last:
# neuron-steps of its cells times a per-cell factor measured on the core (time of a training step of
# K = 9 cells against one of SuperSpike feed-forward Randman cells, docs/performance.md): recurrent
# 1.9, a real dataset's latency-coded input 1.75 per neuron-step (MNIST-5k, 784 inputs). Sigmoid' cells
# cost as much as SuperSpike ones since its sigma' is a vectorised exp (before, 2.8 times as much).
def _cell_work(cell):
    config = PLAN.cells[cell]
    factor = 1.9 if config["model"]["recurrent"] else 1.0
    factor *= 1.75 if config["dataset"]["name"] != "randman" else 1.0
    return neuron_steps(config) * factor


_WORK = {
    job: sum(_cell_work(c) for c in cells) or float("inf")
    for job, cells in PLAN.jobs.items()
}
_PRIORITY = {
    job: rank for rank, job in enumerate(sorted(_WORK, key=lambda j: (_WORK[j], j)))
}
_JOB_OF_CELL = {cell: job for job, cells in PLAN.jobs.items() for cell in cells}


def job_manifest(job):
    """The file that marks a training job done: results/jobs/<job>_<number of cells>cells.json."""
    return f"results/jobs/{job}_{len(PLAN.jobs[job])}cells.json"


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


def cell_job_manifest(wildcards):
    """The manifest of the job that trains the cell named by the wildcards (a cell not in the plan: one line)."""
    job = _JOB_OF_CELL.get(wildcards.cell)
    if job is None:
        raise ValueError(
            f"no cell {wildcards.cell!r} in this config: results/cells/<cell>/ must name a planned cell "
            f"(`snakemake -n` lists them; {len(_JOB_OF_CELL)} cells planned)"
        )
    return job_manifest(job)


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
