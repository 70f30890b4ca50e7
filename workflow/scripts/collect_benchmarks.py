"""Snakemake adapter: combine the training jobs' benchmark files into results/benchmarks.csv."""

import sys
from pathlib import Path

import pandas as pd

from surrogate_study.storage.atomic import write_frame_atomic

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)

frames = []
for path in snakemake.input:
    job = Path(path).stem.rsplit("_", 1)[0]  # <job>_<n>cells.tsv
    frame = pd.read_csv(path, sep="\t")
    frame.insert(0, "job", job)
    frame.insert(1, "cells", snakemake.params.jobs[job])
    frame.insert(2, "neuron_steps", snakemake.params.work[job])
    frames.append(frame)
table = pd.concat(frames, ignore_index=True)
table["s_per_cell"] = table["s"] / table["cells"]
write_frame_atomic(snakemake.output[0], table)
print(f"{len(table)} jobs, {table['s'].sum():.0f} s of training", file=sys.stderr)
