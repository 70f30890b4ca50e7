"""Snakemake adapter: raw files -> data/processed/<dataset>.npz (see surrogate_study.data.real_datasets)."""

import sys
from pathlib import Path

from surrogate_study.data.real_datasets import PREPARERS

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
name = snakemake.wildcards.dataset
raw_dir = Path(snakemake.input[0]).parent if snakemake.input else Path("data/raw") / name
mirror = {"remotes": snakemake.params.remotes} if snakemake.params.remotes else {}  # config raw_sources
PREPARERS[name](raw_dir, snakemake.output[0], snakemake.params.constants, **mirror)
print(f"wrote {snakemake.output[0]}", file=sys.stderr)
