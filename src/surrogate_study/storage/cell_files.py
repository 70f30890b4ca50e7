"""Cell files against their training job's manifest: what a finished job wrote must still be there, whole.

A training job writes every cell's ``metrics.json``, ``history.csv`` and ``model.pt`` and then its manifest
``results/jobs/<job>_<n>cells.json``, which records each file's size in bytes (:func:`file_sizes`). At
planning time :func:`stale_jobs` compares the files with it (one ``stat`` per file, no reading): a deleted
cell folder or file, or one cut short (or otherwise changed in size), makes that job stale, and the workflow
retrains that job only. Stdlib only: the workflow imports it while planning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Mapping

#: The files of a cell that its training job writes and the `cell` rule declares.
CELL_FILES = ("metrics.json", "history.csv", "model.pt")


def file_sizes(cell_dir: str | Path) -> dict[str, int]:
    """Size in bytes of each of :data:`CELL_FILES` present in ``cell_dir`` (what a manifest records)."""
    sizes = {}
    for name in CELL_FILES:
        try:
            sizes[name] = os.stat(Path(cell_dir) / name).st_size
        except FileNotFoundError:
            continue
    return sizes


def job_problem(manifest: str | Path, cells: Iterable[str], cells_dir: str | Path = "results/cells") -> str | None:
    """What is wrong with the files of a finished job's cells (one phrase naming the file), or None.

    None also when the manifest does not exist (the job has not run: nothing to check) or predates the
    recorded sizes (only presence is checked then).
    """
    try:
        recorded = json.loads(Path(manifest).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return f"{manifest} is unreadable or truncated"
    sizes: Mapping[str, Mapping[str, int]] = recorded.get("sizes") or {} if isinstance(recorded, dict) else {}
    for cell in cells:
        expected = sizes.get(cell)
        for name in CELL_FILES if expected is None else expected:
            path = Path(cells_dir) / cell / name
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                return f"{path} is missing"
            if expected is not None and size != expected[name]:
                return f"{path} has {size} bytes, its training job wrote {expected[name]} (truncated or changed)"
    return None


def stale_jobs(jobs: Mapping[str, tuple[str, Iterable[str]]],
               cells_dir: str | Path = "results/cells") -> dict[str, str]:
    """job -> problem, for every job (job -> (manifest path, its cells)) whose finished cells' files are not
    what it wrote."""
    problems = {}
    for job, (manifest, cells) in jobs.items():
        problem = job_problem(manifest, cells, cells_dir)
        if problem is not None:
            problems[job] = problem
    return problems
