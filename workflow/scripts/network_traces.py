"""Snakemake adapter: Fig. 2c table from a trained cell's model.pt."""

import sys

import torch

from surrogate_study.storage.atomic import write_frame_atomic
from surrogate_study.figures.data import network_trace_table

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
try:
    saved = torch.load(snakemake.params.model, weights_only=True)
    config, state_dict = saved["config"], saved["state_dict"]
except Exception as error:  # a truncated or foreign file: one line naming it
    message = (f"error: {snakemake.params.model}: not a readable model file ({type(error).__name__}: "
               f"{str(error).splitlines()[0] if str(error) else ''}); delete it and rerun the workflow "
               "(Snakemake then reruns the job that makes it)")
    print(message, file=sys.stderr)
    print(message, file=sys.__stderr__)
    sys.exit(1)
write_frame_atomic(snakemake.output[0], network_trace_table(config, state_dict))
