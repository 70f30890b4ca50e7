"""Snakemake adapter: train the cells of one job together, write their folders, then the job's manifest."""

import json
import logging
import os
import sys
import time
from pathlib import Path

import yaml

from surrogate_study.plan.errors import allocation_message, is_allocation_failure
from surrogate_study.storage.atomic import CorruptFileError, DiskFullError, write_text_atomic
from surrogate_study.storage.cell_files import file_sizes
from surrogate_study.storage.grid_progress import PROGRESS_FILE, job_done_message
from surrogate_study.training.finished import CONFIG_NAME, finished_metrics
from surrogate_study.training.trainer import train_cells

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

configs = [dict(c, threads=c["threads"] or snakemake.threads) for c in snakemake.params.configs]
out_dirs = [Path("results/cells") / cell for cell in snakemake.params.cells]


def train_job() -> int:
    """Train the cells not yet finished together (a finished cell, e.g. one of a job whose cell list grew, is
    kept: surrogate_study.training.finished), then write the job's manifest (last)."""
    kept = {k: m for k, (config, out_dir) in enumerate(zip(configs, out_dirs))
            if (m := finished_metrics(config, out_dir)) is not None}
    todo = [k for k in range(len(configs)) if k not in kept]
    logging.info("%d cells to train, %d already finished (kept)", len(todo), len(kept))
    for k in todo:
        write_text_atomic(out_dirs[k] / CONFIG_NAME, yaml.safe_dump(configs[k], sort_keys=False))
    trained = train_cells([configs[k] for k in todo], [out_dirs[k] for k in todo], progress=True) if todo else []
    all_metrics = [kept[k] if k in kept else trained[todo.index(k)] for k in range(len(configs))]
    for metrics, out_dir in zip(all_metrics, out_dirs):
        logging.info("%s: status %s, test accuracy %s", out_dir.name, metrics["status"], metrics["test_accuracy"])
    # the manifest marks the job done (the readers of cells depend on it; planning checks the cells' files against
    # its sizes): written last
    manifest = {
        "cells": list(snakemake.params.cells),
        "status": {out_dir.name: metrics["status"] for metrics, out_dir in zip(all_metrics, out_dirs)},
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        # sizes of the files written: planning compares them, so that a deleted or cut cell file retrains this job
        "sizes": {out_dir.name: file_sizes(out_dir) for out_dir in out_dirs},
    }
    write_text_atomic(snakemake.output[0], json.dumps(manifest, indent=1) + "\n")
    return len(todo)


started = time.perf_counter()
try:
    cells_trained = train_job()
except (CorruptFileError, DiskFullError) as error:  # a truncated data/processed/*.npz, a full disk: one line
    logging.error("%s", error)
    print(f"error: {error}", file=sys.__stderr__)
    sys.exit(1)
except (MemoryError, RuntimeError) as error:
    if not is_allocation_failure(error):
        raise
    logging.exception("allocation failed")
    print(f"error: {snakemake.output[0]}: {allocation_message(configs[0])}", file=sys.__stderr__)
    sys.exit(1)
# the grid's progress and ETA on the terminal (from the run's predictions, written when it started)
progress = job_done_message(PROGRESS_FILE, snakemake.output[0], time.perf_counter() - started, cells_trained > 0)
if progress:
    logging.info("%s", progress)
    print(progress, file=sys.__stderr__)
