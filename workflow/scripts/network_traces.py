"""Snakemake adapter: Fig. 2c table from a trained cell's model.pt."""

import sys

import torch

from surrogate_study.figure_data import network_trace_table

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
saved = torch.load(snakemake.input.model, weights_only=True)
network_trace_table(saved["config"], saved["state_dict"]).to_csv(snakemake.output[0], index=False)
