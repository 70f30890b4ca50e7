"""The workflow follows the Snakemake catalog's formatting convention (snakefmt)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _snakefmt() -> str:
    exe = Path(sys.executable).with_name("snakefmt")
    if exe.exists():
        return str(exe)
    found = shutil.which("snakefmt")
    if found is None:
        pytest.fail("snakefmt is not installed (it is pinned in requirements.txt)")
    return found


def test_every_workflow_file_is_snakefmt_clean() -> None:
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run(
        [_snakefmt(), "--check", *map(str, files)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, (
        "snakefmt would reformat workflow files; run `.venv/bin/snakefmt Snakefile workflow/`:\n"
        + result.stdout + result.stderr
    )
