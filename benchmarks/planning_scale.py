"""Planning time and memory of `snakemake -n` on a generated grid of N cells (and on config/paper.yaml).

Writes a workflow config with about ``--cells`` cells (config/smoke.yaml with the `shape` study's seed axis
stretched; every other study as in the smoke config), then runs ``snakemake -n --quiet`` on it in this
checkout (``--config allow_large_grid=true``: the grid is over ``max_cells``) and prints ONE JSON line per
config: cells planned, wall seconds and the peak resident memory of the Snakemake process (MB, from
``getrusage`` of the children). Goals (issue 32): config/paper.yaml ≤ 5 s, 100,000 cells ≤ 60 s and ≤ 1 GB.

    .venv/bin/python benchmarks/planning_scale.py                        # 100,000 cells and config/paper.yaml
    .venv/bin/python benchmarks/planning_scale.py --cells 10000 --no-paper
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def grid_config(cells: int) -> dict:
    """config/smoke.yaml with the `shape` study's seeds stretched so that the plan has about ``cells`` cells."""
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    shape = config["studies"]["shape"]["axes"]
    per_seed = 1
    for axis, values in shape.items():
        if axis != "seed":
            per_seed *= len(values)
    others = 85 - 6 * 3  # the smoke plan's cells outside `shape`'s own (upper bound; shared cells overlap)
    shape["seed"] = list(range(max(1, (cells - others) // per_seed)))
    return config


def planned_cells(configfile: Path) -> int:
    """Cells the workflow plans for ``configfile`` (the package's planner, as common.smk calls it)."""
    from surrogate_study.plan.real_tasks import add_real_datasets
    from surrogate_study.plan.study import plan_studies

    config = yaml.safe_load(configfile.read_text())
    config.update(add_real_datasets(config))
    return len(plan_studies(config).cells)


def measure(configfile: Path, *extra: str) -> dict:
    """Wall seconds, peak RSS (MB) and the planned job count of `snakemake -n` on ``configfile``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([*SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", str(configfile), *extra],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        sys.exit(f"error: snakemake -n failed on {configfile}:\n{done.stderr[-3000:]}")
    jobs = next((int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("train ")), 0)
    return {"config": str(configfile), "cells": planned_cells(configfile), "train_jobs": jobs,
            "wall_s": round(wall, 2),
            # ru_maxrss of children is the largest child so far: exact for the first call only
            "peak_rss_mb": round(peak / 1024, 1) if peak > before else f"<= {round(peak / 1024, 1)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=100_000, help="approximate cells of the generated grid")
    parser.add_argument("--no-paper", action="store_true", help="skip config/paper.yaml")
    args = parser.parse_args()
    if args.cells < 85:
        parser.error(f"--cells {args.cells} is too small: the generated grid has at least 85 cells")
    with tempfile.TemporaryDirectory() as tmp:
        configfile = Path(tmp) / f"grid{args.cells}.yaml"
        configfile.write_text(yaml.safe_dump(grid_config(args.cells)))
        print(json.dumps(measure(configfile, "--config", "allow_large_grid=true")), flush=True)
    if not args.no_paper:
        print(json.dumps(measure(ROOT / "config" / "paper.yaml")), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
