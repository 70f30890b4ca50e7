"""Snakemake adapter: train the cells of one job together, write their folders, then the job's manifest."""

import json
import logging
import os
import sys
from pathlib import Path

import yaml

from surrogate_study.plan.errors import allocation_message, is_allocation_failure
from surrogate_study.storage.atomic import CorruptFileError, DiskFullError, write_text_atomic
from surrogate_study.storage.cell_files import file_sizes
from surrogate_study.training.trainer import train_cells

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

configs = [dict(c, threads=c["threads"] or snakemake.threads) for c in snakemake.params.configs]
out_dirs = [Path("results/cells") / cell for cell in snakemake.params.cells]


def train_job() -> None:
    """Write each cell's config, train the cells together, then write the job's manifest (last)."""
    for config, out_dir in zip(configs, out_dirs):
        write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    all_metrics = train_cells(configs, out_dirs, progress=True)
    for metrics, out_dir in zip(all_metrics, out_dirs):
        logging.info("%s: status %s, test accuracy %s", out_dir.name, metrics["status"], metrics["test_accuracy"])
    # the manifest marks the job done (the `cell` rule checks each cell's files against it): written last
    manifest = {
        "cells": list(snakemake.params.cells),
        "status": {out_dir.name: metrics["status"] for metrics, out_dir in zip(all_metrics, out_dirs)},
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        # sizes of the files written: planning compares them, so that a deleted or cut cell file retrains this job
        "sizes": {out_dir.name: file_sizes(out_dir) for out_dir in out_dirs},
    }
    write_text_atomic(snakemake.output[0], json.dumps(manifest, indent=1) + "\n")


try:
    train_job()
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
