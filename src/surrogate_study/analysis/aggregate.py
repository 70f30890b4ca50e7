"""Tidy rows from run outputs: one row per cell (parameters + metrics), one per cell-epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from surrogate_study.storage.atomic import CorruptFileError

#: Keys of a cell's metrics.json that the tables read.
METRICS_KEYS = ("status", "config", "diverged_epoch", "epochs_completed", "best_epoch", "train_accuracy",
                "valid_accuracy", "test_accuracy", "test_loss", "mean_spikes_per_neuron", "silent_fraction",
                "wall_time_s")
#: Leading columns of every history.csv (then two per hidden layer).
HISTORY_KEYS = ("epoch", "train_loss", "train_regularization", "train_accuracy", "valid_loss", "valid_accuracy",
                "test_loss", "test_accuracy")
#: The history columns a run with ``training.test_split: best_epoch`` leaves empty.
TEST_KEYS = ("test_loss", "test_accuracy")
RERUN_HINT = "delete it and rerun the workflow (Snakemake then reruns the job that makes it)"


def _corrupt(path: str | Path, what: str) -> CorruptFileError:
    return CorruptFileError(f"{path}: {what}; {RERUN_HINT}")


def read_metrics(path: str | Path) -> dict[str, Any]:
    """A cell's metrics.json, checked: strict JSON, an object with every key the tables read.

    Raises :class:`CorruptFileError` (one line naming the file and what is wrong) otherwise.
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise _corrupt(path, f"cannot be read ({error})") from None
    try:
        metrics = json.loads(text)
    except json.JSONDecodeError as error:
        raise _corrupt(path, f"truncated or invalid JSON ({error.msg} at line {error.lineno}, "
                             f"column {error.colno})") from None
    if not isinstance(metrics, dict):
        raise _corrupt(path, f"holds a JSON {type(metrics).__name__}, expected an object")
    missing = [key for key in METRICS_KEYS if key not in metrics]
    if missing:
        raise _corrupt(path, f"missing key(s) {', '.join(missing)}")
    if metrics["status"] not in ("ok", "diverged"):
        raise _corrupt(path, f"status {metrics['status']!r} is not 'ok' or 'diverged'")
    if metrics["status"] == "ok" and not isinstance(metrics["test_accuracy"], (int, float)):
        raise _corrupt(path, f"status 'ok' but test_accuracy is {metrics['test_accuracy']!r}")
    return metrics


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_history(path: str | Path, epochs: int | None = None, test_columns: bool = True) -> pd.DataFrame:
    """A cell's history.csv, checked: the expected columns, no empty or non-numeric value, epochs 0, 1, ….

    ``epochs``: the number of rows the cell's metrics.json promises (its ``epochs_completed``).
    ``test_columns``: whether the run evaluated the test split every epoch; if not (``training.test_split:
    best_epoch``), its test columns are empty in every row (read as NaN) and only those may be.
    Raises :class:`CorruptFileError` (one line naming the file and what is wrong) otherwise.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise _corrupt(path, f"unreadable CSV ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                       ) from None
    missing = [key for key in HISTORY_KEYS if key not in raw.columns]
    if missing:
        raise _corrupt(path, f"missing column(s) {', '.join(missing)}")
    bad = ~raw.map(_is_number)  # a short (truncated) row reads as empty fields
    if not test_columns:
        test = list(TEST_KEYS)
        filled = raw[test].ne("").any(axis=1).to_numpy()
        if filled.any():
            raise _corrupt(path, f"line {int(filled.argmax()) + 2} has test values, but the run evaluated the test "
                                 "split only at its best epoch (training.test_split: best_epoch)")
        bad[test] = False
    if bad.to_numpy().any():
        row = int(bad.any(axis=1).to_numpy().argmax())
        raise _corrupt(path, f"line {row + 2} is truncated or has empty/non-numeric values")
    frame = raw.apply(pd.to_numeric)
    if list(frame["epoch"]) != list(range(len(frame))):
        raise _corrupt(path, "epochs are not 0, 1, 2, …")
    if epochs is not None and len(frame) != epochs:
        raise _corrupt(path, f"{len(frame)} epoch row(s), but metrics.json says {epochs} epoch(s) completed")
    return frame


def cell_row(metrics: Mapping[str, Any], labels: Mapping[str, Any]) -> dict[str, Any]:
    """Axis labels, the cell's key parameters and its metrics (selected on validation, reported on test)."""
    config = metrics["config"]
    model, surrogate, reg, training = config["model"], config["surrogate"], config["regularization"], config["training"]
    spikes = metrics["mean_spikes_per_neuron"]
    info = metrics.get("dataset_info", {})
    silent = metrics["silent_fraction"]
    row: dict[str, Any] = {f"axis:{key}": (str(value) if isinstance(value, list) else value)
                           for key, value in labels.items() if key != "cell"}
    row.update({
        "cell": labels["cell"],
        "dataset": config["dataset"]["name"],
        "n_inputs": info.get("n_units", config["dataset"].get("units")),
        "n_classes": info.get("n_classes", config["dataset"].get("classes")),
        "n_steps": info.get("n_steps", config["dataset"].get("steps")),
        "samples_per_class": config["dataset"].get("samples_per_class"),
        "n_train": info.get("train"),
        "n_valid": info.get("valid"),
        "n_test": info.get("test"),
        "hidden": "x".join(str(h) for h in model["hidden"]),
        "n_hidden_layers": len(model["hidden"]),
        "recurrent": model["recurrent"],
        "detach_reset": model["detach_reset"],
        "detach_recurrent": model["detach_recurrent"],
        "dt": model["dt"],
        "init_gain": model.get("init_gain"),
        "recurrent_init_gain": model.get("recurrent_init_gain"),
        "recurrent_delay": model.get("recurrent_delay"),
        "tau_readout": model.get("tau_readout"),
        "sigmoid_peak": surrogate.get("sigmoid_peak"),
        "task_seed": config["dataset"].get("seed") if config["dataset"]["name"] == "randman" else None,
        "shape": surrogate["shape"],
        "beta": surrogate["beta"],
        "scale": surrogate["scale"],
        "lr": training["lr"],
        "batch_size": training["batch_size"],
        "epochs": training["epochs"],
        "seed": config["seed"],
        "lambda_low": reg["lower"]["strength"],
        "nu_low": reg["lower"]["threshold"],
        "lambda_up": reg["upper"]["strength"],
        "nu_up": reg["upper"]["threshold"],
        "status": metrics["status"],
        "best_epoch": metrics["best_epoch"],
        "train_accuracy": metrics["train_accuracy"],
        "valid_accuracy": metrics["valid_accuracy"],
        "test_accuracy": metrics["test_accuracy"],
        "test_loss": metrics["test_loss"],
        "mean_spikes": None if spikes[0] is None else sum(spikes) / len(spikes),
        "mean_spikes_layer1": spikes[0],
        "silent_fraction_layer1": silent[0],
        "wall_time_s": metrics["wall_time_s"],
    })
    return row


def history_frame(path: str, cell: str, epochs: int | None = None, test_columns: bool = True) -> pd.DataFrame:
    """A cell's history.csv (checked by :func:`read_history`) with its id as first column."""
    frame = read_history(path, epochs, test_columns)
    frame.insert(0, "cell", cell)
    return frame


def best_by_validation(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group, the row with the highest validation accuracy (first on ties); diverged cells excluded."""
    ok = table[table["status"] == "ok"].dropna(subset=["valid_accuracy"])
    ok = ok.sort_values(["valid_accuracy", "cell"], ascending=[False, True], kind="stable")
    return ok.groupby(by, sort=True, dropna=False).head(1).reset_index(drop=True)
