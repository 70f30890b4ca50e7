"""The sensitivity study through the workflow: config/sensitivity.yaml's structure on the smoke config's sizes, its
targets only (figS1 and the claim × alternative table), in a copy of the smoke run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from surrogate_study.analysis.sensitivity import read_numbers

ROOT = Path(__file__).resolve().parents[2]
KEPT = ["default", "recurrent_delay_1", "readout_tau_10ms", "sigmoid_peak_quarter_beta"]


def small_sensitivity_config() -> dict:
    """config/sensitivity.yaml with four of its alternatives and one β, as given after config/smoke.yaml."""
    config = yaml.safe_load((ROOT / "config" / "sensitivity.yaml").read_text())
    spec = config["sensitivity"]
    spec["alternatives"] = {name: spec["alternatives"][name] for name in KEPT}
    studies = {}
    for name, study in config["studies"].items():
        axes = study["axes"]
        axes["alternative"] = {k: v for k, v in axes["alternative"].items() if k in KEPT}
        if not axes["alternative"]:
            continue
        if "surrogate.beta" in axes:
            axes["surrogate.beta"] = [10.0]
        studies[name] = study
    config["studies"] = studies
    spec["claims"] = {claim: [s for s in names if s in studies] for claim, names in spec["claims"].items()}
    return config


def test_the_sensitivity_study_decides_each_claim_under_each_alternative(smoke_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(smoke_run, work, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    before = {p.parent.name: p.read_text() for p in (work / "results" / "cells").glob("*/metrics.json")}
    small = yaml.safe_dump(small_sensitivity_config(), sort_keys=False)  # in config order: the table's columns
    (work / "config" / "sensitivity_small.yaml").write_text(small)
    targets = ["figures/figS1.pdf", "figures/sensitivity.md", "figures/claims.md"]
    run = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *targets, "--configfile",
                          "config/smoke.yaml", "config/sensitivity_small.yaml"], cwd=work, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (work / "figures" / "figS1.pdf").read_bytes()[:5] == b"%PDF-"
    # the smoke run's cells packed into jobs with the new ones (whose cell lists grew) were kept, not retrained
    after = {p.parent.name: p.read_text() for p in (work / "results" / "cells").glob("*/metrics.json")}
    assert {cell: after[cell] for cell in before} == before  # their metrics (wall time included) untouched
    logs = "".join(p.read_text() for p in (work / "logs" / "train").glob("*.log"))
    assert re.search(r"\d+ cells to train, [1-9]\d* already finished \(kept\)", logs)
    numbers = read_numbers(work / "results" / "sensitivity.csv")  # "n/a" is a verdict, not a missing value
    assert sorted(set(numbers["alternative"])) == sorted(KEPT)
    assert len(numbers) == 3 * 2 * len(KEPT)  # claims 1, 2a, 2b × two parts × alternatives
    verdict = numbers.drop_duplicates(["claim", "alternative"]).set_index(["claim", "alternative"])["claim_verdict"]
    # V's timing cannot change a feed-forward network; Sigmoid′'s peak cannot change SuperSpike networks
    assert verdict[("1", "recurrent_delay_1")] == verdict[("2a", "recurrent_delay_1")] == "n/a"
    assert verdict[("2a", "sigmoid_peak_quarter_beta")] == verdict[("2b", "sigmoid_peak_quarter_beta")] == "n/a"
    assert set(verdict.drop(index=[("1", "recurrent_delay_1"), ("2a", "recurrent_delay_1"),
                                   ("2a", "sigmoid_peak_quarter_beta"), ("2b", "sigmoid_peak_quarter_beta")]))\
        <= {"pass", "fail", "inconclusive"}
    table = (work / "figures" / "sensitivity.md").read_text()
    assert "| claim | part | threshold | default | recurrent_delay_1 | readout_tau_10ms | sigmoid_peak_quarter_beta |" in table
    assert "from the default's cells: constant, esser, superspike, true" in table
    # the claims report names the verdicts that depend on a choice (or that none does)
    claims = (work / "figures" / "claims.md").read_text()
    section = claims.split("## Verdicts that depend on a reconstruction choice")[1]
    assert all(line in section for line in table.split("## Verdicts that depend on a choice")[1]
               .split("## Alternatives")[0].strip().splitlines())
    # the two timings train different recurrent networks (their own cells), the default's are shared
    rec = pd.read_csv(work / "results" / "studies" / "sens_recurrent.csv")
    delays = rec.groupby("axis:alternative")["recurrent_delay"].first()
    assert delays["default"] == 2 and delays["recurrent_delay_1"] == 1
    assert rec["cell"].nunique() == len(rec)
