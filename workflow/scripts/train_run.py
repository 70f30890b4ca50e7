"""Snakemake adapter: train one run with surrogate_study and write its declared outputs."""

import logging
import sys
from pathlib import Path

from surrogate_study.atomic import write_text_atomic
from surrogate_study.training import train

import yaml

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

config = dict(snakemake.params.run_config)
if config["threads"] is None:
    config["threads"] = snakemake.threads
out_dir = Path(snakemake.output.metrics).parent
write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))
metrics = train(config, out_dir, progress=True)
logging.info("status %s, test accuracy %s", metrics["status"], metrics["test_accuracy"])
