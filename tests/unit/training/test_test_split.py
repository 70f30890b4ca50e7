"""``training.test_split: best_epoch``: the test split once, with the best validation epoch's weights, gives the
metrics that ``every_epoch`` records at that epoch, bit for bit; history.csv then has empty test columns."""

import csv

import pytest
from helpers import interrupt_at, variant

from surrogate_study.analysis.aggregate import read_history
from surrogate_study.plan.config import ConfigError, resolve_config
from surrogate_study.plan.study import check_test_curves, plan_studies
from surrogate_study.storage.atomic import CorruptFileError
from surrogate_study.training.trainer import train_cells

TEST_COLUMNS = ("test_loss", "test_accuracy")


def rows(folder):
    with open(folder / "history.csv") as handle:
        return list(csv.DictReader(handle))


def without(metrics, *keys):
    return {k: v for k, v in metrics.items() if k not in ("wall_time_s", "config", *keys)}


@pytest.fixture
def cells(tiny_config):
    """Three cells that differ, trained long enough that some cell's best epoch is not its last."""
    return [variant(tiny_config, **{"training.epochs": 6}),
            variant(tiny_config, **{"training.epochs": 6, "seed": 3, "surrogate.shape": "esser",
                                    "surrogate.beta": 2.0, "training.lr": 0.005}),
            variant(tiny_config, **{"training.epochs": 6, "surrogate.scale": "asymptotic",
                                    "model.detach_reset": False, "training.lr": 0.05})]


def best_epoch_mode(configs):
    return [variant(c, **{"training.test_split": "best_epoch"}) for c in configs]


def test_best_epoch_reports_what_every_epoch_records_at_that_epoch_bit_for_bit(cells, tmp_path):
    every = train_cells(cells, [tmp_path / f"every{k}" for k in range(3)], progress=False)
    once = train_cells(best_epoch_mode(cells), [tmp_path / f"once{k}" for k in range(3)], progress=False)
    assert any(m["best_epoch"] < m["epochs_completed"] - 1 for m in every)  # best weights differ from the last
    for k in range(3):
        assert without(once[k]) == without(every[k])  # test accuracy, loss, spikes, silent fraction: identical
        assert once[k]["config"]["training"]["test_split"] == "best_epoch"
        every_rows, once_rows = rows(tmp_path / f"every{k}"), rows(tmp_path / f"once{k}")
        assert [{c: r[c] for c in r if c not in TEST_COLUMNS} for r in once_rows] == \
            [{c: r[c] for c in r if c not in TEST_COLUMNS} for r in every_rows]
        assert all(r[c] == "" for r in once_rows for c in TEST_COLUMNS)
        assert all(r[c] != "" for r in every_rows for c in TEST_COLUMNS)


def test_an_interrupted_best_epoch_run_resumes_to_the_same_result(cells, tmp_path):
    configs = best_epoch_mode(cells)
    reference = train_cells(configs, [tmp_path / f"ref{k}" for k in range(3)], progress=False)
    dirs = [tmp_path / f"cell{k}" for k in range(3)]
    with pytest.raises(KeyboardInterrupt):
        train_cells(configs, dirs, on_epoch_end=interrupt_at(2), progress=False)
    resumed = train_cells(configs, dirs, progress=False)
    assert [without(m) for m in resumed] == [without(m) for m in reference]
    assert [rows(d) for d in dirs] == [rows(tmp_path / f"ref{k}") for k in range(3)]


def test_the_history_reader_knows_which_runs_leave_the_test_columns_empty(cells, tmp_path):
    train_cells(best_epoch_mode(cells[:1]), [tmp_path / "once"], progress=False)
    history = tmp_path / "once" / "history.csv"
    frame = read_history(history, epochs=6, test_columns=False)
    assert len(frame) == 6 and frame["test_accuracy"].isna().all() and frame["valid_accuracy"].notna().all()
    with pytest.raises(CorruptFileError, match="line 2 is truncated or has empty/non-numeric values"):
        read_history(history, epochs=6)  # a run that should have them
    text = history.read_text().splitlines()
    header = text[0].split(",")
    row = text[3].split(",")
    row[header.index("test_accuracy")] = "0.5"
    history.write_text("\n".join(text[:3] + [",".join(row)] + text[4:]) + "\n")
    with pytest.raises(CorruptFileError, match="line 4 has test values, but the run evaluated the test split only"):
        read_history(history, epochs=6, test_columns=False)


def test_a_bad_test_split_is_named_with_what_is_allowed():
    with pytest.raises(ConfigError, match="training.test_split: value 'sometimes' is not allowed.*every_epoch"):
        resolve_config({"training": {"test_split": "sometimes"}})
    assert "test_split" not in resolve_config({})["training"]  # optional: absent means every_epoch


def test_the_learning_curve_study_must_evaluate_the_test_split_every_epoch():
    config = {"base": {"training": {"test_split": "best_epoch"}}, "job_size": 4,
              "studies": {"sg_vs_true": {"axes": {"seed": [0, 1]}},
                          "shape": {"axes": {"surrogate.beta": [1.0, 10.0]}}}}
    with pytest.raises(ConfigError, match="studies.sg_vs_true: training.test_split 'best_epoch' is not allowed"):
        check_test_curves(plan_studies(config))
    config["studies"]["sg_vs_true"]["fixed"] = {"training": {"test_split": "every_epoch"}}
    check_test_curves(plan_studies(config))  # the other studies may evaluate it once


def test_the_paper_grid_tests_once_per_cell_but_fig2s_study_and_the_default_run_every_epoch():
    from pathlib import Path

    import yaml

    from surrogate_study.plan.config import test_every_epoch
    from surrogate_study.plan.real_tasks import add_real_datasets

    root = Path(__file__).resolve().parents[3]
    for name, others_every_epoch in (("paper.yaml", False), ("config.yaml", True)):
        config = yaml.safe_load((root / "config" / name).read_text())
        config.update(add_real_datasets(config))
        plan = plan_studies(config)
        check_test_curves(plan)
        curves = set(plan.study_cells("sg_vs_true"))
        assert all(test_every_epoch(plan.cells[c]["training"]) for c in curves), name
        assert {test_every_epoch(cell["training"]) for cid, cell in plan.cells.items() if cid not in curves} == \
            {others_every_epoch}, name
