import shlex
import sys


rule all_figures:
    """Every figure and Table 1 (the target the HTML report describes)."""
    input:
        [f for name in FIGURES for f in figure_outputs(name)],
        "figures/table1.md",
        "figures/table1.tex",
        "figures/claims.md",


rule report:
    """Snakemake's HTML report of all figures with their captions (workflow/report/*.rst), with a provenance record."""
    input:
        [f for name in FIGURES for f in figure_outputs(name)],
        "figures/table1.md",
        "figures/claims.md",
    output:
        "figures/report.html",
    log:
        "logs/report.log",
    conda:
        "../envs/study.yaml"
    params:
        python=sys.executable,
        unstamped="figures/.report.unstamped.html",  # then copied with its provenance record
        # quoted: a config file name never reaches the shell as code; relative to the project where it lies
        # inside it, so that a moved or copied project folder does not rerun the report
        configfiles=(
            " ".join(
                [
                    "--configfile",
                    *map(shlex.quote, map(project_path, workflow.configfiles)),
                ]
            )
            if workflow.configfiles
            else ""
        ),
    shell:
        "{params.python:q} -m snakemake all_figures --nolock --report {params.unstamped:q} {params.configfiles} > {log:q} 2>&1"
        " && {params.python:q} workflow/scripts/stamp_provenance.py {params.unstamped:q} {output:q} {input:q} >> {log:q} 2>&1"
