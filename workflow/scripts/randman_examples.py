"""Snakemake adapter: Fig. 1 tables (manifolds, rasters)."""

import sys

from surrogate_study.storage.atomic import write_frame_atomic
from surrogate_study.figures.data import manifold_table, raster_table

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
dataset = snakemake.params.dataset
write_frame_atomic(snakemake.output.manifolds,
                   manifold_table(snakemake.params.alphas, spectrum=dataset["spectrum"], max_terms=dataset["max_terms"],
                                  precision=dataset["precision"]))
write_frame_atomic(snakemake.output.rasters, raster_table(dataset))
