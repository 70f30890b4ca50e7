"""Tidy rows from run outputs: one row per cell (parameters + metrics), one per cell-epoch."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd


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


def history_frame(path: str, cell: str) -> pd.DataFrame:
    """A cell's history.csv with its id as first column."""
    frame = pd.read_csv(path)
    frame.insert(0, "cell", cell)
    return frame


def best_by_validation(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group, the row with the highest validation accuracy (first on ties); diverged cells excluded."""
    ok = table[table["status"] == "ok"].dropna(subset=["valid_accuracy"])
    ok = ok.sort_values(["valid_accuracy", "cell"], ascending=[False, True], kind="stable")
    return ok.groupby(by, sort=True, dropna=False).head(1).reset_index(drop=True)


def critical_activity(activity: pd.Series, accuracy: pd.Series, fraction: float) -> float | None:
    """Lowest activity at which accuracy still reaches ``fraction`` × the best accuracy.

    Below this level (the sparsity sweep's "critical activity") accuracy collapses.
    None when there are no finite points.
    """
    points = pd.DataFrame({"activity": activity, "accuracy": accuracy}).dropna()
    if points.empty:
        return None
    keep = points[points["accuracy"] >= fraction * points["accuracy"].max()]
    return float(keep["activity"].min())
