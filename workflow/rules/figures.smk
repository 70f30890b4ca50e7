# One rule and one script per figure; scripts read only aggregated tables (results/studies/*.csv)
# and the small tables under results/figure_data/.
ALL_DATASETS = ["randman", "mnist5k", "mnist", "fashion_mnist", "shd"]
PANEL_PARAMS = {
    "top_cells": config["figures"]["top_cells"],
    "claim_top_cells": config["claims"]["top_cells"],
}


# Panel tables: what each bar, point and error bar of Fig. 3-6 draws (mean, sd, n over seeds), from the
# study tables with the claims' own selections (surrogate_study.analysis.panels); the figure scripts only draw them.
rule fig3_panels:
    input:
        "results/studies/shape.csv",
        "results/studies/shape_control.csv",
        "results/studies/sg_vs_true.csv",
    output:
        fig3b="results/panels/fig3b.csv",
        fig3c="results/panels/fig3c.csv",
    log:
        "logs/figures/fig3_panels.log",
    conda:
        "../envs/study.yaml"
    params:
        **PANEL_PARAMS,
        planned=planned_cells(["shape", "shape_control", "sg_vs_true"]),
    script:
        "../scripts/panel_tables.py"


rule fig4_panels:
    input:
        "results/studies/tasks.csv",
    output:
        fig4="results/panels/fig4.csv",
    log:
        "logs/figures/fig4_panels.log",
    conda:
        "../envs/study.yaml"
    params:
        **PANEL_PARAMS,
        planned=planned_cells(["tasks"]),
    script:
        "../scripts/panel_tables.py"


rule fig5_panels:
    input:
        "results/studies/scale.csv",
        "results/studies/scale_depth.csv",
        "results/studies/scale_recurrent.csv",
    output:
        fig5_beta="results/panels/fig5_beta.csv",
        fig5c="results/panels/fig5c.csv",
        fig5d="results/panels/fig5d.csv",
        fig5e="results/panels/fig5e.csv",
        fig5f="results/panels/fig5f.csv",
    log:
        "logs/figures/fig5_panels.log",
    conda:
        "../envs/study.yaml"
    params:
        **PANEL_PARAMS,
        planned=planned_cells(["scale", "scale_depth", "scale_recurrent"]),
    script:
        "../scripts/panel_tables.py"


rule fig6_panels:
    input:
        "results/studies/sparsity.csv",
    output:
        fig6="results/panels/fig6.csv",
    log:
        "logs/figures/fig6_panels.log",
    conda:
        "../envs/study.yaml"
    params:
        **PANEL_PARAMS,
        planned=planned_cells(["sparsity"]),
        collapse_fraction=config["figures"].get("collapse_fraction", 0.9),
    script:
        "../scripts/panel_tables.py"


rule fig1:
    input:
        manifolds="results/figure_data/fig1_manifolds.csv",
        rasters="results/figure_data/fig1_rasters.csv",
    output:
        pdf=report("figures/fig1.pdf", caption="../report/fig1.rst", category="Figures"),
        png="figures/fig1.png",
    log:
        "logs/figures/fig1.log",
    conda:
        "../envs/study.yaml"
    script:
        "../scripts/fig1.py"


rule fig2:
    input:
        studies=study_tables("fig2"),
        table="results/studies/sg_vs_true.csv",
        history="results/studies/sg_vs_true_history.csv",
        traces="results/figure_data/fig2_traces.csv",
    output:
        pdf=report("figures/fig2.pdf", caption="../report/fig2.rst", category="Figures"),
        png="figures/fig2.png",
    log:
        "logs/figures/fig2.log",
    conda:
        "../envs/study.yaml"
    params:
        hidden_units=PLAN.cells[trace_cell()]["model"]["hidden"][0],
    script:
        "../scripts/fig2.py"


rule fig3:
    input:
        studies=study_tables("fig3"),
        heat="results/panels/fig3b.csv",
        best="results/panels/fig3c.csv",
    output:
        pdf=report("figures/fig3.pdf", caption="../report/fig3.rst", category="Figures"),
        png="figures/fig3.png",
    log:
        "logs/figures/fig3.log",
    conda:
        "../envs/study.yaml"
    params:
        betas=config["figures"]["surrogate_betas"],
    script:
        "../scripts/fig3.py"


rule fig4:
    input:
        studies=study_tables("fig4"),
        best="results/panels/fig4.csv",
    output:
        pdf=report("figures/fig4.pdf", caption="../report/fig4.rst", category="Figures"),
        png="figures/fig4.png",
    log:
        "logs/figures/fig4.log",
    conda:
        "../envs/study.yaml"
    params:
        all_datasets=ALL_DATASETS,
    script:
        "../scripts/fig4.py"


rule fig5:
    input:
        studies=study_tables("fig5"),
        scale="results/studies/scale.csv",
        scale_history="results/studies/scale_history.csv",
        depth="results/studies/scale_depth.csv",
        recurrent="results/studies/scale_recurrent.csv",
        beta="results/panels/fig5_beta.csv",
        c="results/panels/fig5c.csv",
        d="results/panels/fig5d.csv",
        e="results/panels/fig5e.csv",
        f="results/panels/fig5f.csv",
    output:
        pdf=report("figures/fig5.pdf", caption="../report/fig5.rst", category="Figures"),
        png="figures/fig5.png",
    log:
        "logs/figures/fig5.log",
    conda:
        "../envs/study.yaml"
    params:
        betas=config["figures"]["asymptotic_betas"],
        best_runs=config["figures"]["best_runs"],
        top_cells=config["figures"]["top_cells"],
        claim_top_cells=config["claims"]["top_cells"],
        large_beta=config["claims"]["large_beta"],
    script:
        "../scripts/fig5.py"


rule fig6:
    input:
        studies=study_tables("fig6"),
        points="results/panels/fig6.csv",
    output:
        pdf=report("figures/fig6.pdf", caption="../report/fig6.rst", category="Figures"),
        png="figures/fig6.png",
    log:
        "logs/figures/fig6.log",
    conda:
        "../envs/study.yaml"
    params:
        collapse_fraction=config["figures"].get("collapse_fraction", 0.9),
        all_datasets=ALL_DATASETS,
    script:
        "../scripts/fig6.py"


rule table1:
    """Table 1 from the configuration actually run, and the plateau epoch of every study's best configuration."""
    input:
        tables=all_study_tables(),
        histories=expand(
            "results/studies/{study}_history.csv", study=list(PLAN.studies)
        ),
    output:
        md=report(
            "figures/table1.md", caption="../report/table1.rst", category="Tables"
        ),
        tex="figures/table1.tex",
    log:
        "logs/figures/table1.log",
    conda:
        "../envs/study.yaml"
    params:
        studies=list(PLAN.studies),
        planned=planned_cells(PLAN.studies),
    script:
        "../scripts/table1.py"


rule claims:
    """The paper's claims checked against the aggregated results (thresholds: config `claims`), and their
    headline numbers as JSON for `dvc metrics` (best accuracy per shape, scale-sensitivity gaps, critical activity).
    """
    input:
        tables=[f"results/studies/{s}.csv" for s in CLAIM_STUDIES],
        sensitivity=sensitivity_numbers(),
    output:
        table=report(
            "figures/claims.md", caption="../report/claims.rst", category="Claims"
        ),
        metrics="results/metrics.json",
    log:
        "logs/figures/claims.log",
    conda:
        "../envs/study.yaml"
    params:
        thresholds=config["claims"],
        planned=planned_cells(CLAIM_STUDIES),
    script:
        "../scripts/claims.py"
