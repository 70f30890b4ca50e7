# Zenke & Vogels (2021) reproduction: the root Snakefile stays thin.
# Rules live in workflow/rules/*.smk, adapters in workflow/scripts/, model code in src/surrogate_study.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"


rule all:
    default_target: True
    input:
        run_metrics(),
