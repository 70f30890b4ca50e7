"""Snakemake adapter: fetch one raw dataset file (checksummed; see surrogate_study.data.fetch)."""

import sys
from pathlib import Path

from surrogate_study.data.fetch import fetch

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
path = fetch(snakemake.params.remote, Path(snakemake.output[0]).parent)
print(f"verified {path}", file=sys.stderr)
