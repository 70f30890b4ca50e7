rule randman_examples:
    """Fig. 1 data: random manifolds for several smoothness values and input rasters of the task."""
    output:
        manifolds="results/figure_data/fig1_manifolds.csv",
        rasters="results/figure_data/fig1_rasters.csv",
    log:
        "logs/data/randman_examples.log",
    conda:
        "../envs/study.yaml"
    params:
        alphas=config["figures"]["randman_alphas"],
        dataset=PLAN.cells[PLAN.study_cells("sg_vs_true")[0]]["dataset"],
    script:
        "../scripts/randman_examples.py"


rule network_traces:
    """Fig. 2c data: hidden spikes and readout traces of one input, before and after training."""
    input:
        cell_manifests([trace_cell()]),
    output:
        "results/figure_data/fig2_traces.csv",
    log:
        "logs/data/network_traces.log",
    conda:
        "../envs/study.yaml"
    params:
        model=f"{cell_dir(trace_cell())}/model.pt",
    script:
        "../scripts/network_traces.py"


# Data steps before any training: a dataset's training jobs (ranked by estimated work, train.smk) wait on
# them, and Snakemake's priority is not passed on to a job's inputs (the first default run started the
# MNIST-5k job last, behind its preprocessing at priority 0).
rule fetch_raw:
    """Download one raw file from its official location into data/raw/<dataset>/, MD5-verified (pooch)."""
    output:
        "data/raw/{dataset}/{file}",
    log:
        "logs/data/fetch_{dataset}_{file}.log",
    wildcard_constraints:
        dataset="mnist|fashion_mnist|shd",
    priority: 1000000
    retries: 2
    conda:
        "../envs/study.yaml"
    params:
        remote=lambda wildcards: remote_file(wildcards.dataset, wildcards.file),
    script:
        "../scripts/fetch_raw.py"


rule preprocess_dataset:
    """Latency-code (MNIST, Fashion-MNIST, MNIST 5k) or bin (SHD) a dataset into data/processed/."""
    input:
        raw_files,
    output:
        "data/processed/{dataset}.npz",
    log:
        "logs/data/preprocess_{dataset}.log",
    wildcard_constraints:
        dataset="mnist|fashion_mnist|shd|mnist5k",
    priority: 1000000
    conda:
        "../envs/study.yaml"
    params:
        constants=lambda wildcards: preprocessing_constants(wildcards.dataset),
        remotes=lambda wildcards: (
            dataset_remotes(wildcards.dataset)
            if wildcards.dataset in config.get("raw_sources", {})
            else None
        ),
    script:
        "../scripts/preprocess_dataset.py"


rule raw_data:
    """Target of the DVC stage `raw`: every raw file of the declared datasets, downloaded and MD5-verified."""
    input:
        all_raw_files(),


rule processed_data:
    """Target of the DVC stage `data`: every declared dataset preprocessed into data/processed/."""
    input:
        all_processed_files(),
