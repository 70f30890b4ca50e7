"""The cost model: per-architecture rates -> a job's wall seconds, the grid's core-hours and its wall time."""

from pathlib import Path

import pytest

from surrogate_study.plan.config import resolve_config
from surrogate_study.plan.cost import (
    RATE_COLUMNS,
    architecture,
    estimate,
    estimate_by_dataset,
    evaluated_samples,
    grid_wall_hours,
    job_seconds,
    rate_for,
    read_rates,
    train_samples,
    valid_and_test_samples,
)

ROOT = Path(__file__).resolve().parents[3]
MNIST = resolve_config({"dataset": {"name": "mnist"}, "training": {"epochs": 30, "batch_size": 128}})
SHD = resolve_config({"dataset": {"name": "shd"}, "model": {"hidden": [128], "recurrent": True},
                      "training": {"epochs": 50}})
RANDMAN = resolve_config({"training": {"epochs": 40}})
DEEP = resolve_config({"model": {"hidden": [100, 100, 100]}, "training": {"epochs": 40}})


def write_rates(path: Path, rows: list[tuple[str, int, int, float]]) -> Path:
    """A rates CSV with (architecture, cells, threads, s_per_cell_sample) rows, other columns blank."""
    lines = [",".join(RATE_COLUMNS)]
    for arch, cells, threads, rate in rows:
        values = {"architecture": arch, "cells": cells, "threads": threads, "s_per_cell_sample": rate}
        lines.append(",".join(str(values.get(c, "")) for c in RATE_COLUMNS))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sizes_and_architectures_of_the_paper_tasks():
    assert (architecture(MNIST), architecture(SHD), architecture(RANDMAN), architecture(DEEP)) == (
        "784-100-10", "700-128r-20", "20-100-10", "20-100x100x100-10")
    assert train_samples(MNIST) == 54000 and valid_and_test_samples(MNIST) == (6000, 10000)
    assert train_samples(SHD) == 8156 - 816 and valid_and_test_samples(SHD) == (816, 2264)
    assert train_samples(RANDMAN) == 8000 and sum(valid_and_test_samples(RANDMAN)) == 2000


def test_a_job_costs_samples_times_epochs_times_its_architectures_rate_per_cell(tmp_path):
    rates = read_rates(write_rates(tmp_path / "r.csv", [("20-100-10", 16, 1, 1e-4), ("784-100-10", 16, 1, 3e-4)]))
    assert job_seconds([RANDMAN] * 9, rates, threads=1) == pytest.approx(9 * 8000 * 40 * 1e-4)
    assert job_seconds([MNIST, MNIST], rates, threads=1) == pytest.approx(2 * 54000 * 30 * 3e-4)
    # measured at other threads: core seconds kept (a 2-thread job is predicted twice as fast as 1 thread)
    assert job_seconds([RANDMAN], rates, threads=2) == pytest.approx(8000 * 40 * 1e-4 / 2)
    assert rate_for(RANDMAN, rates, 2)[1] == "measured 20-100-10 at 1 threads"


def test_a_jobs_start_up_is_counted_once_per_job_of_the_measured_size(tmp_path):
    path = write_rates(tmp_path / "r.csv", [("20-100-10", 8, 1, 1e-4)])
    text = path.read_text().splitlines()
    column = RATE_COLUMNS.index("startup_s")
    row = text[1].split(",")
    row[column] = "20.0"  # the first epoch took 20 s more than the others
    path.write_text("\n".join([text[0], ",".join(row)]) + "\n")
    rates = read_rates(path)
    assert job_seconds([RANDMAN] * 8, rates, threads=1) == pytest.approx(8 * 8000 * 40 * 1e-4 + 20.0)
    assert job_seconds([RANDMAN] * 4, rates, threads=1) == pytest.approx(4 * 8000 * 40 * 1e-4 + 10.0)


def test_evaluation_is_costed_per_evaluated_sample_so_a_test_split_evaluated_once_costs_less(tmp_path):
    # a measured 16-cell job: 8000 training and 2000 evaluated samples per epoch; an epoch of 3.2 s, 0.4 s of it
    # evaluation: 2.5e-5 s per cell and training sample, 1.25e-5 per cell and evaluated sample
    lines = [",".join(RATE_COLUMNS)]
    values = {"architecture": "20-100-10", "cells": 16, "threads": 1, "train_samples": 8000, "eval_samples": 2000,
              "epoch_s": 3.2, "eval_s": 0.4, "s_per_cell_sample": 3.2 / (16 * 8000),
              "s_per_cell_eval_sample": 0.4 / (16 * 2000)}
    lines.append(",".join(str(values.get(c, "")) for c in RATE_COLUMNS))
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    rates = read_rates(tmp_path / "r.csv")
    once = resolve_config({"training": {"epochs": 40, "test_split": "best_epoch"}})
    assert evaluated_samples(RANDMAN) == 40 * 2000 and evaluated_samples(once) == 40 * 1000 + 1000
    train_s = 8000 * 40 * (3.2 - 0.4) / (16 * 8000)
    assert job_seconds([RANDMAN], rates, threads=1) == pytest.approx(train_s + 40 * 2000 * 0.4 / (16 * 2000))
    assert job_seconds([once], rates, threads=1) == pytest.approx(train_s + 41 * 1000 * 0.4 / (16 * 2000))
    # the measured job's own cells are predicted as before: its epoch, evaluation included
    assert job_seconds([RANDMAN] * 16, rates, threads=1) == pytest.approx(40 * 3.2)
    # scaled to another architecture, both parts scale
    assert job_seconds([DEEP], rates, threads=1) == pytest.approx(3 * job_seconds([RANDMAN], rates, threads=1))


def test_an_unmeasured_architecture_is_scaled_from_the_nearest_and_says_so(tmp_path):
    rates = read_rates(write_rates(tmp_path / "r.csv", [("20-100-10", 16, 1, 1e-4), ("20-100r-10", 16, 1, 5e-4),
                                                        ("784-100-10", 16, 1, 3e-4)]))
    rate, how = rate_for(DEEP, rates, 1)  # feed-forward, 20 inputs: from 20-100-10, Σ hidden 300 / 100
    assert how == "scaled from 20-100-10" and rate.s_per_cell_sample == pytest.approx(3e-4)
    rate, how = rate_for(SHD, rates, 1)  # recurrent: from 20-100r-10 (the only recurrent one), 128 / 100
    assert how == "scaled from 20-100r-10" and rate.s_per_cell_sample == pytest.approx(5e-4 * 1.28)
    with pytest.raises(ValueError, match="no measured cost rates: run benchmarks/cost_calibration.py"):
        rate_for(RANDMAN, {}, 1)


def test_the_tables_count_a_shared_cell_once_and_agree(tmp_path):
    rates = read_rates(write_rates(tmp_path / "r.csv", [("20-100-10", 16, 2, 1e-4), ("784-100-10", 16, 2, 3e-4),
                                                        ("700-128r-20", 16, 2, 2e-3)]))
    cells = {"m": MNIST, "s": SHD, "r": RANDMAN}
    by_dataset = estimate_by_dataset(cells, rates, threads=2).set_index("dataset")
    assert by_dataset.loc["mnist", "cpu_hours"] == pytest.approx(54000 * 30 * 3e-4 * 2 / 3600)
    assert by_dataset.loc["shd", "cost"] == "measured 700-128r-20"
    studies = estimate({"a": ["m", "s"], "b": ["s", "r"]}, cells, rates, threads=2).set_index("study")
    assert studies.loc["b", "new_cells"] == 1 and studies.loc["total", "cells"] == 3
    assert studies.loc["total", "cpu_hours"] == pytest.approx(by_dataset.loc["total", "cpu_hours"])


def test_grid_wall_time_packs_jobs_longest_first_into_the_free_slots(tmp_path):
    rates = read_rates(write_rates(tmp_path / "r.csv", [("20-100-10", 1, 1, 1 / (8000 * 40))]))  # 1 s per cell
    jobs = {"a": [RANDMAN] * 3, "b": [RANDMAN] * 2, "c": [RANDMAN] * 2, "d": [RANDMAN]}  # 3, 2, 2, 1 s
    assert grid_wall_hours(jobs, rates, threads=1, cores=2) * 3600 == pytest.approx(4)  # {3, 1} and {2, 2}
    assert grid_wall_hours(jobs, rates, threads=1, cores=1) * 3600 == pytest.approx(8)
    assert grid_wall_hours(jobs, rates, threads=2, cores=2) * 3600 == pytest.approx(4)  # one 2-thread job at a time


def test_a_rates_table_without_its_columns_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("architecture,cpu_s_per_sample\n20-100-10,1e-4\n")
    with pytest.raises(ValueError, match="lacks the column.*s_per_cell_sample.*cost_calibration.py"):
        read_rates(path)
    assert read_rates(tmp_path / "absent.csv") == {}


def test_the_committed_rates_cover_every_architecture_of_the_shipped_configs():
    import yaml

    from surrogate_study.plan.real_tasks import add_real_datasets
    from surrogate_study.plan.study import plan_studies

    rates = read_rates(ROOT / "benchmarks" / "cost_rates.csv")
    for name in ("paper.yaml", "config.yaml"):
        config = yaml.safe_load((ROOT / "config" / name).read_text())
        config.update(add_real_datasets(config))
        threads = config["train_threads"]
        for cell in plan_studies(config).cells.values():
            assert rate_for(cell, rates, threads)[1] == "measured " + architecture(cell), (name, architecture(cell))
