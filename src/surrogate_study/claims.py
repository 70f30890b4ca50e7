"""The paper's claims checked against the aggregated results: pass / fail / not-run.

Every check selects on the validation split and reports on the test split. "Best cell of
a group" = highest validation accuracy, ties broken by cell id (deterministic); diverged
cells count as failures (they never win a selection, and count as accuracy 0 where a
group's mean is taken). A spread over seeds is the SD of the per-seed values; with one
seed it is reported as "n = 1".

Claims (thresholds from the workflow config's ``claims`` section):

1. shape robustness — per shape, the best cell's test accuracy (per seed, then mean):
   spread = max − min over {superspike, sigmoid, esser} must be ≤ ``shape_spread_max``,
   and min(SG shapes) − best(constant) and − best(true gradient) must both be
   ≥ ``control_margin_min``.
2a. scale sensitivity, reset — mean test accuracy of the ``top_cells`` best cells with
   β ≥ ``large_beta`` for each variant of the ``scale`` study: sCtl − aDR must be
   ≥ ``sensitivity_gap_min`` while |sCtl − aCtl| ≤ ``control_gap_max``.
2b. scale sensitivity, recurrence — the same with aCtl − aProp (≥ ``sensitivity_gap_min``)
   and |sCtl − aCtl| in the ``scale_recurrent`` study, one hidden layer.
3. sparse activity — lower bound on: the critical activity is the lowest mean spike count
   whose accuracy is ≥ ``plateau_fraction`` × best; the claim passes when accuracy holds
   there and the sparsest point below it has collapsed to ≤ ``collapse_fraction`` × best.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional

import pandas as pd

from .aggregate import critical_activity


@dataclass
class ClaimResult:
    """One row of the claims table."""

    claim: str
    metric: str
    how: str
    threshold: str
    value: str
    spread: str
    verdict: str  # pass | fail | not-run
    numbers: dict[str, Any] = field(default_factory=dict)  # the measured values as numbers (metrics.json)


def _fmt(value: Optional[float]) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.3f}"


def _best_per_seed(table: pd.DataFrame, shape: str) -> pd.Series:
    """Test accuracy of the best-validation cell of ``shape`` for each seed."""
    cells = table[(table["shape"] == shape) & (table["status"] == "ok")].dropna(subset=["valid_accuracy"])
    if cells.empty:
        return pd.Series(dtype=float)
    cells = cells.sort_values(["valid_accuracy", "cell"], ascending=[False, True], kind="stable")
    return cells.groupby("seed").head(1).set_index("seed")["test_accuracy"]


def _spread(per_seed: Mapping[str, pd.Series]) -> str:
    def one(name: str, values: pd.Series) -> str:
        if len(values) == 1:
            return f"{name} {values.iloc[0]:.3f} (n = 1 seed)"
        return f"{name} {values.mean():.3f} ± {values.std(ddof=1):.3f} (n = {len(values)} seeds)"

    return "; ".join(one(name, values) for name, values in per_seed.items())


def shape_robustness(shape_table: pd.DataFrame, controls: pd.DataFrame, t: Mapping[str, float]) -> ClaimResult:
    sg = {s: _best_per_seed(shape_table, s) for s in ("superspike", "sigmoid", "esser")}
    ctrl = {s: _best_per_seed(controls, s) for s in ("constant", "true")}
    metric = "spread of best test accuracy over SuperSpike/Sigmoid′/Esser; SG − control margin"
    how = "best cell per shape and seed selected on validation, mean over seeds"
    threshold = f"spread ≤ {t['shape_spread_max']:g}; margin ≥ {t['control_margin_min']:g}"
    if any(v.empty for v in sg.values()) or any(v.empty for v in ctrl.values()):
        missing = [k for k, v in {**sg, **ctrl}.items() if v.empty]
        return ClaimResult("1 shape robustness", metric, how, threshold, f"missing: {', '.join(missing)}", "–",
                           "not-run")
    means = {k: v.mean() for k, v in sg.items()}
    spread = max(means.values()) - min(means.values())
    margin = min(means.values()) - max(v.mean() for v in ctrl.values())
    ok = spread <= t["shape_spread_max"] and margin >= t["control_margin_min"]
    value = (f"spread {spread:.3f} (" + ", ".join(f"{k} {m:.3f}" for k, m in means.items()) + f"); margin {margin:.3f}"
             f" (constant {ctrl['constant'].mean():.3f}, true {ctrl['true'].mean():.3f})")
    numbers = {"best_test_accuracy": {k: float(v.mean()) for k, v in {**sg, **ctrl}.items()},
               "shape_spread": float(spread), "control_margin": float(margin)}
    return ClaimResult("1 shape robustness", metric, how, threshold, value, _spread({**sg, **ctrl}),
                       "pass" if ok else "fail", numbers)


def _top_mean(table: pd.DataFrame, variant: str, large_beta: float, top: int) -> tuple[Optional[float], Optional[float], int]:
    cells = table[(table["axis:variant"] == variant) & (table["beta"] >= large_beta)]
    if cells.empty:
        return None, None, 0
    ranked = cells.assign(valid=cells["valid_accuracy"].fillna(-1.0), test=cells["test_accuracy"].fillna(0.0))
    best = ranked.sort_values(["valid", "cell"], ascending=[False, True], kind="stable").head(top)["test"]
    return float(best.mean()), float(best.std(ddof=1)) if len(best) > 1 else None, len(best)


def scale_sensitivity(table: pd.DataFrame, sensitive: str, label: str, t: Mapping[str, float]) -> ClaimResult:
    top, large = int(t["top_cells"]), float(t["large_beta"])
    values = {v: _top_mean(table, v, large, top) for v in ("sCtl", "aCtl", sensitive)}
    metric = f"sCtl − {sensitive} and |sCtl − aCtl|, test accuracy at β ≥ {large:g}"
    how = f"mean of the {top} best cells (by validation) of each variant with β ≥ {large:g}; diverged = 0"
    threshold = f"gap ≥ {t['sensitivity_gap_min']:g}; control gap ≤ {t['control_gap_max']:g}"
    missing = [v for v, (mean, _, _) in values.items() if mean is None]
    if missing:
        return ClaimResult(label, metric, how, threshold, f"missing: {', '.join(missing)}", "–", "not-run")
    control = values["aCtl" if sensitive == "aProp" else "sCtl"][0]
    gap = control - values[sensitive][0]
    control_gap = abs(values["sCtl"][0] - values["aCtl"][0])
    ok = gap >= t["sensitivity_gap_min"] and control_gap <= t["control_gap_max"]
    value = (f"gap {gap:.3f}, control gap {control_gap:.3f} ("
             + ", ".join(f"{v} {m:.3f}" for v, (m, _, _) in values.items()) + ")")
    spread = "; ".join(f"{v} SD {_fmt(sd)} (n = {n} cells)" for v, (_, sd, n) in values.items())
    numbers = {"gap": float(gap), "control_gap": float(control_gap)}
    return ClaimResult(label, metric, how, threshold, value, spread, "pass" if ok else "fail", numbers)


def sparse_activity(table: pd.DataFrame, t: Mapping[str, float]) -> ClaimResult:
    metric = "critical mean spikes per neuron per input (lower bound on)"
    how = (f"lowest activity with test accuracy ≥ {t['plateau_fraction']:g} × best; "
           f"collapse if the sparsest point is ≤ {t['collapse_fraction']:g} × best")
    threshold = f"plateau ≥ {t['plateau_fraction']:g} × best, collapse ≤ {t['collapse_fraction']:g} × best"
    cells = table[(table.get("axis:lower_bound").astype(str) == "on") & (table["status"] == "ok")] \
        if "axis:lower_bound" in table else table.iloc[0:0]
    cells = cells.dropna(subset=["mean_spikes", "test_accuracy"])
    if len(cells) < 3:
        return ClaimResult("3 sparse activity", metric, how, threshold, f"{len(cells)} cells (need ≥ 3)", "–",
                           "not-run")
    per_level = cells.groupby("nu_up").agg(activity=("mean_spikes", "mean"), accuracy=("test_accuracy", "mean"),
                                           sd=("test_accuracy", "std"), n=("cell", "count")).sort_values("activity")
    best = per_level["accuracy"].max()
    critical = critical_activity(per_level["activity"], per_level["accuracy"], t["plateau_fraction"])
    sparsest = per_level.iloc[0]
    collapsed = sparsest["activity"] < critical and sparsest["accuracy"] <= t["collapse_fraction"] * best
    value = (f"critical activity {critical:.3g} spikes/neuron/input; best accuracy {best:.3f}; "
             f"at {sparsest['activity']:.3g}: {sparsest['accuracy']:.3f}")
    spread = "; ".join(f"ν_up={nu:g}: SD {_fmt(r['sd'])} (n = {int(r['n'])})" for nu, r in per_level.iterrows())
    numbers = {"critical_activity": float(critical), "best_accuracy": float(best)}
    return ClaimResult("3 sparse activity", metric, how, threshold, value, spread, "pass" if collapsed else "fail",
                       numbers)


def check_claims(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, Any]) -> list[ClaimResult]:
    """All claims from the aggregated study tables (missing tables give not-run rows)."""
    empty = pd.DataFrame(columns=["cell", "shape", "status", "valid_accuracy", "test_accuracy", "seed", "beta",
                                  "axis:variant", "n_hidden_layers", "mean_spikes", "nu_up"])
    get = lambda name: tables.get(name, empty)  # noqa: E731
    controls = pd.concat([get("shape_control"), get("sg_vs_true")], ignore_index=True)
    recurrent = get("scale_recurrent")
    if not recurrent.empty:
        recurrent = recurrent[recurrent["n_hidden_layers"] == recurrent["n_hidden_layers"].min()]
    return [
        shape_robustness(get("shape"), controls, thresholds),
        scale_sensitivity(get("scale"), "aDR", "2a scale sensitivity (reset)", thresholds),
        scale_sensitivity(recurrent, "aProp", "2b scale sensitivity (recurrence)", thresholds),
        sparse_activity(get("sparsity"), thresholds),
    ]


def claims_markdown(results: list[ClaimResult]) -> str:
    """The claims table as Markdown, with the method notes."""
    lines = ["# The paper's claims, checked against these results", "",
             "Selection on validation, reporting on test; ties broken by cell id; diverged cells count as 0.", "",
             "| claim | metric | how | threshold | measured | spread | verdict |", "|---|---|---|---|---|---|---|"]
    for r in results:
        row = asdict(r)
        row.pop("numbers")
        lines.append("| " + " | ".join(str(row[k]).replace("|", "/") for k in row) + " |")
    return "\n".join(lines) + "\n"


def headline_metrics(results: list[ClaimResult]) -> dict[str, Any]:
    """The study's headline numbers for ``dvc metrics``; a claim that did not run gives nulls.

    best_test_accuracy[shape]: test accuracy of the best-validation cell of each shape (mean over
    seeds; SG shapes from the ``shape`` study, constant and true gradient from the controls);
    scale_sensitivity_gap: sCtl − aDR (reset) and aCtl − aProp (recurrence) as in claims 2a/2b;
    critical_activity: the lowest mean spikes per neuron per input whose accuracy holds (claim 3).
    """
    by_claim = {r.claim.split()[0]: r.numbers for r in results}
    shapes = ("superspike", "sigmoid", "esser", "constant", "true")
    best = by_claim.get("1", {}).get("best_test_accuracy", {})
    return {
        "best_test_accuracy": {shape: best.get(shape) for shape in shapes},
        "scale_sensitivity_gap": {"reset": by_claim.get("2a", {}).get("gap"),
                                  "recurrence": by_claim.get("2b", {}).get("gap")},
        "critical_activity": by_claim.get("3", {}).get("critical_activity"),
    }
