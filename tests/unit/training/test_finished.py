"""A training job keeps the cells whose folders hold their complete outputs of the same config, and training the
others alone gives the numbers they get when trained with them (cells do not depend on their job-mates)."""

import json
import shutil

import yaml

from surrogate_study.plan.config import resolve_config
from surrogate_study.training.finished import finished_metrics
from surrogate_study.training.trainer import train_cells

BASE = {"dataset": {"name": "randman", "classes": 4, "steps": 40, "samples_per_class": 25, "max_terms": 100},
        "model": {"hidden": [16], "init_gain": 10.0}, "threads": 1,
        "training": {"epochs": 2, "batch_size": 20, "eval_batch_size": 100}}


def configs():
    return [resolve_config({**BASE, "seed": seed, "surrogate": {"shape": shape}})
            for seed, shape in [(0, "superspike"), (1, "sigmoid"), (2, "esser")]]


def without_job_details(metrics):
    return {k: v for k, v in metrics.items() if k not in ("wall_time_s", "cells_trained_together")}


def test_a_finished_cell_is_recognised_and_anything_less_is_not(tmp_path):
    config = configs()[0]
    out = tmp_path / "cell"
    metrics = train_cells([config], [out], progress=False)[0]
    assert finished_metrics(config, out) is None  # no config.yaml: the workflow writes it before training
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert finished_metrics(config, out) == json.loads(json.dumps(metrics))
    assert finished_metrics({**config, "seed": 5}, out) is None  # another config
    (out / "checkpoint.pt").write_bytes(b"")  # a job stopped before all outputs were written
    assert finished_metrics(config, out) is None
    (out / "checkpoint.pt").unlink()
    history = (out / "history.csv").read_text()
    (out / "history.csv").write_text(history[:-5])  # cut mid-row
    assert finished_metrics(config, out) is None
    (out / "history.csv").write_text("".join(history.splitlines(keepends=True)[:-1]))  # an epoch short
    assert finished_metrics(config, out) is None
    (out / "history.csv").write_text(history)
    model = (out / "model.pt").read_bytes()
    (out / "model.pt").write_bytes(model[: len(model) // 2])  # cut
    assert finished_metrics(config, out) is None
    (out / "model.pt").write_bytes(model)
    assert finished_metrics(config, out) is not None
    (out / "model.pt").unlink()
    assert finished_metrics(config, out) is None
    assert finished_metrics({**config, "training": {**config["training"], "save_model": False}}, out) is None
    (out / "metrics.json").write_text('{"status": ')  # truncated
    assert finished_metrics(config, out) is None


def test_cells_trained_without_their_job_mates_get_the_same_numbers(tmp_path):
    together = train_cells(configs(), [tmp_path / f"a{k}" for k in range(3)], progress=False)
    alone = train_cells(configs()[1:2], [tmp_path / "b1"], progress=False)[0]
    pair = train_cells(configs()[::2], [tmp_path / "c0", tmp_path / "c2"], progress=False)
    assert without_job_details(together[1]) == without_job_details(alone)
    assert [without_job_details(m) for m in pair] == [without_job_details(together[0]), without_job_details(together[2])]
    assert (tmp_path / "a1" / "history.csv").read_text() == (tmp_path / "b1" / "history.csv").read_text()
    shutil.rmtree(tmp_path / "b1")
