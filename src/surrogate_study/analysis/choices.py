"""The reconstruction choices: run-config options where the paper's text is silent or the authors' code differs
(docs/science.md, "Reconstruction choices"), their documented defaults, and the line that figure captions and
Table 1 carry naming every value a run set away from its default.

Each choice is a column of the aggregated study tables (:func:`surrogate_study.analysis.aggregate.cell_row`);
a choice that cannot change a cell (V's options in a feed-forward network, Sigmoid′'s normalisation under another
shape, the Randman task seed on another dataset) is read only from the cells it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pandas as pd

from surrogate_study.plan.config import default_config


@dataclass(frozen=True)
class Choice:
    """One reconstruction choice: its table column, run-config key, label and the cells it applies to."""

    column: str
    key: str
    label: str
    applies: Callable[[pd.DataFrame], pd.Series]

    def default(self) -> Any:
        """The package default of the option (``plan/defaults.yaml``)."""
        section, *rest = self.key.split(".")
        value = default_config()[section]  # the default run: the Randman task (whose seed is the task seed)
        for part in rest:
            value = value[part]
        return value


def _all(table: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=table.index)


def _recurrent(table: pd.DataFrame) -> pd.Series:
    return table["recurrent"].astype(str).str.lower() == "true"


CHOICES: tuple[Choice, ...] = (
    Choice("init_gain", "model.init_gain", "init gain g of W and W_out", _all),
    Choice("recurrent_init_gain", "model.recurrent_init_gain", "init gain of V (empty: g)", _recurrent),
    Choice("recurrent_delay", "model.recurrent_delay", "recurrent delay d (steps)", _recurrent),
    Choice("tau_readout", "model.tau_readout", "readout τ (s)", _all),
    Choice("sigmoid_peak", "surrogate.sigmoid_peak", "Sigmoid′ peak", lambda t: t["shape"] == "sigmoid"),
    Choice("task_seed", "dataset.seed", "Randman task seed", lambda t: t["dataset"] == "randman"),
)


def _same(value: Any, default: Any) -> bool:
    if default is None:
        return value is None or (isinstance(value, float) and pd.isna(value))
    try:
        return float(value) == float(default)
    except (TypeError, ValueError):
        return str(value) == str(default)


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "as g"
    return f"{value:g}" if isinstance(value, float) else str(value)


def values_run(table: pd.DataFrame, choice: Choice) -> list[Any]:
    """The values of one choice among the cells it applies to (sorted, missing column: none)."""
    if table.empty or choice.column not in table:
        return []
    column = table.loc[choice.applies(table), choice.column]
    values = {None if pd.isna(v) else v for v in column}
    return sorted(values, key=lambda v: (v is None, str(v)))


def non_default(tables: Iterable[pd.DataFrame]) -> dict[str, list[str]]:
    """{choice label (key): values} of every choice that some cell ran away from its default."""
    table = pd.concat([t for t in tables if not t.empty], ignore_index=True) if tables else pd.DataFrame()
    found = {}
    for choice in CHOICES:
        values = [v for v in values_run(table, choice) if not _same(v, choice.default())]
        if values:
            found[f"{choice.label} ({choice.key})"] = [_format(v) for v in values]
    return found


def choices_line(tables: Iterable[pd.DataFrame]) -> str:
    """The caption line: the choices away from their defaults, or that all are at them."""
    found = non_default(list(tables))
    if not found:
        return "Reconstruction choices: all at their defaults (docs/science.md)."
    return ("Reconstruction choices away from their defaults (docs/science.md): "
            + "; ".join(f"{label} = {', '.join(values)}" for label, values in found.items()) + ".")
