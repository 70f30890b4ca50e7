"""Training runs: learning, outputs, determinism, resume, divergence, CLI."""

import csv
import json

import pytest
import torch
from helpers import interrupt_at, variant

from surrogate_study import cli
from surrogate_study.plan.shapes import unregister_shape
from surrogate_study.model.surrogates import register_surrogate
from surrogate_study.training.trainer import CHECKPOINT_NAME, train


def comparable(metrics):
    """metrics.json without the one field that legitimately differs between runs."""
    return {k: v for k, v in metrics.items() if k != "wall_time_s"}


def read_history(path):
    with open(path / "history.csv") as handle:
        return list(csv.DictReader(handle))


def test_small_randman_run_learns_well_above_chance(small_config, tmp_path):
    metrics = train(small_config, tmp_path, progress=False)
    assert metrics["status"] == "ok"
    assert metrics["test_accuracy"] >= 0.6, metrics  # chance is 0.2
    history = read_history(tmp_path)
    assert len(history) == 12
    best = max(range(12), key=lambda e: (float(history[e]["valid_accuracy"]), -e))
    assert metrics["best_epoch"] == best
    assert metrics["test_accuracy"] == pytest.approx(float(history[best]["test_accuracy"]))
    assert float(history[-1]["train_accuracy"]) > float(history[0]["train_accuracy"])
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert comparable(on_disk) == comparable(json.loads(json.dumps(metrics)))
    assert on_disk["config"] == small_config and on_disk["versions"]["torch"] == torch.__version__
    assert on_disk["device"] == "cpu" and on_disk["threads"] == 2
    assert 0 < on_disk["mean_spikes_per_neuron"][0] and 0 <= on_disk["silent_fraction"][0] <= 1
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert set(saved["state_dict"]) == {"weights.0", "readout_weight"}
    assert saved["state_dict"]["weights.0"].shape == (20, 64)
    assert not (tmp_path / CHECKPOINT_NAME).exists()


def test_same_config_and_seed_give_identical_numbers(tiny_config, tmp_path):
    first = train(tiny_config, tmp_path / "a", progress=False)
    second = train(tiny_config, tmp_path / "b", progress=False)
    other_seed = train({**tiny_config, "seed": 1}, tmp_path / "c", progress=False)
    assert comparable(first) == comparable(second)
    assert read_history(tmp_path / "a") == read_history(tmp_path / "b")
    assert read_history(tmp_path / "a") != read_history(tmp_path / "c")
    assert other_seed["seed"] == 1


def test_interrupted_run_resumes_to_the_same_result(tiny_config, tmp_path):
    reference = train(tiny_config, tmp_path / "reference", progress=False)

    run = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config, run, on_epoch_end=interrupt_at(1), progress=False)
    assert (run / CHECKPOINT_NAME).exists()
    assert not (run / "metrics.json").exists() and not (run / "history.csv").exists()

    epochs_run = []
    resumed = train(tiny_config, run, on_epoch_end=lambda e, r: epochs_run.append(e), progress=False)
    assert epochs_run == [2, 3]
    assert comparable(resumed) == comparable(reference)
    assert read_history(run) == read_history(tmp_path / "reference")
    assert not (run / CHECKPOINT_NAME).exists()


def test_checkpoint_of_another_config_is_not_resumed(tiny_config, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config, tmp_path, on_epoch_end=lambda e, r: (_ for _ in ()).throw(KeyboardInterrupt()),
              progress=False)
    changed = {**tiny_config, "seed": 5}
    epochs_run = []
    train(changed, tmp_path, on_epoch_end=lambda e, r: epochs_run.append(e), progress=False)
    assert epochs_run == [0, 1, 2, 3]


@pytest.fixture
def exploding_surrogate():
    """A surrogate whose gradient overflows, as a too-steep asymptotic one can."""
    register_surrogate("test_exploding")(lambda x, beta: torch.full_like(x, float("inf")))
    yield "test_exploding"
    unregister_shape("test_exploding")


def test_nan_ends_the_run_as_diverged_with_exit_code_0(tiny_config, tmp_path, exploding_surrogate, capsys):
    config_path = tmp_path / "run.yaml"
    config_path.write_text(json.dumps({**tiny_config, "surrogate": {"shape": exploding_surrogate, "beta": 10,
                                                                     "scale": "normalized"}}))
    assert cli.main(["train", "--config", str(config_path), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "diverged"
    assert metrics["diverged_epoch"] == 0 and metrics["test_accuracy"] is None
    assert '"status": "diverged"' in capsys.readouterr().out
    # the next cell of a grid trains normally in the same process
    assert train(tiny_config, tmp_path / "next", progress=False)["status"] == "ok"


def test_cli_without_config_uses_the_default_network(tmp_path, monkeypatch):
    seen = {}

    def fake_train(config, out, progress):
        seen.update(config=config, out=out)
        return {"status": "ok", "best_epoch": 0, "valid_accuracy": 1.0, "test_accuracy": 1.0, "wall_time_s": 0}

    monkeypatch.setattr("surrogate_study.training.trainer.train", fake_train)
    assert cli.main(["train", "--out", str(tmp_path)]) == 0
    assert seen["config"]["surrogate"] == {"shape": "superspike", "beta": 10.0, "scale": "normalized",
                                         "sigmoid_peak": "one"}
    assert seen["config"]["training"]["epochs"] == 50


def test_metrics_record_the_slurm_job_that_trained_the_run(tiny_config, tmp_path, monkeypatch):
    config = variant(tiny_config, **{"training.epochs": 1})
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert train(config, tmp_path / "local", progress=False)["slurm_job_id"] is None
    monkeypatch.setenv("SLURM_JOB_ID", "4242")  # what sbatch sets in a job's environment
    train(config, tmp_path / "slurm", progress=False)
    assert json.loads((tmp_path / "slurm" / "metrics.json").read_text())["slurm_job_id"] == "4242"
