"""Snakemake adapter: Fig. 1 tables (manifolds, rasters)."""

import sys

from surrogate_study.figure_data import manifold_table, raster_table

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
dataset = snakemake.params.dataset
manifold_table(snakemake.params.alphas, spectrum=dataset["spectrum"], max_terms=dataset["max_terms"],
               precision=dataset["precision"]).to_csv(snakemake.output.manifolds, index=False)
raster_table(dataset).to_csv(snakemake.output.rasters, index=False)
