# The sensitivity study (config key `sensitivity`; config/sensitivity.yaml given after the config it is relative to):
# claims 1, 2a and 2b re-decided under each reconstruction choice's alternative (surrogate_study.analysis.sensitivity).


rule sensitivity:
    """Claims 1, 2a, 2b under every alternative: the table (Markdown) and its numbers (CSV) that figS1 draws."""
    input:
        expand("results/studies/{study}.csv", study=sensitivity_studies()),
    output:
        table=report(
            "figures/sensitivity.md",
            caption="../report/sensitivity.rst",
            category="Claims",
        ),
        numbers="results/sensitivity.csv",
    log:
        "logs/figures/sensitivity.log",
    conda:
        "../envs/study.yaml"
    params:
        studies=sensitivity_studies(),
        planned=planned_cells(sensitivity_studies()),
        spec=config.get("sensitivity", {}),
        thresholds=config["claims"],
    script:
        "../scripts/sensitivity.py"


rule figS1:
    input:
        numbers="results/sensitivity.csv",
    output:
        pdf=report(
            "figures/figS1.pdf", caption="../report/figS1.rst", category="Figures"
        ),
        png="figures/figS1.png",
    log:
        "logs/figures/figS1.log",
    conda:
        "../envs/study.yaml"
    params:
        spec=config.get("sensitivity", {}),
        uncertainty_k=config["claims"].get("uncertainty_k", 2),
    script:
        "../scripts/figS1.py"
