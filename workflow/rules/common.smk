# Helper functions of the workflow (no rules here): studies -> cells -> jobs, and targets.
# Planning imports only the light modules (no torch, numba, h5py, pandas or pooch; see tests/test_planning.py).
import json
import os

from surrogate_study.plan.config import ConfigError
from surrogate_study.plan.cost import neuron_steps
from surrogate_study.plan.dataset_catalog import (
    PREPROCESSING,
    REAL_DATASETS,
    configured_remotes,
    dataset_names,
)
from surrogate_study.plan.grid_limit import check_grid_size
from surrogate_study.plan.real_tasks import add_real_datasets
from surrogate_study.plan.sensitivity import check_sensitivity
from surrogate_study.plan.study import check_test_curves, plan_studies

# Studies that each figure reads (by name; a config must define them all).
FIGURE_STUDIES = {
    "fig2": ["sg_vs_true"],
    "fig3": ["shape", "shape_control"],
    "fig4": ["tasks"],
    "fig5": ["scale", "scale_depth", "scale_recurrent"],
    "fig6": ["sparsity"],
}
FIGURES = ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6"]
CLAIM_STUDIES = [
    "shape",
    "shape_control",
    "sg_vs_true",
    "scale",
    "scale_recurrent",
    "sparsity",
    "tasks",
]

_missing = sorted(
    {s for studies in FIGURE_STUDIES.values() for s in studies} - set(config["studies"])
)
if _missing:
    raise ValueError(
        f"config error at studies: missing {', '.join(_missing)} (the figures read them)"
    )
try:  # `real_datasets: [...]` adds those datasets to Fig. 4's and Fig. 6's studies (surrogate_study.plan.real_tasks)
    config.update(add_real_datasets(config))
    check_sensitivity(config)
    check_grid_size(
        config
    )  # beyond max_cells: refused before planning, unless allow_large_grid: true
    PLAN = plan_studies(config)
    check_test_curves(PLAN)  # Fig. 2b's studies evaluate the test split every epoch
except ConfigError as error:
    raise ValueError(str(error)) from None

# Every dataset a study trains on is declared under `datasets` (the DVC data stages read only that key).
_unknown = sorted(set(config["datasets"]) - set(dataset_names()))
if _unknown:
    raise ValueError(
        f"config error at datasets: {', '.join(map(repr, _unknown))} is not a registered dataset "
        f"(allowed: {', '.join(dataset_names())})"
    )
_undeclared = sorted(
    {cell["dataset"]["name"] for cell in PLAN.cells.values()} - set(config["datasets"])
)
if _undeclared:
    raise ValueError(
        f"config error at datasets: {', '.join(_undeclared)} is trained on by a study but not declared "
        f"(declared: {', '.join(config['datasets']) or 'none'}); add e.g. `{_undeclared[0]}: {{}}` under datasets"
    )


def train_job_threads():
    """Threads of a training job: a profile's or the command line's ``set-threads: train=N`` (what the jobs
    then run with), else the config's train_threads. For the cost model's predictions.
    """
    try:
        override = workflow.resource_settings.overwrite_threads.get("train")
        # parsed, it is a Resource("_cores", N)
        override = getattr(override, "value", override)
        if override is not None:
            return max(1, int(override))
    except (AttributeError, TypeError, ValueError):
        pass
    return int(config.get("train_threads", 2))


def run_cores():
    """Cores this run may use (--cores), or on a cluster (--jobs N, no --cores) N jobs of
    :func:`train_job_threads` each; 1 when neither is given (a dry run). For the predicted wall time and the
    progress line.
    """
    cores = getattr(workflow, "_cores", None)
    if cores:
        return int(cores)
    try:
        return int(workflow.nodes) * train_job_threads()
    except (KeyError, TypeError, ValueError, AttributeError):
        return 1


def project_path(path):
    """``path`` relative to the project folder when it lies inside it, else absolute (as a string)."""
    relative = os.path.relpath(os.path.abspath(path))
    return os.path.abspath(path) if relative.startswith("..") else relative


def cell_dir(cell):
    return f"results/cells/{cell}"


# A training job declares one output, its manifest results/jobs/<job>_<n>cells.json (written last, after every
# cell's folder); the rules that read cells depend on the manifests of their jobs and read the cell folders by
# name. One Snakemake job per training job, none per cell: planning stays linear in the grid (a rule per cell
# made `snakemake -n` of 100,000 cells take minutes and GBs).
JOB_OF_CELL = {cell: job for job, cells in PLAN.jobs.items() for cell in cells}


def job_manifest(job):
    """The file that marks a training job done: results/jobs/<job>_<number of cells>cells.json."""
    return f"results/jobs/{job}_{len(PLAN.jobs[job])}cells.json"


def cell_manifests(cells):
    """The manifests of the training jobs that write ``cells`` (each once, in plan order)."""
    return list(dict.fromkeys(job_manifest(JOB_OF_CELL[c]) for c in cells))


def study_manifests(wildcards):
    """The manifests of the training jobs of one study's cells."""
    return cell_manifests(PLAN.study_cells(wildcards.study))


def study_rows(wildcards):
    """The study's cells with their axis labels (JSON, so that Snakemake sees changes)."""
    return json.dumps(PLAN.studies[wildcards.study], sort_keys=True)


def planned_cells(studies):
    """Study -> its planned cells: the readers check each study table against them (one row per cell)."""
    return {study: PLAN.study_cells(study) for study in studies}


def study_tables(figure):
    """Aggregated tables a figure reads."""
    return [f"results/studies/{s}.csv" for s in FIGURE_STUDIES.get(figure, [])]


def study_histories(figure):
    return [f"results/studies/{s}_history.csv" for s in FIGURE_STUDIES.get(figure, [])]


def all_study_tables():
    return expand("results/studies/{study}.csv", study=list(PLAN.studies))


def trace_cell():
    """The Fig. 2c network: the best-seed-agnostic first surrogate-gradient cell of sg_vs_true."""
    rows = [r for r in PLAN.studies["sg_vs_true"] if r.get("surrogate.shape") != "true"]
    return rows[0]["cell"]


def figure_outputs(name):
    return [f"figures/{name}.pdf", f"figures/{name}.png"]


def final_targets():
    """Default target: the figures, tables and report, and the intermediates they are made from (study
    tables, figure data, processed datasets), so that a deleted intermediate is rebuilt.
    """
    return (
        [f for name in FIGURES for f in figure_outputs(name)]
        + [
            "figures/table1.md",
            "figures/table1.tex",
            "figures/claims.md",
            "results/benchmarks.csv",
            "results/metrics.json",
            "figures/report.html",
        ]
        + intermediate_targets()
    )


def intermediate_targets():
    """Study tables and histories, figure data and processed datasets (rebuilt when missing; a cell's deleted or
    cut files retrain its job: the check at planning in train_jobs.smk)."""
    return (
        all_study_tables()
        + expand("results/studies/{study}_history.csv", study=list(PLAN.studies))
        + figure_data_files()
        + all_processed_files()
    )


def declared_real_datasets():
    """Datasets of the config's `datasets` section that are read from files (all but Randman)."""
    return [name for name in config["datasets"] if name in REAL_DATASETS]


def all_raw_files():
    """Every raw download of the declared datasets (DVC stage `raw`)."""
    return [
        path for name in declared_real_datasets() for path in dataset_raw_files(name)
    ]


def all_processed_files():
    """Every processed file of the declared datasets (DVC stage `data`)."""
    return [f"data/processed/{name}.npz" for name in declared_real_datasets()]


def figure_data_files():
    """Small tables the figures read besides the study tables (Fig. 1 manifolds, Fig. 2c traces)."""
    return [
        "results/figure_data/fig1_manifolds.csv",
        "results/figure_data/fig1_rasters.csv",
        "results/figure_data/fig2_traces.csv",
    ]


def remote_file(dataset, name):
    """The official URL(s) and pinned MD5 of one raw file."""
    for remote in dataset_remotes(dataset):
        if remote.name == name:
            return remote
    raise ValueError(f"{dataset} has no raw file {name!r}")


def dataset_remotes(dataset):
    """The raw files of a dataset: official, or the mirror of the config's raw_sources."""
    return configured_remotes(dataset, config.get("raw_sources"))


def dataset_raw_files(dataset):
    """Raw files a dataset's preprocessing reads (none for the offline mnist5k)."""
    return [f"data/raw/{dataset}/{r.name}" for r in REAL_DATASETS[dataset].remotes]


def raw_files(wildcards):
    return dataset_raw_files(wildcards.dataset)


def preprocessing_constants(dataset):
    """Package defaults, updated by the config's preprocessing section."""
    return {
        **PREPROCESSING[dataset],
        **config.get("preprocessing", {}).get(dataset, {}),
    }


def job_data(cells):
    """Processed dataset files the cells of a job train on (Randman is generated in the job)."""
    return sorted(
        {
            PLAN.cells[c]["dataset"]["path"]
            for c in cells
            if "path" in PLAN.cells[c]["dataset"]
        }
    )


def sensitivity_studies():
    """Every study a claim of the sensitivity study is decided on."""
    claims = config.get("sensitivity", {}).get("claims", {})
    return sorted({study for studies in claims.values() for study in studies})


def sensitivity_numbers():
    """results/sensitivity.csv when the config has a sensitivity study (the claims report then names the verdicts
    that depend on a reconstruction choice), else nothing."""
    return ["results/sensitivity.csv"] if "sensitivity" in config else []


def sensitivity_targets():
    """figS1 and its table when the config has a sensitivity study, else nothing."""
    if "sensitivity" not in config:
        return []
    return figure_outputs("figS1") + [
        "figures/sensitivity.md",
        "results/sensitivity.csv",
    ]
