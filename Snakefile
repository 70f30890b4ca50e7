# Zenke & Vogels (2021) reproduction: the root Snakefile stays thin.
# Rules live in workflow/rules/*.smk, adapters in workflow/scripts/, model code in src/surrogate_study.
from snakemake.utils import min_version, validate

from surrogate_study.plan.config import (
    ConfigError,
    check_yaml_file,
    validate_workflow_config,
)
from surrogate_study.provenance.stamps import export_config_files

min_version("9.0")


# config/config.yaml is the default; a --configfile on the command line replaces it (not merged).
if not workflow.overwrite_configfiles:
    try:  # a YAML syntax error as one line with line and column (Snakemake's message has neither)
        check_yaml_file("config/config.yaml")
    except ConfigError as error:
        raise ValueError(str(error)) from None

    configfile: "config/config.yaml"


# One line naming the key (the whole schema: workflow/schemas/config.schema.yaml); Snakemake's
# validate() then only fills in the schema's defaults.
try:
    validate_workflow_config(config, "workflow/schemas/config.schema.yaml")
except ConfigError as error:
    raise ValueError(str(error)) from None
validate(config, "workflow/schemas/config.schema.yaml")

# The config file(s) of this run, named in the provenance record of every figure and table
# (exported to the rules' scripts and shell commands).
export_config_files(workflow.configfiles)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train_jobs.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/sensitivity.smk"


# Everything but training runs on the submitting machine under a cluster executor (downloads too:
# compute nodes often have no internet).
localrules:
    all,
    all_figures,
    raw_data,
    processed_data,
    fetch_raw,
    preprocess_dataset,
    cell,
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
    sensitivity,
    figS1,


rule all:
    default_target: True
    input:
        final_targets(),
        sensitivity_targets(),
