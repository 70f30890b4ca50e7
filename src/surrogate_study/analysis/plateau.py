"""Plateau epochs: when the best configuration of a study stops improving on validation.

A study's *configurations* are its cells grouped by every axis but ``seed``. The best
configuration has the highest seed-mean best validation accuracy (diverged cells count 0).
Its learning curve is the seed mean of the validation accuracy per epoch,

    v̄[e] = mean_s v_s[e],

and its plateau epoch is the first epoch e* with v̄[e*] ≥ max_e v̄[e] − tolerance. A plateau
epoch close to the last epoch run (within ``margin`` epochs) means the curve may still be
rising: more epochs could help, and the table says so.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

TOLERANCE = 0.01  # validation accuracy within 1 point of the curve's maximum
MARGIN = 5        # a plateau epoch within this many epochs of the end counts as "still rising"


def configuration_columns(table: pd.DataFrame) -> list[str]:
    """The axis columns that identify a configuration (every ``axis:`` column but the seed)."""
    return [c for c in table.columns if c.startswith("axis:") and c != "axis:seed"]


def plateau_row(study: str, table: pd.DataFrame, history: pd.DataFrame, tolerance: float = TOLERANCE,
                margin: int = MARGIN) -> dict[str, Any]:
    """One row: the study's best configuration, its seeds, epochs run, the maximum of v̄ and the plateau epoch."""
    row: dict[str, Any] = {"study": study, "configuration": "–", "seeds": 0, "epochs_run": None,
                           "max_mean_valid": None, "plateau_epoch": None, "still_rising": None}
    if table.empty or history.empty:
        return row
    keys = configuration_columns(table)
    scored = table.assign(valid=table["valid_accuracy"].where(table["status"].eq("ok"), 0.0).fillna(0.0))
    grouped = scored.groupby(keys, sort=True, dropna=False) if keys else [((), scored)]
    ranked = sorted(((group["valid"].mean(), str(name)), name, group) for name, group in grouped)
    _, name, best = ranked[-1]
    curves = history[history["cell"].isin(best["cell"])]
    curve = curves.groupby("epoch")["valid_accuracy"].mean().sort_index()
    if curve.empty:
        return row
    top = float(curve.max())
    plateau = int(curve.index[curve >= top - tolerance][0])
    last = int(curve.index.max())
    name = name if isinstance(name, tuple) else (name,)
    row.update({
        "configuration": ", ".join(f"{k.removeprefix('axis:')}={v}" for k, v in zip(keys, name)) or "all",
        "seeds": int(best["seed"].nunique()),
        "epochs_run": last + 1,
        "max_mean_valid": round(top, 4),
        "plateau_epoch": plateau,
        "still_rising": plateau >= last - margin + 1,
    })
    return row


def plateau_table(studies: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One :func:`plateau_row` per study, from its (cell table, history table)."""
    return pd.DataFrame([plateau_row(name, table, history, tolerance) for name, (table, history) in studies.items()])


def to_markdown(table: pd.DataFrame, tolerance: float = TOLERANCE) -> str:
    """The plateau table as Markdown, with its definition."""
    lines = [f"Plateau epoch: first epoch (from 0) at which the seed-mean validation accuracy of the study's best "
             f"configuration is within {tolerance:g} of its maximum; \"still rising\" when that is within "
             f"{MARGIN} epochs of the end.", "",
             "| study | best configuration | seeds | epochs run | max mean valid. acc. | plateau epoch | still rising |",
             "|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        value = lambda v: "–" if v is None or pd.isna(v) else v  # noqa: E731
        lines.append(f"| {r.study} | {r.configuration} | {r.seeds} | {value(r.epochs_run)} | "
                     f"{value(r.max_mean_valid)} | {value(r.plateau_epoch)} | "
                     f"{'–' if r.still_rising is None else ('yes' if r.still_rising else 'no')} |")
    return "\n".join(lines) + "\n"
