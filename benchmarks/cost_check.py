"""The cost model against a finished workflow run: every training job's predicted wall time vs its measured one.

Reads a run's training jobs (``results/jobs/*.json``: their cells), each cell's resolved ``config.yaml`` and its
``metrics.json`` (``wall_time_s``: the training time of the job that trained it, all epochs, evaluation and
checkpoints included; ``epochs_completed``), groups the cells trained together, predicts each such job
with the rates file (surrogate_study.plan.cost: Σ cells N_train · epochs · r_arch plus the start-up, at the
job's threads) and prints one JSON line per job and a summary: measured / predicted per job and how many lie
within ±``--tolerance``. Jobs ran as the run ran them (the default run: two 1-thread jobs side by side on 2
cores, each beside a job of another architecture), so the check includes what the calibration leaves out.

    .venv/bin/python benchmarks/cost_check.py /path/to/a/clone/that/ran/make/reproduce
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from surrogate_study.plan.cost import architecture, job_seconds, read_rates  # noqa: E402


def run_jobs(run: Path) -> list[dict]:
    """The training runs of ``run``: cells trained together share their job's ``wall_time_s`` (a job whose cell list
    grew trained only its new cells and kept the others, with their own job's time), so cells are grouped by it
    across the manifests. Per group: the first manifest naming it, the cells' configs (epochs as completed) and
    the measured wall seconds."""
    groups: dict[float, dict] = {}
    for manifest in sorted((run / "results" / "jobs").glob("*cells.json")):
        for cell in json.loads(manifest.read_text())["cells"]:
            folder = run / "results" / "cells" / cell
            config = yaml.safe_load((folder / "config.yaml").read_text())
            metrics = json.loads((folder / "metrics.json").read_text())
            config["training"] = {**config["training"], "epochs": metrics["epochs_completed"]}
            group = groups.setdefault(metrics["wall_time_s"], {"job": manifest.stem, "cells": {}})
            group["cells"].setdefault(cell, config)
    return [{"job": g["job"], "configs": list(g["cells"].values()), "measured_s": wall} for wall, g in groups.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a workflow checkout with results/jobs and results/cells")
    parser.add_argument("--rates", type=Path, default=ROOT / "benchmarks" / "cost_rates.csv")
    parser.add_argument("--tolerance", type=float, default=0.3)
    args = parser.parse_args()
    if not (args.run / "results" / "jobs").is_dir():
        parser.error(f"{args.run} has no results/jobs: give a checkout in which the workflow ran")
    rates = read_rates(args.rates)
    rows = []
    for job in run_jobs(args.run):
        threads = int(job["configs"][0].get("threads") or 1)
        predicted = job_seconds(job["configs"], rates, threads)
        ratio = job["measured_s"] / predicted
        rows.append(ratio)
        print(json.dumps({"job": job["job"], "architecture": architecture(job["configs"][0]),
                          "cells": len(job["configs"]), "threads": threads,
                          "epochs": job["configs"][0]["training"]["epochs"], "measured_s": job["measured_s"],
                          "predicted_s": round(predicted, 1), "measured_over_predicted": round(ratio, 3)}))
    within = sum(abs(r - 1) <= args.tolerance for r in rows)
    print(json.dumps({"run": str(args.run), "jobs": len(rows), f"within_{args.tolerance:.0%}": within,
                      "min_ratio": round(min(rows), 3), "max_ratio": round(max(rows), 3)}))


if __name__ == "__main__":
    main()
