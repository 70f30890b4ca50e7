"""The project lock a hand-started Snakemake takes (surrogate_study.storage.project_lock) and the cell-file check
against a job's manifest (surrogate_study.storage.cell_files)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from surrogate_study.storage.cell_files import CELL_FILES, file_sizes, job_problem, stale_jobs
from surrogate_study.storage.project_lock import runs_no_job

ROOT = Path(__file__).resolve().parents[3]
RUN_LOCKED = ROOT / "workflow" / "scripts" / "run_locked.py"
HOLDER = """
import sys, time
from surrogate_study.storage.project_lock import hold_project_lock
assert hold_project_lock(what="snakemake --cores 2 (by hand)")
assert not hold_project_lock()  # the same process again (Snakemake reads the Snakefile twice): goes on
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin
"""


def test_a_lock_taken_like_a_hand_started_snakemake_refuses_locked_runs_and_dvc(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if k != "SURROGATE_STUDY_LOCK"}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=tmp_path, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        for command in (["dvc", "repro"], ["snakemake", "raw_data", "--configfile", "config/smoke.yaml"]):
            result = subprocess.run([sys.executable, str(RUN_LOCKED), *command], cwd=tmp_path, capture_output=True,
                                    text=True, timeout=60, env=env)
            assert result.returncode == 75, result.stderr
            assert result.stderr.startswith("error: another run of this project is in progress (pid "), result.stderr
            assert "snakemake --cores 2 (by hand)" in result.stderr and len(result.stderr.splitlines()) == 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    result = subprocess.run([sys.executable, str(RUN_LOCKED), sys.executable, "-c", "print('ran')"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "ran"  # released when the process ended


@pytest.mark.parametrize("argv, looks", [
    (["snakemake", "-n"], True), (["snakemake", "-np", "grid"], True), (["snakemake", "--dry-run"], True),
    (["snakemake", "--lint"], True), (["snakemake", "--cores", "2"], False), (["snakemake", "-p", "-c1"], False),
    (["snakemake", "--configfile", "config/n.yaml"], False),
    (["python", "-m", "snakemake", "--target-jobs", "train:job=a-000,cells=2", "--cores", "2"], True),
])
def test_only_commands_that_run_jobs_take_the_lock(argv, looks):
    assert runs_no_job(argv) is looks


def _finished_job(tmp_path, cells=("a", "b")):
    for cell in cells:
        folder = tmp_path / "cells" / cell
        folder.mkdir(parents=True)
        for name in CELL_FILES:
            (folder / name).write_text(f"{cell} {name}\n" * 10)
    manifest = tmp_path / "job_2cells.json"
    manifest.write_text(json.dumps({"cells": list(cells),
                                    "sizes": {c: file_sizes(tmp_path / "cells" / c) for c in cells}}))
    return manifest


def test_a_deleted_or_cut_cell_file_makes_its_job_stale(tmp_path):
    manifest = _finished_job(tmp_path)
    cells_dir = tmp_path / "cells"
    assert job_problem(manifest, ["a", "b"], cells_dir) is None
    assert job_problem(tmp_path / "not_run.json", ["a"], cells_dir) is None  # never trained: nothing to check
    model = cells_dir / "b" / "model.pt"
    model.write_bytes(model.read_bytes()[:7])
    assert job_problem(manifest, ["a", "b"], cells_dir) == (
        f"{model} has 7 bytes, its training job wrote 110 (truncated or changed)")
    (cells_dir / "a" / "metrics.json").unlink()
    assert stale_jobs({"j": (manifest, ["a", "b"])}, cells_dir) == {"j": f"{cells_dir / 'a' / 'metrics.json'} is missing"}


def test_a_manifest_without_sizes_checks_presence_only(tmp_path):
    manifest = _finished_job(tmp_path)
    manifest.write_text(json.dumps({"cells": ["a", "b"]}))
    cells_dir = tmp_path / "cells"
    (cells_dir / "a" / "history.csv").write_text("cut")
    assert job_problem(manifest, ["a", "b"], cells_dir) is None
    __import__("shutil").rmtree(cells_dir / "b")
    assert job_problem(manifest, ["a", "b"], cells_dir) == f"{cells_dir / 'b' / 'metrics.json'} is missing"
