rule randman_examples:
    """Fig. 1 data: random manifolds for several smoothness values and input rasters of the task."""
    output:
        manifolds="results/figure_data/fig1_manifolds.csv",
        rasters="results/figure_data/fig1_rasters.csv",
    params:
        alphas=config["figures"]["randman_alphas"],
        dataset=PLAN.cells[PLAN.study_cells("sg_vs_true")[0]]["dataset"],
    log:
        "logs/data/randman_examples.log",
    conda:
        "../envs/study.yaml"
    script:
        "../scripts/randman_examples.py"


rule network_traces:
    """Fig. 2c data: hidden spikes and readout traces of one input, before and after training."""
    input:
        model=f"{cell_dir(trace_cell())}/model.pt",
    output:
        "results/figure_data/fig2_traces.csv",
    log:
        "logs/data/network_traces.log",
    conda:
        "../envs/study.yaml"
    script:
        "../scripts/network_traces.py"
