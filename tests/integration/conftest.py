"""Integration fixtures: the smoke config's workflow run, once per session (the workflow tests read it; the DVC
lineage tests record it)."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The README's run command (what `make reproduce` runs) on the smoke config: Snakemake under the project lock.
LOCKED = [sys.executable, "workflow/scripts/run_locked.py", sys.executable, "-m", "snakemake"]
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]


def _wait_for(predicate, process, timeout=600.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, "the first run ended before it could be interrupted"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke config end to end in a copy of the workflow, run with the README's command, which is
    refused a second time while running, SIGKILLed in the middle of training, and rerun unchanged. One run for
    the session: the workflow tests read it, and the DVC lineage tests start from its outputs."""
    work = tmp_path_factory.mktemp("smoke")
    for item in ("Snakefile", "workflow", "config", "profiles", "benchmarks"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / item)
    with open(work.parent / "first_run.log", "w") as log:
        first = subprocess.Popen([*LOCKED, *SMOKE], cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        _wait_for(lambda: (work / ".snakemake" / "locks").is_dir(), first)
        # two runs at once: the README command and a DVC stage command are refused, and start nothing
        for command in ([*LOCKED, *SMOKE], [*LOCKED, "grid", "--configfile", "config/smoke.yaml"]):
            started = time.monotonic()
            second = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120)
            assert second.returncode == 75, second.stdout + second.stderr
            assert second.stderr.startswith("error: another run of this project is in progress (pid "), second.stderr
            assert len(second.stderr.strip().splitlines()) == 1 and time.monotonic() - started < 30
        checkpoints = lambda: list((work / "results" / "cells").glob("*/checkpoint.pt"))  # noqa: E731
        _wait_for(lambda: bool(checkpoints()), first)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    interrupted = sorted(p.parent.name for p in checkpoints())
    # finished = recorded as complete by Snakemake: the cells of a training job whose manifest (written after
    # every cell's files) has Snakemake's metadata, named by the output path in urlsafe base64; a training job
    # killed while writing its cells has no manifest and is rightly rerun whole
    metadata = work / ".snakemake" / "metadata"
    recorded = {"".join(p.relative_to(metadata).parts) for p in metadata.rglob("*") if p.is_file()}
    manifests = [p for p in (work / "results" / "jobs").glob("*.json")
                 if base64.urlsafe_b64encode(str(p.relative_to(work)).encode()).decode() in recorded]
    finished = {cell: (work / "results" / "cells" / cell / "metrics.json").stat().st_mtime_ns
                for p in manifests for cell in json.loads(p.read_text())["cells"]}
    assert interrupted and any((work / ".snakemake" / "locks").iterdir())  # a stale Snakemake lock is left
    rerun = subprocess.run([*LOCKED, *SMOKE], cwd=work, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "note: removing a stale Snakemake lock" in rerun.stderr
    # nothing that had finished ran twice
    assert {c: (work / "results" / "cells" / c / "metrics.json").stat().st_mtime_ns for c in finished} == finished
    (work.parent / "interrupted.json").write_text(json.dumps(interrupted))
    (work.parent / "rerun.log").write_text(rerun.stderr)
    return work
