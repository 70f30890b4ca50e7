"""Issue 32: a corrupt checkpoint is set aside and the cells train afresh; a full disk, an allocation failure,
an absurd size and an empty --out are one line each and leave nothing behind."""

import errno
import logging

import pytest
import torch
from helpers import interrupt_at

from surrogate_study import cli
from surrogate_study.plan.config import ConfigError, SIZE_LIMITS, resolve_config
from surrogate_study.storage import atomic
from surrogate_study.storage.atomic import DiskFullError, torch_save_atomic, write_text_atomic
from surrogate_study.training import trainer
from surrogate_study.training.trainer import CHECKPOINT_NAME, train


def _comparable(metrics):
    return {k: v for k, v in metrics.items() if k not in ("wall_time_s", "threads", "numba_threads", "versions")}


def _one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# --- checkpoint.pt -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupt_checkpoint_is_named_set_aside_and_the_run_restarts(tiny_config, tmp_path, caplog, damage):
    reference = train(tiny_config, tmp_path / "reference", progress=False)

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config, run, on_epoch_end=interrupt_at(1), progress=False)
    checkpoint = run / CHECKPOINT_NAME
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a checkpoint")
    epochs_run = []
    with caplog.at_level(logging.WARNING, logger=trainer.__name__):
        resumed = train(tiny_config, run, on_epoch_end=lambda e, r: epochs_run.append(e), progress=False)
    assert epochs_run == [0, 1, 2, 3]  # from scratch
    assert _comparable(resumed) == _comparable(reference)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(checkpoint) in warnings[0] and "set aside" in warnings[0], warnings
    assert "\n" not in warnings[0]
    assert (run / (CHECKPOINT_NAME + ".corrupt")).read_bytes() != data  # kept for inspection
    assert not checkpoint.exists()


# --- disk full ----------------------------------------------------------------------------------------------


def test_disk_full_is_one_line_naming_the_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old\n")

    def full(temporary):
        temporary.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError) as raised:
        atomic.write_atomically(target, full)
    assert str(raised.value).startswith(f"{target}: no space left on device")
    assert "\n" not in str(raised.value) and raised.value.errno == errno.ENOSPC
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no temporary left


def test_torch_iostream_error_on_a_full_disk_is_named_as_disk_full(tmp_path, monkeypatch):
    def iostream_error(obj, path):
        raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0 basic_ios::clear")

    class Full:
        f_bavail = 0

    monkeypatch.setattr(torch, "save", iostream_error)
    monkeypatch.setattr(atomic.os, "statvfs", lambda path: Full())
    with pytest.raises(DiskFullError, match="model.pt: no space left"):
        torch_save_atomic(tmp_path / "model.pt", {})
    monkeypatch.undo()
    monkeypatch.setattr(torch, "save", iostream_error)  # the same error with space left stays what it was
    with pytest.raises(RuntimeError, match="basic_ios"):
        torch_save_atomic(tmp_path / "model.pt", {})
    assert list(tmp_path.iterdir()) == []


def test_cli_disk_full_is_one_line_and_nothing_half_written(tmp_path, monkeypatch, capsys):
    real_write_text = write_text_atomic

    def full_on_metrics(path, text):
        if str(path).endswith("metrics.json"):
            raise DiskFullError(path)
        real_write_text(path, text)

    monkeypatch.setattr(atomic, "write_text_atomic", full_on_metrics)
    out = tmp_path / "run"
    code = cli.main(["train", "--set", "training.epochs=1", "--set", "dataset.samples_per_class=20",
                     "--set", "model.hidden=[8]", "--out", str(out), "--no-progress"])
    assert code == 1
    _one_line_error(capsys.readouterr().err, f"{out / 'metrics.json'}: no space left")
    assert not (out / "metrics.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file


# --- sizes, --out, allocation --------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, where", [
    ("training.epochs", 100000000000000000000, "training.epochs"),
    ("model.hidden", [1e11], "model.hidden.0"),
    ("model.hidden", [100, 20000], "model.hidden.1"),
    ("dataset.samples_per_class", 1e12, "dataset.samples_per_class"),
    ("training.batch_size", 10**6, "training.batch_size"),
    ("dataset.steps", 10**5, "dataset.steps"),
])
def test_absurd_sizes_are_refused_naming_the_key_unless_allowed(key, value, where, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--set", f"{key}={value}", "--out", str(out), "--no-progress"])
    assert code == 2
    _one_line_error(capsys.readouterr().err, f"config error at {where}:", "--allow-large")
    assert not out.exists()
    section, name = key.split(".")
    resolve_config({section: {name: value}}, allow_large=True)  # knowingly: accepted
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        resolve_config({section: {name: value}})


def test_the_paper_sizes_are_within_the_limits():
    assert SIZE_LIMITS["training.epochs"] >= 1000 and SIZE_LIMITS["model.hidden"] >= 1000
    resolve_config({"model": {"hidden": [256, 256, 256]}, "training": {"epochs": 200, "batch_size": 250}})


def test_empty_out_is_refused_and_nothing_is_written_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for out in ("", " "):
        assert cli.main(["train", "--out", out, "--no-progress"]) == 2
        _one_line_error(capsys.readouterr().err, "names no folder")
    assert list(tmp_path.iterdir()) == []


def test_an_allocation_failure_is_one_line_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 8800000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(trainer, "build_network", refuse)
    out = tmp_path / "a" / "run"
    code = cli.main(["train", "--allow-large", "--set", "model.hidden=[100000000000]", "--set",
                     "dataset.samples_per_class=20", "--out", str(out), "--no-progress"])
    assert code == 1
    _one_line_error(capsys.readouterr().err, "out of memory", "model.hidden=[100000000000", "make them smaller")
    assert not (tmp_path / "a").exists()
