"""Issue 32 on the smoke run: a study table cut mid-row fails the run in one line (never a figure or claim from
part of the cells); a deleted cell folder, a deleted metrics.json or a cut model.pt is rebuilt by the next run
of the same command, which retrains only that cell's job."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCKED = [sys.executable, "workflow/scripts/run_locked.py", sys.executable, "-m", "snakemake"]
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]
ENV = {k: v for k, v in os.environ.items() if k != "SURROGATE_STUDY_LOCK"}


def run(*command, cwd, timeout=900):
    return subprocess.run([*command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


def dry_run(cwd):
    result = run(sys.executable, "-m", "snakemake", "-n", "--configfile", "config/smoke.yaml", cwd=cwd)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return output, {}
    stats = output.split("Job stats:")[1].split("\n\n")[0]
    return output, {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+(\d+)$", stats, re.M)
                    if m.group(1) != "total"}


def copy_run(smoke_run, tmp_path):
    """The finished smoke run with its Snakemake metadata (so that only what a test breaks is out of date)."""
    work = tmp_path / "copy"
    shutil.copytree(smoke_run, work, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return work


def job_of(work, cell):
    for manifest in (work / "results" / "jobs").glob("*.json"):
        if cell in json.loads(manifest.read_text())["cells"]:
            return manifest
    raise AssertionError(cell)


def test_a_study_table_cut_mid_row_fails_the_run_in_one_line_and_the_advice_works(smoke_run, tmp_path):
    work = copy_run(smoke_run, tmp_path)
    table = work / "results" / "studies" / "shape.csv"
    rows = len(table.read_text().splitlines()) - 1
    text = table.read_text()
    table.write_text(text[: len(text) * 2 // 5])  # cut mid-row: 8 of 19 rows, as in the issue
    result = run(*LOCKED, *SMOKE, cwd=work)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    line = ("error: results/studies/shape.csv: its last line is cut short (truncated file); delete it and rerun the "
            "same command (Snakemake rebuilds it from the cells)")
    assert line in output.splitlines()
    claims = work / "figures" / "claims.md"  # Snakemake removed it before the job that failed: no partial verdict
    assert not claims.exists() or "not-run (missing: esser)" not in claims.read_text()
    table.unlink()  # what the line says to do
    result = run(*LOCKED, *SMOKE, cwd=work)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert len(table.read_text().splitlines()) - 1 == rows
    assert table.read_text() == (smoke_run / "results" / "studies" / "shape.csv").read_text()


def test_a_deleted_cell_folder_is_rebuilt_by_the_next_run_retraining_only_its_job(smoke_run, tmp_path):
    work = copy_run(smoke_run, tmp_path)
    assert dry_run(work)[1] == {}
    cell = sorted((work / "results" / "cells").iterdir())[0]
    before = json.loads((cell / "metrics.json").read_text())
    manifest = job_of(work, cell.name)
    shutil.rmtree(cell)
    output, jobs = dry_run(work)
    assert jobs.get("train") == 1, jobs
    assert (f"note: results/cells/{cell.name}/metrics.json is missing: retraining its job "
            f"results/jobs/{manifest.name}") in output
    result = run(*LOCKED, *SMOKE, cwd=work)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = json.loads((cell / "metrics.json").read_text())
    same = lambda m: {k: m[k] for k in ("status", "best_epoch", "valid_accuracy", "test_accuracy")}  # noqa: E731
    assert same(after) == same(before)
    assert dry_run(work)[1] == {}  # and then nothing is left to do


def test_a_deleted_metrics_json_or_a_cut_model_pt_retrains_its_job(smoke_run, tmp_path):
    work = copy_run(smoke_run, tmp_path)
    cells = sorted((work / "results" / "cells").iterdir())
    (cells[1] / "metrics.json").unlink()
    model = cells[-1] / "model.pt"
    model.write_bytes(model.read_bytes()[:100])
    output, jobs = dry_run(work)
    expected = {job_of(work, cells[1].name), job_of(work, cells[-1].name)}
    assert jobs.get("train") == len(expected), jobs
    assert f"note: results/cells/{cells[1].name}/metrics.json is missing: retraining its job" in output
    assert re.search(rf"note: results/cells/{cells[-1].name}/model.pt has 100 bytes, its training job wrote \d+ "
                     r"\(truncated or changed\): retraining its job", output)
