"""Reliability of single runs: threads held, CLI edges, config numbers, corrupt inputs named."""

import copy
import os
import stat

import numpy as np
import pytest
import torch
import yaml

from surrogate_study import cli
from surrogate_study.analysis.aggregate import read_history, read_metrics
from surrogate_study.storage.atomic import CorruptFileError
from surrogate_study.plan.config import LR_MAX, ConfigError, resolve_config, run_schema
from surrogate_study.training.trainer import train_cells



# --- threads ---------------------------------------------------------------------------------------------


def test_the_jobs_thread_count_holds_for_the_whole_run(tiny_config, tmp_path):
    """Two cells take numba's parallel path, whose OpenMP layer used to reset torch to all cores."""
    import numba

    configs = [copy.deepcopy(tiny_config) for _ in range(2)]
    for config in configs:
        config["threads"] = 1
        config["training"]["epochs"] = 2
    configs[1]["seed"] = 1
    torch.set_num_threads(2)
    seen = []
    metrics = train_cells(configs, [tmp_path / "a", tmp_path / "b"], progress=False,
                          on_epoch_end=lambda epoch, rows: seen.append((torch.get_num_threads(),
                                                                        numba.get_num_threads())))
    assert seen == [(1, 1), (1, 1)]
    assert [m["threads"] for m in metrics] == [1, 1]
    assert [m["numba_threads"] for m in metrics] == [1, 1]
    torch.set_num_threads(2)


@pytest.mark.parametrize("hidden, recurrent", [([16, 16], False), ([16], True)])
def test_a_jobs_numbers_do_not_depend_on_its_thread_count(tiny_config, tmp_path, hidden, recurrent):
    """1 or 2 threads per job train the same numbers bit for bit (per-chunk sums, docs/design.md), so the grid may
    run two 1-thread jobs side by side (config/paper.yaml: `train_threads: 1`) without changing a result."""
    runs = {}
    for threads in (1, 2):
        configs = [copy.deepcopy(tiny_config) for _ in range(3)]
        for seed, config in enumerate(configs):
            config.update(threads=threads, seed=seed)
            config["model"].update(hidden=hidden, recurrent=recurrent)
            config["training"].update(epochs=2, batch_size=40)
        folders = [tmp_path / f"t{threads}" / str(seed) for seed in range(3)]
        metrics = train_cells(configs, folders, progress=False)
        runs[threads] = ([{k: v for k, v in m.items() if k not in ("wall_time_s", "threads", "numba_threads",
                                                                    "config")} for m in metrics],
                         [(folder / "history.csv").read_text() for folder in folders])
    torch.set_num_threads(2)
    assert runs[1] == runs[2]


# --- config numbers and files ----------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), 1e39, LR_MAX * 2, 0.0])
def test_learning_rate_must_be_finite_and_at_most_the_documented_maximum(lr):
    with pytest.raises(ConfigError, match=r"^config error at training\.lr: value") as error:
        resolve_config({"training": {"lr": lr}})
    assert "\n" not in str(error.value)


def test_schema_documents_the_learning_rate_maximum():
    assert run_schema()["properties"]["training"]["properties"]["lr"]["maximum"] == LR_MAX
    assert resolve_config({"training": {"lr": LR_MAX}})["training"]["lr"] == LR_MAX


@pytest.mark.parametrize("key, value", [("model.tau_mem", float("inf")), ("surrogate.beta", float("nan")),
                                        ("regularization.lower.strength", 1e300)])
def test_non_finite_or_float32_overflowing_numbers_are_rejected(key, value):
    nested: dict = {}
    target = nested
    parts = key.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    with pytest.raises(ConfigError, match=rf"^config error at {key}: value .* must be finite"):
        resolve_config(nested)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run_cli(capsys):
    """``python -m surrogate_study ARGS`` in this process (the CLI's exit code, stdout, stderr)."""

    def run(*args, cwd=None):
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_cli_config_problems_are_one_line_before_any_work(tmp_path, run_cli):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("training:\n  lr: 0.01\n  epochs: [1, 2\nseed: 3\n")
    nan = tmp_path / "nan.yaml"
    nan.write_text("training: {lr: .nan}\n")
    cases = [
        (empty, ["empty.yaml is empty", "leave out --config"]),
        (tmp_path, ["is a directory"]),
        (broken, ["broken.yaml line 4, column 5", "not valid YAML"]),
        (nan, ["training.lr", "nan", "finite"]),
        (tmp_path / "missing.yaml", ["missing.yaml does not exist"]),
    ]
    for config, fragments in cases:
        out = tmp_path / "runs" / "one"
        result = run_cli("train", "--config", config, "--out", out, "--no-progress", cwd=tmp_path)
        assert_one_line_error(result, *fragments)
        assert not (tmp_path / "runs").exists()


def test_cli_out_problems_are_one_line_and_leave_nothing_behind(tmp_path, run_cli):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for out in (a_file, a_file / "run", a_file / "deeper" / "run"):
        result = run_cli("train", "--out", out, "--no-progress", cwd=tmp_path)
        assert_one_line_error(result, f"--out {out}", "is a file")
    assert a_file.read_text() == "x"

    missing_data = tmp_path / "mnist.yaml"
    missing_data.write_text(yaml.safe_dump({"dataset": {"name": "mnist5k", "path": str(tmp_path / "nope.npz")}}))
    result = run_cli("train", "--config", missing_data, "--out", tmp_path / "new" / "run", cwd=tmp_path)
    assert_one_line_error(result, "dataset.path", "nope.npz does not exist", "prepare mnist5k")
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_unwritable_out_is_one_line_before_training(tmp_path, run_cli):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = run_cli("train", "--out", locked / "run", cwd=tmp_path)
        assert_one_line_error(result, "not writable")
    finally:
        locked.chmod(stat.S_IRWXU)


def test_unwritable_out_is_refused_without_creating_anything(tmp_path, monkeypatch):
    """As root every folder is writable; a failing probe write stands in for a read-only folder."""
    real_mkstemp = cli.tempfile.mkstemp

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)
    with pytest.raises(ConfigError, match="not writable"):
        cli.prepare_out(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()
    monkeypatch.setattr(cli.tempfile, "mkstemp", real_mkstemp)
    assert cli.prepare_out(tmp_path / "a" / "b") == [tmp_path / "a", tmp_path / "a" / "b"]


# --- corrupt artifacts -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from helpers import SMALL_TASK

    config = resolve_config({"model": {"hidden": [8]}, "training": {"epochs": 2, "batch_size": 50},
                             "dataset": {**SMALL_TASK, "samples_per_class": 20}, "threads": 1})
    out = tmp_path_factory.mktemp("run")
    train_cells([config], [out], progress=False)
    return out


def test_finished_outputs_pass_the_checks(finished_run):
    metrics = read_metrics(finished_run / "metrics.json")
    assert len(read_history(finished_run / "history.csv", metrics["epochs_completed"])) == 2


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_metrics_json_is_named(finished_run, tmp_path, cut):
    text = (finished_run / "metrics.json").read_text()
    bad = tmp_path / "metrics.json"
    bad.write_text(text[: int(len(text) * cut)])
    with pytest.raises(CorruptFileError, match=r"metrics\.json: truncated or invalid JSON") as error:
        read_metrics(bad)
    assert str(bad) in str(error.value) and "\n" not in str(error.value)


def test_cli_show_names_a_truncated_metrics_json(finished_run, tmp_path, run_cli):
    bad = tmp_path / "metrics.json"
    bad.write_text((finished_run / "metrics.json").read_text()[:100])
    result = run_cli("show", bad, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: {bad}: truncated or invalid JSON" in result.stderr


@pytest.mark.parametrize("damage", ["cut_mid_row", "drop_last_row", "empty", "text_in_number"])
def test_damaged_history_csv_is_named(finished_run, tmp_path, damage):
    text = (finished_run / "history.csv").read_text()
    lines = text.splitlines(keepends=True)
    bad_text = {
        "cut_mid_row": text[: len(text) - len(lines[-1]) // 2],
        "drop_last_row": "".join(lines[:-1]),
        "empty": "",
        "text_in_number": lines[0] + lines[1] + lines[2].replace(",", ",x", 1),
    }[damage]
    bad = tmp_path / "history.csv"
    bad.write_text(bad_text)
    with pytest.raises(CorruptFileError) as error:
        read_history(bad, epochs=2)
    assert str(error.value).startswith(f"{bad}: ") and "\n" not in str(error.value)


def test_corrupt_processed_dataset_is_named(tmp_path):
    from surrogate_study.data.real_datasets import load_processed

    path = tmp_path / "mnist5k.npz"
    buffer = tmp_path / "whole.npz"
    np.savez_compressed(buffer, steps=np.array(10), n_units=np.array(784), n_classes=np.array(10))
    path.write_bytes(buffer.read_bytes()[:40])
    config = {"name": "mnist5k", "path": str(path), "valid_fraction": 0.1, "split_seed": 0, "check_sizes": True}
    with pytest.raises(CorruptFileError, match=r"mnist5k\.npz: not a valid processed mnist5k file") as error:
        load_processed(config)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    path.write_bytes(buffer.read_bytes())  # readable, but without the event arrays
    with pytest.raises(CorruptFileError, match="missing array"):
        load_processed(config)


def test_processed_dataset_gets_the_usual_file_mode(tmp_path):
    from surrogate_study.storage.atomic import save_npz_atomic

    path = tmp_path / "data.npz"
    save_npz_atomic(path, x=np.arange(3))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert list(np.load(path)["x"]) == [0, 1, 2]
