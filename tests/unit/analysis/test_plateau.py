"""Plateau epochs of a study's best configuration (surrogate_study.analysis.plateau)."""

import pandas as pd

from surrogate_study.analysis.plateau import plateau_row, plateau_table, to_markdown


def study(curves: dict[tuple[float, int], list[float]]):
    """Cell table and history for cells keyed (lr, seed) with their validation curves."""
    rows, history = [], []
    for (lr, seed), curve in curves.items():
        cell = f"lr{lr}_s{seed}"
        rows.append({"cell": cell, "axis:training.lr": lr, "axis:seed": seed, "seed": seed, "status": "ok",
                     "valid_accuracy": max(curve), "test_accuracy": max(curve)})
        history += [{"cell": cell, "epoch": e, "valid_accuracy": v} for e, v in enumerate(curve)]
    return pd.DataFrame(rows), pd.DataFrame(history)


def test_plateau_is_the_first_epoch_within_tolerance_of_the_best_configurations_mean_curve():
    good = [0.1, 0.5, 0.80, 0.895, 0.90, 0.90, 0.90, 0.90, 0.90, 0.90]  # seed mean reaches 0.89 at epoch 3
    table, history = study({(0.05, 0): good, (0.05, 1): [v + 0.02 for v in good], (0.05, 2): [v - 0.02 for v in good],
                            (0.01, 0): [0.1 * e for e in range(10)], (0.01, 1): [0.1] * 10, (0.01, 2): [0.1] * 10})
    row = plateau_row("shape", table, history, tolerance=0.01)
    assert row["configuration"] == "training.lr=0.05" and row["seeds"] == 3
    assert row["epochs_run"] == 10 and row["max_mean_valid"] == 0.9
    assert row["plateau_epoch"] == 3 and row["still_rising"] is False


def test_a_curve_that_rises_to_the_end_is_flagged():
    rising = [0.1 + 0.05 * e for e in range(12)]
    table, history = study({(0.05, s): rising for s in range(3)})
    row = plateau_row("scale", table, history)
    assert row["plateau_epoch"] == 11 and row["still_rising"] is True
    text = to_markdown(plateau_table({"scale": (table, history)}))
    assert "| scale | training.lr=0.05 | 3 | 12 | 0.65 | 11 | yes |" in text
