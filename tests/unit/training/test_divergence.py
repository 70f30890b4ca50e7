"""A cell whose loss becomes non-finite ends `diverged`; the other cells of its job are untouched."""

import json

import pytest
import torch

from surrogate_study.training import trainer as training
from surrogate_study.training.trainer import train, train_cells

from helpers import variant


def healthy(tiny_config):
    """Two healthy cells that differ (seed, learning rate)."""
    return [variant(tiny_config, **{"training.epochs": 3}),
            variant(tiny_config, **{"training.epochs": 3, "seed": 4, "training.lr": 0.01})]


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """Each healthy cell trained alone (computed once for all ways to diverge)."""
    from helpers import SMALL_TASK
    from surrogate_study.plan.config import resolve_config

    tiny = resolve_config({"model": {"hidden": [16]}, "training": {"epochs": 4, "batch_size": 50, "lr": 0.02},
                           "dataset": {**SMALL_TASK, "samples_per_class": 40}, "threads": 2})
    out = tmp_path_factory.mktemp("alone")
    return tiny, [train(c, out / f"alone{k}", progress=False) for k, c in enumerate(healthy(tiny))]


def poison_inputs(monkeypatch, cell, cells, epoch, batch_size):
    """Make the training inputs of ``cell`` NaN from the second batch of ``epoch`` on."""
    real_load = training.load_splits

    def load(dataset_config):
        splits = real_load(dataset_config)
        events_cells, calls = splits.train.events_cells, [0]
        batches_per_epoch = -(-len(splits.train) // batch_size)
        assert batches_per_epoch >= 2

        def poisoned(batches):
            x = events_cells(batches)  # train_epoch reads the inputs of all cells of a batch at once, as events
            calls[0] += 1
            assert len(batches) == cells
            if calls[0] - 1 >= epoch * batches_per_epoch + 1:
                first, last = int(x.indptr[cell * x.batch]), int(x.indptr[(cell + 1) * x.batch])
                assert last > first
                x.values[first:last] = float("nan")
            return x

        object.__setattr__(splits.train, "events_cells", poisoned)
        return splits

    monkeypatch.setattr(training, "load_splits", load)


WAYS = ["huge_regularizer", "huge_lr", "nan_input"]


@pytest.mark.parametrize("way", WAYS)
def test_one_non_finite_cell_diverges_alone(way, alone, tmp_path, monkeypatch):
    tiny, alone_metrics = alone
    first, second = healthy(tiny)
    bad = variant(tiny, **{"training.epochs": 3, "seed": 9})
    if way == "huge_regularizer":  # the lower bound's strength overflows float32: the loss is inf/NaN at once
        bad["regularization"]["lower"]["strength"] = 1.0e300
    elif way == "huge_lr":  # far past the schema's maximum: weights ~1e37 overflow the membrane potentials
        bad["training"]["lr"] = 1.0e37
    else:  # NaN inputs from the second batch of epoch 1 on
        poison_inputs(monkeypatch, cell=1, cells=3, epoch=1, batch_size=bad["training"]["batch_size"])
    dirs = [tmp_path / name for name in ("first", "bad", "second")]
    together = train_cells([first, bad, second], dirs, progress=False)

    assert together[1]["status"] == "diverged"
    expected_epoch = {"huge_regularizer": {0}, "huge_lr": {0, 1, 2}, "nan_input": {1}}[way]
    assert together[1]["diverged_epoch"] in expected_epoch
    on_disk = json.loads((dirs[1] / "metrics.json").read_text())
    assert on_disk["status"] == "diverged"
    for k, reference in ((0, alone_metrics[0]), (2, alone_metrics[1])):
        assert together[k]["status"] == "ok"
        for key in ("train_accuracy", "valid_accuracy", "test_accuracy", "test_loss", "best_epoch"):
            assert together[k][key] == pytest.approx(reference[key], rel=1e-5), (k, key)
        assert together[k]["mean_spikes_per_neuron"] == pytest.approx(reference["mean_spikes_per_neuron"], rel=1e-5)
    assert not any(d.joinpath(training.CHECKPOINT_NAME).exists() for d in dirs)


def test_finite_cells_flags_exactly_the_cells_with_a_non_finite_loss_or_readout_potential():
    """The divergence check equals isfinite(loss) & isfinite(U_out).all() per cell, including a −inf potential
    under a finite loss and huge but finite potentials (which must not count as diverged)."""
    from surrogate_study.training.trainer import finite_cells

    readout = torch.zeros(6, 3, 4, 2)
    readout[1, 2, 3, 1] = float("nan")
    readout[2, 0, 1, 0] = -float("inf")
    readout[3, 1, 0, 1] = float("inf")
    readout[4] = 3e38  # finite, near float32's maximum
    readout[4, 0, 0, 0] = -3e38
    losses = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.5, float("nan")])
    expected = torch.isfinite(losses) & torch.isfinite(readout).flatten(1).all(dim=1)
    assert finite_cells(losses, readout).tolist() == expected.tolist() == [True, False, False, False, True, False]
