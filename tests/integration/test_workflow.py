"""The Snakemake workflow: lint, config validation, the paper dry-run, a smoke run end to end."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIGURES = [f"fig{i}" for i in range(1, 7)]
# The README's run command (what `make reproduce` runs) on the smoke config: Snakemake under the project lock.
LOCKED = [sys.executable, "workflow/scripts/run_locked.py", sys.executable, "-m", "snakemake"]
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]


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
    from surrogate_study.plan.study import plan_studies

    plan = plan_studies(yaml.safe_load((ROOT / "config" / "paper.yaml").read_text()))
    # every training job is a job of the one rule `train`, and no rule has a job per cell (planning linear in jobs)
    assert jobs["train"] == len(plan.jobs) >= 50
    assert "cell" not in jobs and sum(jobs.values()) < len(plan.cells) / 5
    assert jobs["preprocess_dataset"] == 3 and jobs["fetch_raw"] == 10  # MNIST, Fashion-MNIST (4 files), SHD (2)


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
        (lambda c: c.update({"real_datasets": ["mnist6k"]}), ["real_datasets", "'mnist6k' is not one of"]),
        (lambda c: c["studies"]["scale"].update({"exclude": [{"variant": ["xDR"]}]}),
         ["studies.scale.exclude.0.variant", "label 'xDR' is not allowed", "'sCtl'"]),
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


def test_workflow_config_errors_are_one_line(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config["job_size"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    broken = tmp_path / "broken.yaml"
    broken.write_text("job_size: 8\nbase:\n  model: {hidden: [16]\n  training: {}\n")
    for args, expected in [
        (["-n", "--configfile", str(bad)], "config error at job_size: value -1 is not allowed"),
        (["-n", "--configfile", str(bad), "--lint"], "config error at job_size"),
    ]:
        result = snakemake(*args)
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert result.returncode != 0
        assert sum(line.startswith(expected) for line in lines) == 1, lines
        assert len(lines) <= 4, lines  # Snakemake's "ValueError in file" frame, the message, the location
    # a YAML syntax error: Snakemake reads --configfile before the Snakefile, so the run command checks it
    result = subprocess.run([*LOCKED, "-n", "--configfile", str(broken)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"config error: {broken} line 4, column 3: not valid YAML: while parsing a "
                                     "flow mapping expected ',' or '}', but got '<scalar>'")


def test_killed_run_ends_with_the_numbers_of_an_uninterrupted_one(smoke_run, tmp_path, monkeypatch):
    from surrogate_study.plan.study import plan_studies
    from surrogate_study.training.trainer import train_cells

    interrupted = set(json.loads((smoke_run.parent / "interrupted.json").read_text()))
    plan = plan_studies(yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text()))
    jobs = [cells for cells in plan.jobs.values() if interrupted & set(cells)]
    assert jobs
    monkeypatch.chdir(smoke_run)  # the configs name data/processed/... relative to the workflow
    for cells in jobs:
        configs = [yaml.safe_load((smoke_run / "results" / "cells" / c / "config.yaml").read_text()) for c in cells]
        uninterrupted = train_cells(configs, [tmp_path / c for c in cells], progress=False)
        for cell, reference in zip(cells, uninterrupted):
            resumed = json.loads((smoke_run / "results" / "cells" / cell / "metrics.json").read_text())
            drop = ("wall_time_s",)
            assert {k: v for k, v in resumed.items() if k not in drop} == \
                json.loads(json.dumps({k: v for k, v in reference.items() if k not in drop})), cell
            assert not (smoke_run / "results" / "cells" / cell / "checkpoint.pt").exists()



def test_the_resumed_run_prints_the_grids_progress_and_eta(smoke_run):
    """The interrupted smoke grid's rerun: one start line with the jobs left and their predicted time, then per
    finished training job its time against the prediction, the jobs done and the time left."""
    log = (smoke_run.parent / "rerun.log").read_text()
    from surrogate_study.plan.study import plan_studies

    total = len(plan_studies(yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())).jobs)
    start = re.search(r"^grid: (\d+) of (\d+) training jobs not yet done, predicted [\d.]+ core-hours, about .+ on "
                      r"2 cores \(cost model: benchmarks/cost_rates.csv\)$", log, re.M)
    assert start, log[-3000:]
    todo = int(start.group(1))
    assert int(start.group(2)) == total and 1 <= todo <= total  # jobs finished before the kill are not counted
    done = [int(m.group(1)) for m in re.finditer(
        r"^progress: \S+cells trained in .+ \(predicted .+\); (\d+) of %d training jobs done, about .+ left on 2 "
        r"cores$" % total, log, re.M)]
    assert len(done) == todo and max(done) == total, log[-3000:]

INTERMEDIATES = {  # one of each kind -> the rule that rebuilds it
    "results/studies/shape.csv": "aggregate_study",
    "results/studies/scale_history.csv": "aggregate_study",
    "results/figure_data/fig1_rasters.csv": "randman_examples",
    "results/figure_data/fig2_traces.csv": "network_traces",
    "data/processed/mnist5k.npz": "preprocess_dataset",
}


def test_deleted_intermediates_are_rebuilt(smoke_run, tmp_path):
    kept = {}
    for k, intermediate in enumerate(INTERMEDIATES):
        kept[intermediate] = tmp_path / f"{k}_{Path(intermediate).name}"
        shutil.move(smoke_run / intermediate, kept[intermediate])  # keeps the modification time
    try:
        result = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=smoke_run)
        assert result.returncode == 0, result.stderr[-2000:]
        output = result.stdout + result.stderr
        jobs = planned_jobs(output)
        assert jobs.get("aggregate_study", 0) >= 2, jobs
        for rule in ("randman_examples", "network_traces", "preprocess_dataset"):
            assert jobs.get(rule) == 1, (rule, jobs)
        for intermediate in INTERMEDIATES:
            assert intermediate in output
    finally:
        for intermediate, saved in kept.items():
            shutil.move(saved, smoke_run / intermediate)
    result = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=smoke_run)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_truncated_cell_output_is_named_by_the_job_that_reads_it(smoke_run, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(smoke_run, work, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
    cell = sorted((work / "results" / "cells").iterdir())[0]
    metrics = cell / "metrics.json"
    mtime = metrics.stat().st_mtime_ns
    text = metrics.read_text()  # cut, but padded to its size (a cut file of another size retrains its job)
    metrics.write_text(text[:200].ljust(len(text)))
    os.utime(metrics, ns=(mtime, mtime))
    study = next(name for name in ("shape", "sg_vs_true", "tasks", "scale", "scale_depth", "scale_recurrent",
                                   "sparsity", "shape_control")
                 if cell.name in (work / "results" / "studies" / f"{name}.csv").read_text())
    (work / "results" / "studies" / f"{study}.csv").unlink()
    result = snakemake(f"results/studies/{study}.csv", "--cores", "1", "--configfile", "config/smoke.yaml", cwd=work)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"error: results/cells/{cell.name}/metrics.json: truncated or invalid JSON" in output
    assert "JSONDecodeError" not in output


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
    claim_names = [line.split("|")[1].strip() for line in claims.splitlines() if line.startswith("| ") and
                   "---" not in line][1:]
    rows = dict(zip(claim_names, verdicts))
    assert list(rows) == ["1 shape robustness [randman]", "1 shape robustness [mnist5k]",
                          "2a scale sensitivity (reset, top cells)", "2a scale sensitivity (reset, β-resolved)",
                          "2b scale sensitivity (recurrence)", "3 sparse activity [randman]"]
    assert set(verdicts) <= {"pass", "fail", "inconclusive", "not-run"}
    # the smoke config has every study the claims read, with 3 seeds; its MNIST-5k cells run SuperSpike only
    assert rows.pop("1 shape robustness [mnist5k]") == "not-run"
    assert "not-run" not in rows.values()
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
    # the reconstruction choices (docs/science.md): the smoke config leaves them at their defaults
    assert table["recurrent delay d (steps) [model.recurrent_delay]"]["randman"] == "2"
    assert table["readout τ (s) [model.tau_readout]"]["randman"] == "0.02"
    assert table["Randman task seed [dataset.seed]"] == {"mnist5k": "–", "randman": "1"}
    assert "Reconstruction choices: all at their defaults" in (smoke_run / "figures" / "table1.md").read_text()


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
    threads = yaml.safe_load((smoke_run / "config" / "smoke.yaml").read_text()).get("train_threads", 2)
    assert f"{threads} threads per job" in result.stdout + result.stderr
    # a profile's (or the command line's) set-threads for `train` is what the jobs run with: the prediction uses it
    result = snakemake("cost_estimate", "--cores", "1", "--configfile", "config/smoke.yaml",
                       "--set-threads", f"train={threads + 2}", cwd=smoke_run)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{threads + 2} threads per job" in result.stdout + result.stderr


def test_slurm_profile_gives_every_training_job_its_resources_whatever_the_config(tmp_path):
    """profiles/slurm (dry run; only its conda setting dropped: no conda here): every training job is a job of
    rule `train` with the profile's GPU, CPUs, partition and a runtime and memory that grow with its cells,
    also when --config is given (it used to replace the profile's config block and drop the GPU). Which rules
    run locally is checked on a real cluster (tests/test_slurm.py)."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    profile.pop("software-deployment-method")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(profile))
    result = snakemake("-n", "--profile", str(tmp_path), "--configfile", "config/smoke.yaml", "--config", "job_size=8")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    jobs = re.findall(r"^rule train:\n(.*?)\n\n", output, re.M | re.S)
    assert len(jobs) == planned_jobs(output)["train"] >= 8  # job_size 8 took effect
    sizes = set()
    for job in jobs:
        cells = int(re.search(r"wildcards: job=\S+, cells=(\d+)", job).group(1))
        resources = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", job).group(1)))
        assert resources["gpu"] == "1" and resources["cpus_per_task"] == "4", resources
        assert int(resources["runtime"]) == 60 + 20 * cells and int(resources["mem_mb"]) == 4000 + 1000 * cells
        assert resources["slurm_partition"] == "CHANGE_ME_gpu_partition"
        sizes.add(cells)
    assert len(sizes) > 1 and max(sizes) <= 8
