"""Figure-panel tables: what each bar, point and error bar of Fig. 3–6 draws, from the study tables.

Every table has one row per plotted point with ``mean``, ``sd`` and ``n`` (mean, SD with
ddof = 1, and number of seeds of the per-seed values, :mod:`surrogate_study.analysis.seedstats`); the
figures draw bars/points at ``mean`` and error bars of ± ``sd``. The selections are the
claims' own functions (:mod:`surrogate_study.analysis.claims`), so Fig. 3c shows claim 1's numbers,
Fig. 5c and the accuracy-vs-β panel claim 2a's, Fig. 5e claim 2b's, Fig. 6 claim 3's.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from surrogate_study.analysis.claims import (beta_selection, claim_controls, one_layer, shape_selection,
                                             sparsity_selection, top_cells_selection)
from surrogate_study.analysis.critical import critical_activity_interval
from surrogate_study.analysis.seedstats import best_per_seed, summarize, top_mean_per_seed
from surrogate_study.plan.shapes import display_order

Tables = Mapping[str, pd.DataFrame]
Params = Mapping[str, Any]  # top_cells (Fig. 5d/f, config figures), claim_top_cells (Fig. 5c/e, config claims)


def fig3b(tables: Tables, p: Params) -> pd.DataFrame:
    """Heat maps: per shape, β and η the seed mean of the cell's test accuracy (diverged = 0)."""
    per_seed = best_per_seed(tables["shape"], ["shape", "beta", "lr"])
    return summarize(per_seed, ["shape", "beta", "lr"])


def fig3c(tables: Tables, p: Params) -> pd.DataFrame:
    """Best cell per shape (claim 1's selection): SG shapes and the controls, mean ± SD over seeds."""
    summary = summarize(shape_selection(tables["shape"], claim_controls(tables)), ["shape"])
    return summary.set_index("shape").reindex(display_order(summary["shape"])).reset_index()


def fig4(tables: Tables, p: Params) -> pd.DataFrame:
    """Best cell per task (dataset, n_h, recurrent) and shape, per seed; mean ± SD over seeds."""
    by = ["dataset", "n_hidden_layers", "recurrent", "shape"]
    return summarize(best_per_seed(tables["tasks"], by), by)


def fig5_beta(tables: Tables, p: Params) -> pd.DataFrame:
    """Test accuracy vs β at each variant's best η (claim 2a, β-resolved)."""
    return summarize(beta_selection(tables["scale"]), ["axis:variant", "lr", "beta"])


def fig5c(tables: Tables, p: Params) -> pd.DataFrame:
    """Mean test accuracy of each variant's ``claim_top_cells`` best cells over the grid, per seed (claim 2a, top cells)."""
    return summarize(top_cells_selection(tables["scale"], int(p["claim_top_cells"])), ["axis:variant"])


def fig5d(tables: Tables, p: Params) -> pd.DataFrame:
    """As Fig. 5c per variant and number of hidden layers (``scale_depth``)."""
    by = ["axis:variant", "n_hidden_layers"]
    return summarize(top_mean_per_seed(tables["scale_depth"], by, int(p["top_cells"])), by)


def fig5e(tables: Tables, p: Params) -> pd.DataFrame:
    """Recurrent networks with one hidden layer, every variant (claim 2b's selection)."""
    return summarize(top_cells_selection(one_layer(tables["scale_recurrent"]), int(p["claim_top_cells"])), ["axis:variant"])


def fig5f(tables: Tables, p: Params) -> pd.DataFrame:
    """Recurrent networks, asymptotic surrogate: aCtl vs aProp per number of hidden layers."""
    table = tables["scale_recurrent"]
    table = table[table["axis:variant"].isin(["aCtl", "aProp"])]
    by = ["axis:variant", "n_hidden_layers"]
    return summarize(top_mean_per_seed(table, by, int(p["top_cells"])), by)


def fig6(tables: Tables, p: Params) -> pd.DataFrame:
    """Per (dataset, lower bound, ν_up): test accuracy and activity, mean ± SD over seeds, ordered by ν_up; per
    (dataset, lower bound) the critical activity at ``collapse_fraction`` × best with its 95 % interval
    (columns critical, critical_low, critical_high, critical_imprecise; :mod:`surrogate_study.analysis.critical`)."""
    selected = sparsity_selection(tables["sparsity"])
    by = ["dataset", "axis:lower_bound", "nu_up"]
    accuracy = summarize(selected, by)
    activity = summarize(selected, by, value="mean_spikes").rename(
        columns={"mean": "spikes_mean", "sd": "spikes_sd", "n": "spikes_n"})
    points = accuracy.merge(activity, on=by).sort_values(by, kind="stable").reset_index(drop=True)
    fraction = float(p.get("collapse_fraction", 0.9))
    rows = []
    for (dataset, lower), group in selected.groupby(["dataset", "axis:lower_bound"]):
        critical = critical_activity_interval(group, fraction)
        if critical is not None:
            rows.append({"dataset": dataset, "axis:lower_bound": lower, "critical": critical.estimate,
                         "critical_low": critical.low, "critical_high": critical.high,
                         "critical_imprecise": critical.imprecise})
    columns = ["dataset", "axis:lower_bound", "critical", "critical_low", "critical_high", "critical_imprecise"]
    return points.merge(pd.DataFrame(rows, columns=columns), on=["dataset", "axis:lower_bound"], how="left")


PANELS: dict[str, Callable[[Tables, Params], pd.DataFrame]] = {
    "fig3b": fig3b, "fig3c": fig3c, "fig4": fig4, "fig5_beta": fig5_beta, "fig5c": fig5c, "fig5d": fig5d,
    "fig5e": fig5e, "fig5f": fig5f, "fig6": fig6,
}
PANEL_STUDIES: dict[str, list[str]] = {  # the study tables each figure's panel tables read
    "fig3": ["shape", "shape_control", "sg_vs_true"],
    "fig4": ["tasks"],
    "fig5": ["scale", "scale_depth", "scale_recurrent"],
    "fig6": ["sparsity"],
}


def panel_table(name: str, tables: Tables, params: Mapping[str, Any]) -> pd.DataFrame:
    """The table of one panel by name (see :data:`PANELS`)."""
    if name not in PANELS:
        raise ValueError(f"unknown figure panel {name!r} (allowed: {', '.join(PANELS)})")
    return PANELS[name](tables, params)
