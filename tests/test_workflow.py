"""The Snakemake workflow: lint-clean, validated configs, the planned jobs."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def snakemake(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_default_config_plans_the_default_run():
    result = snakemake("-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    assert "train_run" in result.stdout + result.stderr


def test_bad_run_config_stops_the_workflow_naming_the_key(tmp_path):
    configfile = tmp_path / "bad.yaml"
    configfile.write_text("runs:\n  broken:\n    surrogate: {shape: superspike, beta: -1}\n")
    result = snakemake("-n", "--configfile", str(configfile))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "runs.broken" in output and "surrogate.beta" in output and "-1" in output


def test_typo_in_workflow_config_is_rejected(tmp_path):
    configfile = tmp_path / "typo.yaml"
    configfile.write_text("runz:\n  default: {}\n")
    result = snakemake("-n", "--configfile", str(configfile))
    assert result.returncode != 0
    assert "'runz' was unexpected" in result.stdout + result.stderr
