# Zenke & Vogels (2021) reproduction: the root Snakefile stays thin.
# Rules live in workflow/rules/*.smk, adapters in workflow/scripts/, model code in src/surrogate_study.
import sys

from snakemake.utils import min_version, validate

from surrogate_study.plan.config import (
    ConfigError,
    check_workflow_config_file,
    validate_workflow_config,
)
from surrogate_study.provenance.stamps import export_config_files
from surrogate_study.storage.project_lock import (
    ProjectLocked,
    hold_project_lock,
    runs_no_job,
)

min_version("9.0")


# config/config.yaml is the default; a --configfile on the command line replaces it (not merged).
# Configs are data: a YAML error (with line and column), an empty file, a yte template or a `?`-expression is
# one line naming the file and key. Snakemake evaluates a --configfile holding `__use_yte__` before this file
# is read: run the workflow through workflow/scripts/run_locked.py (`make reproduce`, the DVC stages), which
# checks every config file first; here the default config is checked before it is loaded, and a --configfile
# after (the run is still refused).
try:
    for _path in workflow.overwrite_configfiles or ["config/config.yaml"]:
        check_workflow_config_file(_path)
except ConfigError as error:
    raise ValueError(str(error)) from None
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# The project lock (.project.lock, as workflow/scripts/run_locked.py takes it) also for a Snakemake started by
# hand: beside any other run of this project it is refused in one line (a dry run takes no lock).
if not runs_no_job(sys.argv):
    try:
        hold_project_lock()
    except ProjectLocked as error:
        raise ValueError(str(error).removeprefix("error: ")) from None


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
