# Zenke & Vogels (2021) reproduction: the root Snakefile stays thin.
# Rules live in workflow/rules/*.smk, adapters in workflow/scripts/, model code in src/surrogate_study.
from snakemake.utils import min_version, validate

min_version("9.0")


# config/config.yaml is the default; a --configfile on the command line replaces it (not merged).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


# Everything but training runs on the submitting machine under a cluster executor.
localrules:
    all,
    all_figures,
    raw_data,
    processed_data,
    grid,
    randman_examples,
    network_traces,
    aggregate_study,
    collect_benchmarks,
    cost_estimate,
    fig1,
    fig2,
    fig3,
    fig4,
    fig5,
    fig6,
    fig3_panels,
    fig4_panels,
    fig5_panels,
    fig6_panels,
    table1,
    claims,
    report,


rule all:
    default_target: True
    input:
        final_targets(),
