"""Append benchmark results to benchmarks/history.csv (what changed when; benchmarks/README.md holds the latest table).

Columns: date, commit, benchmark, network, metric, value, machine, note. A benchmark appends only when run with
``--record`` (its tests run it on tiny inputs and must not touch the history).
"""

from __future__ import annotations

import csv
import datetime
import platform
import subprocess
from pathlib import Path
from typing import Iterable

HISTORY = Path(__file__).resolve().parent / "history.csv"
COLUMNS = ("date", "commit", "benchmark", "network", "metric", "value", "machine", "note")


def machine() -> str:
    """The CPU (model name, family and model number, AVX-512 or not) and core count, from /proc/cpuinfo and os."""
    import os

    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        model += f" (family {fields['cpu family']} model {fields['model']}"
        model += ", AVX-512)" if "avx512f" in fields.get("flags", "").split() else ")"
    return f"{model}, {os.cpu_count()} cores"


def commit() -> str:
    """This checkout's short commit ('+dirty' when the tree has changes)."""
    root = HISTORY.parent.parent
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def append(benchmark: str, rows: Iterable[tuple[str, str, float]], note: str = "", path: Path = HISTORY) -> int:
    """Append (network, metric, value) rows of one run of ``benchmark``; returns how many were written."""
    today, head, where = datetime.date.today().isoformat(), commit(), machine()
    new = not path.exists()
    written = 0
    with open(path, "a", newline="") as handle:
        out = csv.writer(handle)
        if new:
            out.writerow(COLUMNS)
        for network, metric, value in rows:
            out.writerow([today, head, benchmark, network, metric, f"{value:.6g}", where, note])
            written += 1
    return written
