"""The project lock of workflow/scripts/run_locked.py: one run at a time, nested stages allowed."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "workflow" / "scripts" / "run_locked.py"
ENV = {k: v for k, v in os.environ.items() if k != "SURROGATE_STUDY_LOCK"}


def locked(*command, cwd):
    return subprocess.run([sys.executable, str(SCRIPT), *command], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=ENV)


def test_a_held_lock_refuses_the_run_in_one_line(tmp_path):
    marker = tmp_path / "ran"
    with open(tmp_path / ".project.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as `flock .project.lock ...` or a running make
        result = locked(sys.executable, "-c", f"open({str(marker)!r}, 'w')", cwd=tmp_path)
    assert result.returncode == 75
    assert result.stderr.startswith("error: another run of this project is in progress")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()
    result = locked(sys.executable, "-c", f"open({str(marker)!r}, 'w')", cwd=tmp_path)  # free again: it runs
    assert result.returncode == 0 and marker.exists()


def test_the_running_command_holds_the_lock_and_its_stages_run_under_it(tmp_path):
    inner = [sys.executable, str(SCRIPT), sys.executable, "-c", "print('stage ran')"]
    probe = (
        "import fcntl, subprocess, sys\n"
        "handle = open('.project.lock')\n"
        "try:\n"
        "    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    print('lock was free')\n"
        "except BlockingIOError:\n"
        "    print('lock held')\n"
        f"print(subprocess.run({inner!r}, capture_output=True, text=True).stdout.strip())\n"
    )
    result = locked(sys.executable, "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["lock held", "stage ran"]


def test_config_files_of_a_snakemake_command():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from run_locked import config_files, is_snakemake
    finally:
        sys.path.pop(0)
    assert config_files(["snakemake", "--cores", "2"]) == ["config/config.yaml"]
    assert config_files(["snakemake", "grid", "--configfile", "a.yaml", "b.yaml", "--cores", "1"]) == ["a.yaml",
                                                                                                     "b.yaml"]
    assert config_files(["snakemake", "--configfile=c.yaml"]) == ["c.yaml"]
    assert is_snakemake([".venv/bin/snakemake"]) and is_snakemake(["python", "-m", "snakemake"])
    assert not is_snakemake(["dvc", "repro"])
