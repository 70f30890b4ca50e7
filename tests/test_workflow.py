"""The Snakemake workflow: lint, config validation, the paper dry-run, a smoke run end to end."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIGURES = [f"fig{i}" for i in range(1, 7)]


def snakemake(*args, cwd=ROOT, timeout=600):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def planned_jobs(output: str) -> dict[str, int]:
    """Rule name -> job count from a dry run's 'Job stats' table."""
    stats = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+(\d+)$", stats, re.M) if m.group(1) != "total"}


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_paper_config_dry_runs_and_covers_every_figure():
    result = snakemake("-n", "--configfile", "config/paper.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = planned_jobs(result.stdout + result.stderr)
    for rule in [*FIGURES, "table1", "claims", "report", "aggregate_study", "network_traces", "randman_examples"]:
        assert jobs.get(rule, 0) >= 1, rule
    assert jobs["aggregate_study"] == 8
    train_jobs = sum(n for rule, n in jobs.items() if rule.startswith("train_"))
    assert train_jobs >= 50  # 1381 cells in jobs of 16


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda c: c["studies"]["shape"]["axes"].update({"surrogate.shape": ["superspike", "spiky"]}),
         ["studies.shape", "surrogate.shape", "'spiky'", "esser"]),
        (lambda c: c["studies"]["scale"]["axes"].update({"surrogate.beta": [10.0, 0.0]}),
         ["studies.scale", "surrogate.beta", "0.0"]),
        (lambda c: c["base"]["training"].update({"lrr": 0.1}), ["training", "'lrr' was unexpected"]),
        (lambda c: c.update({"studdies": {}}), ["'studdies' was unexpected"]),
        (lambda c: c.pop("figures"), ["'figures' is a required property"]),
        (lambda c: c["claims"].update({"uncertainty_k": 0}), ["uncertainty_k", "0 is less than or equal to the minimum of 0"]),
        (lambda c: c["studies"].pop("sparsity"), ["missing sparsity"]),
        (lambda c: c["datasets"].pop("mnist5k"), ["config error at datasets", "mnist5k", "not declared"]),
        (lambda c: c["datasets"].update({"mnist6k": {}}), ["'mnist6k' is not a registered dataset", "mnist5k"]),
    ],
)
def test_bad_config_is_rejected_naming_the_key(tmp_path, mutate, expected):
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    mutate(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake("-n", "--configfile", str(path))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for fragment in expected:
        assert fragment in output, (fragment, output[-2000:])
    assert "Job stats" not in output


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """The smoke config run end to end in a copy of the workflow."""
    work = tmp_path_factory.mktemp("smoke")
    for item in ("Snakefile", "workflow", "config", "profiles", "benchmarks"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / item)
    result = snakemake("--cores", "2", "--configfile", "config/smoke.yaml", cwd=work, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work


def test_smoke_run_renders_every_figure_table_and_report(smoke_run):
    for name in FIGURES:
        png, pdf = smoke_run / "figures" / f"{name}.png", smoke_run / "figures" / f"{name}.pdf"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, name
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000, name
    report = (smoke_run / "figures" / "report.html").read_text(errors="replace")
    assert len(report) > 10_000 and "fig3" in report and "claims.md" in report
    claims = (smoke_run / "figures" / "claims.md").read_text()
    verdicts = [line.rsplit("|", 2)[-2].strip() for line in claims.splitlines() if line.startswith("| ") and
                "---" not in line][1:]
    assert len(verdicts) == 5 and set(verdicts) <= {"pass", "fail", "inconclusive", "not-run"}
    assert "not-run" not in verdicts  # the smoke config has every study the claims read, with 3 seeds
    for study in ("shape", "scale", "sparsity"):
        table = (smoke_run / "results" / "studies" / f"{study}.csv").read_text().splitlines()
        assert len(table) > 2
    assert (smoke_run / "results" / "benchmarks.csv").exists()


def test_figure_panel_tables_carry_the_error_bars_and_the_claims_numbers(smoke_run):
    panels = smoke_run / "results" / "panels"
    for name in ("fig3b", "fig3c", "fig4", "fig5_beta", "fig5c", "fig5d", "fig5e", "fig5f", "fig6"):
        table = pd.read_csv(panels / f"{name}.csv")
        assert {"mean", "sd", "n"} <= set(table.columns) and len(table) > 0, name
    for name in ("fig3c", "fig5c", "fig5d", "fig6"):  # studies with seed: [0, 1, 2] in the smoke config
        table = pd.read_csv(panels / f"{name}.csv")
        assert (table["n"] == 3).all() and table["sd"].notna().all(), name
    metrics = json.loads((smoke_run / "results" / "metrics.json").read_text())
    bars = pd.read_csv(panels / "fig3c.csv").set_index("shape")
    for shape, row in bars.iterrows():
        assert row["mean"] == pytest.approx(metrics["best_test_accuracy"][shape]), shape
        assert row["sd"] == pytest.approx(metrics["best_test_accuracy_sd"][shape]), shape


def test_table1_holds_the_smoke_config_values(smoke_run):
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    lines = [line for line in (smoke_run / "figures" / "table1.md").read_text().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {row[0]: dict(zip(header[1:], row[1:]))
             for row in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])}
    randman, training = smoke["datasets"]["randman"], smoke["base"]["training"]
    assert header[1:] == ["mnist5k", "randman"]
    assert table["epochs"]["randman"] == str(training["epochs"])
    assert table["batch size"]["randman"] == str(training["batch_size"])
    assert table["time steps"]["randman"] == str(randman["steps"])
    assert table["readout units"]["randman"] == str(randman["classes"])
    assert table["inputs"]["randman"] == "20" and table["inputs"]["mnist5k"] == "784"
    assert table["hidden units (per layer)"]["randman"] == "16, 16x16"
    assert table["η range"]["randman"] == "0.01 … 0.05"
    assert table["β range"]["randman"] == "10 … 100"
    assert table["β grid run"]["randman"] == "10, 100" and table["η grid run"]["randman"] == "0.01, 0.05"
    assert table["seeds"]["randman"] == "3 (0, 1, 2)" and table["seeds"]["mnist5k"] == "1 (0)"
    assert table["samples per class"]["randman"] == str(randman["samples_per_class"])
    n = randman["classes"] * randman["samples_per_class"]
    assert table["samples train / valid / test"]["randman"] == f"{int(0.8 * n)} / {int(0.1 * n)} / {int(0.1 * n)}"
    assert "\\begin{tabular}" in (smoke_run / "figures" / "table1.tex").read_text()


def test_changing_a_plot_script_reruns_only_that_figure(smoke_run):
    script = smoke_run / "workflow" / "scripts" / "fig3.py"
    script.write_text(script.read_text() + "\n# a cosmetic change\n")
    result = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=smoke_run)
    assert result.returncode == 0, result.stderr
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("fig3") == 1
    assert set(jobs) <= {"fig3", "report", "all"}, jobs  # the report embeds fig3; nothing is retrained


def test_cost_estimate_prints_cpu_hours(smoke_run):
    result = snakemake("cost_estimate", "--cores", "1", "--configfile", "config/smoke.yaml", cwd=smoke_run)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    table = (smoke_run / "results" / "cost_estimate.tsv").read_text().splitlines()
    assert table[0].split("\t") == ["study", "cells", "new_cells", "neuron_steps", "cpu_hours"]
    total = table[-1].split("\t")
    assert total[0] == "total" and float(total[4]) > 0
