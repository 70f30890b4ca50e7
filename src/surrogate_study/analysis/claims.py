"""The paper's claims decided by seed statistics: pass / fail / inconclusive / not-run.

Every check selects on the validation split and reports on the test split, *per seed*
(:mod:`surrogate_study.analysis.seedstats`): a selection gives one value per seed x_s, summarised as
mean ± SD over the n seeds. A claimed difference d of two such summaries is decided against
its threshold θ and its uncertainty k·SE_d (k = ``uncertainty_k`` of the config's ``claims``
section, SE_d = sqrt(SD_a²/n_a + SD_b²/n_b)):

- "a exceeds b by θ":  pass when d − k·SE_d ≥ θ (so d exceeds θ and its uncertainty); fail when d + k·SE_d < θ;
- "a and b within θ":  pass when |d| + k·SE_d ≤ θ; fail when |d| − k·SE_d > θ;
- otherwise, and always with fewer than 3 seeds, ``inconclusive`` (never pass).

A claim with several parts fails when one part fails, else is inconclusive when one is.
Diverged cells never win a selection; a seed whose cells all diverged counts as 0.

Claims (thresholds from the workflow config's ``claims`` section):

1. shape robustness, one row per dataset run — per shape and seed, the best cell's test accuracy
   (:func:`shape_selection`, the values of Fig. 3c): the spread between the best and the worst SG shape
   ({superspike, sigmoid, esser}, which must all have run, and any other shape of the study, e.g. a
   plugin's) must be within ``shape_spread_max``, and the worst SG shape must exceed the better control
   (constant, true gradient) by ``control_margin_min``. The datasets of the ``shape`` study (Randman) are
   read there, with the control studies; every other dataset of the ``tasks`` study (Fig. 4) from its cells
   there, best over η and architectures; such a dataset without control cells is decided on the spread
   alone (the row says so).
2a. scale sensitivity, reset — two rows on the ``scale`` study:
   (top cells) per variant and seed, the mean test accuracy of the ``top_cells`` best cells
   over the whole β × η grid (Fig. 5c); sCtl − aDR must exceed ``sensitivity_gap_min`` and
   |sCtl − aCtl| stay within ``control_gap_max``;
   (β-resolved) each variant at its best η (highest mean validation accuracy over seeds and β),
   per seed the mean test accuracy over β ≥ ``large_beta`` (the drop of Fig. 5's accuracy-vs-β
   panel); the same two comparisons.
2b. scale sensitivity, recurrence — top cells as in 2a (Fig. 5e), aCtl − aProp and
   |sCtl − aCtl| in the ``scale_recurrent`` study, one hidden layer.
3. sparse activity, one row per dataset of the ``sparsity`` study (Randman first) — lower bound on; per ν_up
   and seed the best cell's test accuracy and activity. The critical activity is where the seed-mean accuracy
   crosses ``plateau_fraction`` × best, interpolated in log activity between the sweep's levels, with a 95 %
   bootstrap interval over seeds (:mod:`surrogate_study.analysis.critical`); the claim is that the sparsest level
   below it has collapsed:
   best − sparsest ≥ (1 − ``collapse_fraction``) × best, decided as a difference over seeds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional

import pandas as pd

from surrogate_study.analysis.critical import critical_activity_interval
from surrogate_study.analysis.seedstats import (MIN_SEEDS, Stat, best_per_seed, combine, decide_at_least,
                                                decide_at_most, difference_se, top_mean_per_seed)
from surrogate_study.plan.shapes import CONTROL_SHAPES, display_order

#: The paper's surrogate-gradient shapes: claim 1 needs all three (other shapes of the study join them).
SG_SHAPES = ("superspike", "sigmoid", "esser")
DEFAULT_UNCERTAINTY_K = 2.0


@dataclass
class ClaimResult:
    """One row of the claims table."""

    claim: str
    metric: str
    how: str
    threshold: str
    value: str
    spread: str
    verdict: str  # pass | fail | inconclusive | not-run
    numbers: dict[str, Any] = field(default_factory=dict)  # the measured values as numbers (metrics.json)


def _num(value: float) -> Optional[float]:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _stats(per_seed: pd.DataFrame, key: str) -> dict[str, Stat]:
    return {name: Stat.of(group["test"]) for name, group in per_seed.groupby(key, sort=False)}


def _spread_text(stats: Mapping[str, Stat]) -> str:
    return "; ".join(f"{name} {stat.text()}" for name, stat in stats.items())


def _diff_text(name: str, a: Stat, b: Stat, k: float) -> str:
    se = difference_se(a, b)
    u = "–" if math.isnan(se) else f"{k * se:.3f}"
    return f"{name} {a.mean - b.mean:+.3f} (±{u} = {k:g}·SE)"


def _part(a: Stat, b: Stat, threshold: float, direction: str, verdict: str) -> dict[str, Any]:
    """One part of a claim as numbers: the difference a − b (|a − b| for "at most"), its SE, threshold and verdict."""
    difference = a.mean - b.mean
    return {"value": float(abs(difference) if direction == "at most" else difference),
            "se": _num(difference_se(a, b)), "threshold": float(threshold), "direction": direction, "verdict": verdict}


def _insufficient(stats: Mapping[str, Stat]) -> str:
    few = [f"{name} n = {s.n}" for name, s in stats.items() if s.n < MIN_SEEDS]
    return f"; fewer than {MIN_SEEDS} seeds: {', '.join(few)}" if few else ""


def shape_selection(shape_table: pd.DataFrame, controls: pd.DataFrame) -> pd.DataFrame:
    """Per shape and seed, the best-validation cell (SG shapes from the ``shape`` study, controls from ``controls``).

    Columns include shape, seed, cell, test. Claim 1 and Fig. 3c both read exactly this.
    """
    sg = shape_table[~shape_table["shape"].isin(CONTROL_SHAPES)]
    ctrl = controls[controls["shape"].isin(CONTROL_SHAPES)]
    picked = best_per_seed(pd.concat([sg, ctrl], ignore_index=True), ["shape"])
    order = {s: i for i, s in enumerate(display_order(picked["shape"]))}
    return picked.sort_values(["shape", "seed"], key=lambda c: c.map(order) if c.name == "shape" else c,
                              kind="stable").reset_index(drop=True)


def _label(claim: str, dataset: Optional[str]) -> str:
    return claim if dataset is None else f"{claim} [{dataset}]"


def shape_robustness(shape_table: pd.DataFrame, controls: pd.DataFrame, t: Mapping[str, Any],
                     dataset: Optional[str] = None, controls_required: bool = True,
                     source: str = "shape study") -> ClaimResult:
    """Claim 1 on one dataset's cells. ``controls_required`` False: the margin is taken against the control
    shapes present, and without any control cell the claim is decided on the spread alone."""
    k = float(t.get("uncertainty_k", DEFAULT_UNCERTAINTY_K))
    stats = _stats(shape_selection(shape_table, controls), "shape")
    label = _label("1 shape robustness", dataset)
    sg_names = [s for s in display_order([*SG_SHAPES, *stats]) if s not in CONTROL_SHAPES]
    metric = f"spread of best test accuracy over {'/'.join(sg_names)}; SG − control margin"
    how = (f"{source}: best cell per shape and seed selected on validation; mean ± SD over seeds; "
           f"decided at {k:g}·SE")
    threshold = f"spread ≤ {t['shape_spread_max']:g}; margin ≥ {t['control_margin_min']:g}"
    no_controls = not controls_required and not any(s in stats for s in CONTROL_SHAPES)
    needed = SG_SHAPES + (CONTROL_SHAPES if controls_required else ())
    missing = [s for s in needed if s not in stats]
    if missing:
        return ClaimResult(label, metric, how, threshold, f"missing: {', '.join(missing)}", "–", "not-run")
    sg = {s: stats[s] for s in sg_names}
    top, bottom = max(sg, key=lambda s: sg[s].mean), min(sg, key=lambda s: sg[s].mean)
    spread_verdict = decide_at_most(sg[top], sg[bottom], t["shape_spread_max"], k)
    spread = sg[top].mean - sg[bottom].mean
    value = _diff_text(f"spread ({top} − {bottom})", sg[top], sg[bottom], k) + f" → {spread_verdict}; "
    verdicts = [spread_verdict]
    numbers = {"best_test_accuracy": {s: _num(st.mean) for s, st in stats.items()},
               "best_test_accuracy_sd": {s: _num(st.sd) for s, st in stats.items()},
               "seeds": {s: st.n for s, st in stats.items()},
               "shape_spread": float(spread), "control_margin": None,
               "parts": {"spread": _part(sg[top], sg[bottom], t["shape_spread_max"], "at most", spread_verdict)}}
    if no_controls:
        value += "margin not checked: no control cells (constant, true gradient) on this dataset"
    else:
        control = max((s for s in CONTROL_SHAPES if s in stats), key=lambda s: stats[s].mean)
        margin_verdict = decide_at_least(sg[bottom], stats[control], t["control_margin_min"], k)
        verdicts.append(margin_verdict)
        numbers["control_margin"] = float(sg[bottom].mean - stats[control].mean)
        numbers["parts"]["margin"] = _part(sg[bottom], stats[control], t["control_margin_min"], "at least",
                                           margin_verdict)
        value += _diff_text(f"margin ({bottom} − {control})", sg[bottom], stats[control], k) + f" → {margin_verdict}"
    value += _insufficient(stats)
    return ClaimResult(label, metric, how, threshold, value, _spread_text(stats), combine(verdicts), numbers)


def _datasets(*tables: pd.DataFrame) -> list[str]:
    """Dataset names of the tables, Randman first, then sorted."""
    names = {d for table in tables if not table.empty and "dataset" in table for d in table["dataset"].dropna()}
    return sorted(names, key=lambda d: (d != "randman", d))


def _on(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return table if table.empty or "dataset" not in table else table[table["dataset"] == dataset]


def shape_robustness_per_dataset(shape_table: pd.DataFrame, controls: pd.DataFrame, tasks: pd.DataFrame,
                                 t: Mapping[str, Any]) -> list[ClaimResult]:
    """Claim 1, one row per dataset: the ``shape`` study's datasets, then the other datasets of ``tasks``."""
    own = _datasets(shape_table)
    rows = [shape_robustness(_on(shape_table, d), _on(controls, d), t, d) for d in own]
    for dataset in _datasets(tasks):
        if dataset not in own:
            cells = _on(tasks, dataset)
            rows.append(shape_robustness(cells, pd.concat([_on(controls, dataset), cells], ignore_index=True), t,
                                         dataset, controls_required=False,
                                         source="tasks study (Fig. 4), best over η and architectures"))
    return rows or [shape_robustness(shape_table, controls, t)]


def top_cells_selection(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """Per variant and seed, the mean test accuracy of the ``top`` best-validation cells over the whole grid
    (β × η …): columns axis:variant, seed, test, cells. Claims 2a/2b and Fig. 5c/e read exactly this."""
    return top_mean_per_seed(table, ["axis:variant"], top)


def best_lr(table: pd.DataFrame) -> pd.Series:
    """Each variant's best η: the highest mean validation accuracy over seeds and β (diverged = −1; ties: smaller η)."""
    ok = table["status"].eq("ok") & table["valid_accuracy"].notna()
    valid = table.assign(valid=table["valid_accuracy"].where(ok, -1.0).astype(float))
    means = valid.groupby(["axis:variant", "lr"])["valid"].mean().reset_index()
    means = means.sort_values(["axis:variant", "valid", "lr"], ascending=[True, False, True], kind="stable")
    return means.groupby("axis:variant").head(1).set_index("axis:variant")["lr"]


def beta_selection(table: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy vs β at each variant's best η (:func:`best_lr`), per seed: columns axis:variant, beta, lr,
    seed, test. Claim 2a (β-resolved) and Fig. 5's accuracy-vs-β panel read exactly this."""
    if table.empty:
        return pd.DataFrame(columns=["axis:variant", "beta", "lr", "seed", "test"])
    lrs = best_lr(table)
    at_best = table[table["lr"] == table["axis:variant"].map(lrs)]
    picked = best_per_seed(at_best, ["axis:variant", "beta"])
    return picked[["axis:variant", "beta", "lr", "seed", "test"]]


def _scale_verdict(label: str, stats: Mapping[str, Stat], sensitive: str, metric: str, how: str,
                   t: Mapping[str, Any]) -> ClaimResult:
    k = float(t.get("uncertainty_k", DEFAULT_UNCERTAINTY_K))
    threshold = f"gap ≥ {t['sensitivity_gap_min']:g}; control gap ≤ {t['control_gap_max']:g}"
    needed = ("sCtl", "aCtl", sensitive)
    missing = [v for v in needed if v not in stats]
    if missing:
        return ClaimResult(label, metric, how, threshold, f"missing: {', '.join(missing)}", "–", "not-run")
    control = "aCtl" if sensitive == "aProp" else "sCtl"
    gap_verdict = decide_at_least(stats[control], stats[sensitive], t["sensitivity_gap_min"], k)
    control_verdict = decide_at_most(stats["sCtl"], stats["aCtl"], t["control_gap_max"], k)
    value = (_diff_text(f"gap ({control} − {sensitive})", stats[control], stats[sensitive], k) + f" → {gap_verdict}; "
             + _diff_text("control gap (sCtl − aCtl)", stats["sCtl"], stats["aCtl"], k) + f" → {control_verdict}"
             + _insufficient({v: stats[v] for v in needed}))
    numbers = {"gap": float(stats[control].mean - stats[sensitive].mean),
               "gap_se": _num(difference_se(stats[control], stats[sensitive])),
               "control_gap": float(abs(stats["sCtl"].mean - stats["aCtl"].mean)),
               "parts": {"gap": _part(stats[control], stats[sensitive], t["sensitivity_gap_min"], "at least", gap_verdict),
                         "control gap": _part(stats["sCtl"], stats["aCtl"], t["control_gap_max"], "at most",
                                              control_verdict)}}
    return ClaimResult(label, metric, how, threshold, value, _spread_text({v: stats[v] for v in needed}),
                       combine([gap_verdict, control_verdict]), numbers)


def scale_sensitivity(table: pd.DataFrame, sensitive: str, label: str, t: Mapping[str, Any]) -> ClaimResult:
    """Claims 2a (top cells) and 2b: the ``top_cells`` best cells of each variant over the whole grid, per seed."""
    top = int(t["top_cells"])
    control = "aCtl" if sensitive == "aProp" else "sCtl"
    metric = f"{control} − {sensitive} and |sCtl − aCtl|, test accuracy of the best cells"
    how = f"per variant and seed: mean of the {top} best cells (by validation) over the whole β × η grid; mean ± SD over seeds"
    stats = _stats(top_cells_selection(table, top), "axis:variant") if not table.empty else {}
    return _scale_verdict(label, stats, sensitive, metric, how, t)


def scale_sensitivity_beta(table: pd.DataFrame, t: Mapping[str, Any]) -> ClaimResult:
    """Claim 2a, β-resolved: each variant at its best η, per seed the mean test accuracy over β ≥ large_beta."""
    large = float(t["large_beta"])
    metric = f"sCtl − aDR and |sCtl − aCtl|, test accuracy at β ≥ {large:g}"
    how = (f"per variant its best η (mean validation over seeds and β); per seed the mean test accuracy over "
           f"β ≥ {large:g}; mean ± SD over seeds")
    curve = beta_selection(table)
    curve = curve[curve["beta"] >= large]
    stats = {}
    if not curve.empty:
        per_seed = curve.groupby(["axis:variant", "seed"])["test"].mean().reset_index()
        stats = _stats(per_seed, "axis:variant")
    return _scale_verdict("2a scale sensitivity (reset, β-resolved)", stats, "aDR", metric, how, t)


def sparsity_selection(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, lower bound, ν_up) and seed the best-validation cell: columns dataset, axis:lower_bound, nu_up,
    seed, mean_spikes, test. Claim 3 and Fig. 6 read exactly this."""
    columns = ["dataset", "axis:lower_bound", "nu_up", "seed", "mean_spikes", "test"]
    if table.empty or "axis:lower_bound" not in table:
        return pd.DataFrame(columns=columns)
    cells = table[table["status"] == "ok"].dropna(subset=["mean_spikes", "test_accuracy"])
    cells = cells.assign(**{"axis:lower_bound": cells["axis:lower_bound"].astype(str)})
    return best_per_seed(cells, ["dataset", "axis:lower_bound", "nu_up"])[columns]


def sparse_activity_per_dataset(table: pd.DataFrame, t: Mapping[str, Any]) -> list[ClaimResult]:
    """Claim 3, one row per dataset of the sparsity study (Randman first)."""
    return [sparse_activity(_on(table, d), t, d) for d in _datasets(table)] or [sparse_activity(table, t)]


def sparse_activity(table: pd.DataFrame, t: Mapping[str, Any], dataset: Optional[str] = None) -> ClaimResult:
    """Claim 3 on the cells of one dataset (``dataset`` None: Randman when the table has it, else its first)."""
    k = float(t.get("uncertainty_k", DEFAULT_UNCERTAINTY_K))
    label = _label("3 sparse activity", dataset)
    plateau, collapse = t["plateau_fraction"], t["collapse_fraction"]
    metric = "critical mean spikes per neuron per input (lower bound on)"
    how = (f"per ν_up and seed the best cell; critical = where the seed-mean accuracy crosses {plateau:g} × best, "
           "interpolated in log activity, 95 % interval by bootstrap over seeds; "
           f"collapse: best − sparsest ≥ {1 - collapse:g} × best over seeds, decided at {k:g}·SE")
    threshold = f"plateau ≥ {plateau:g} × best, collapse ≤ {collapse:g} × best"
    selected = sparsity_selection(table)
    selected = selected[selected["axis:lower_bound"] == "on"]
    if not selected.empty:  # one dataset: Randman when the study has it (the others are Fig. 6's extra lines)
        datasets = sorted(selected["dataset"].unique())
        selected = selected[selected["dataset"] == ("randman" if "randman" in datasets else datasets[0])]
    if selected["nu_up"].nunique() < 3:
        return ClaimResult(label, metric, how, threshold,
                           f"{selected['nu_up'].nunique()} ν_up levels (need ≥ 3)", "–", "not-run")
    levels = {nu: (Stat.of(g["test"]), float(g["mean_spikes"].mean())) for nu, g in selected.groupby("nu_up")}
    activity = pd.Series({nu: a for nu, (_, a) in levels.items()})
    accuracy = pd.Series({nu: s.mean for nu, (s, _) in levels.items()})
    critical = critical_activity_interval(selected, plateau)
    assert critical is not None  # selected has finite points
    best_nu, sparsest_nu = accuracy.idxmax(), activity.idxmin()
    best, sparsest = levels[best_nu][0], levels[sparsest_nu][0]
    if critical.censored:
        verdict = "fail"  # the sparsest level still holds accuracy: no collapse inside the sweep
    else:
        verdict = decide_at_least(best, sparsest, (1 - collapse) * best.mean, k)
    value = (f"critical activity {critical.text()} spikes/neuron/input; best {best.text()} (ν_up={best_nu:g}); "
             f"sparsest {sparsest.text()} at {activity[sparsest_nu]:.3g} (ν_up={sparsest_nu:g}); "
             + _diff_text("best − sparsest", best, sparsest, k)
             + _insufficient({f"ν_up={nu:g}": s for nu, (s, _) in levels.items()}))
    spread = "; ".join(f"ν_up={nu:g}: {s.text()}" for nu, (s, _) in levels.items())
    numbers = {"critical_activity": critical.estimate, "critical_activity_interval": [critical.low, critical.high],
               "critical_activity_imprecise": critical.imprecise, "best_accuracy": float(best.mean)}
    return ClaimResult(label, metric, how, threshold, value, spread, verdict, numbers)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["cell", "dataset", "shape", "status", "valid_accuracy", "test_accuracy", "seed",
                                 "beta", "lr", "axis:variant", "n_hidden_layers", "mean_spikes", "nu_up"])


def claim_controls(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The control cells of claim 1 (and Fig. 3c): shape_control and sg_vs_true together."""
    return pd.concat([tables.get("shape_control", _empty()), tables.get("sg_vs_true", _empty())], ignore_index=True)


def one_layer(table: pd.DataFrame) -> pd.DataFrame:
    """The cells with the fewest hidden layers (claim 2b and Fig. 5e read one-layer recurrent networks)."""
    return table if table.empty else table[table["n_hidden_layers"] == table["n_hidden_layers"].min()]


def check_claims(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, Any]) -> list[ClaimResult]:
    """All claims from the aggregated study tables (missing tables give not-run rows)."""
    get = lambda name: tables.get(name, _empty())  # noqa: E731
    return [
        *shape_robustness_per_dataset(get("shape"), claim_controls(tables), get("tasks"), thresholds),
        scale_sensitivity(get("scale"), "aDR", "2a scale sensitivity (reset, top cells)", thresholds),
        scale_sensitivity_beta(get("scale"), thresholds),
        scale_sensitivity(one_layer(get("scale_recurrent")), "aProp", "2b scale sensitivity (recurrence)", thresholds),
        *sparse_activity_per_dataset(get("sparsity"), thresholds),
    ]


def claims_markdown(results: list[ClaimResult]) -> str:
    """The claims table as Markdown, with the method notes."""
    lines = ["# The paper's claims, checked against these results", "",
             "Selection on validation, reporting on test, per seed; mean ± SD over seeds; ties broken by cell id; "
             "diverged cells count as 0. A difference passes only when it exceeds its threshold and k·SE of the "
             f"difference; fewer than {MIN_SEEDS} seeds, or a difference inside the seed noise: inconclusive.", "",
             "| claim | metric | how | threshold | measured | spread | verdict |", "|---|---|---|---|---|---|---|"]
    for r in results:
        row = asdict(r)
        row.pop("numbers")
        lines.append("| " + " | ".join(str(row[k]).replace("|", "/") for k in row) + " |")
    return "\n".join(lines) + "\n"


def headline_metrics(results: list[ClaimResult]) -> dict[str, Any]:
    """The study's headline numbers for ``dvc metrics``; a claim that did not run gives nulls.

    best_test_accuracy[shape]: mean over seeds of the test accuracy of each seed's best-validation
    cell (SG shapes from the ``shape`` study, constant and true gradient from the controls; the five
    built-in shapes always, null when not run, and any other shape the study ran);
    best_test_accuracy_sd[shape], seeds[shape]: its SD (null for one seed) and number of seeds;
    scale_sensitivity_gap: sCtl − aDR (reset, top cells) and aCtl − aProp (recurrence), claims 2a/2b;
    critical_activity: the mean spikes per neuron per input where accuracy falls to the plateau fraction of the
    best (claim 3; :mod:`surrogate_study.analysis.critical`);
    shape_spread_by_dataset, critical_activity_by_dataset: the same per dataset row of claims 1 and 3;
    critical_activity_interval_by_dataset, critical_activity_imprecise_by_dataset: its 95 % bootstrap interval
    over seeds and whether that interval is wider than the sweep's step there.
    """
    by_claim: dict[str, dict[str, Any]] = {}
    for r in results:  # the first row of a claim (2a: the top-cells row) gives its headline number
        if r.numbers:
            by_claim.setdefault(r.claim.split()[0], r.numbers)
    one = by_claim.get("1", {})
    shapes = display_order([*SG_SHAPES, *CONTROL_SHAPES, *one.get("best_test_accuracy", {})])
    return {
        "best_test_accuracy": {s: one.get("best_test_accuracy", {}).get(s) for s in shapes},
        "best_test_accuracy_sd": {s: one.get("best_test_accuracy_sd", {}).get(s) for s in shapes},
        "seeds": {s: one.get("seeds", {}).get(s) for s in shapes},
        "scale_sensitivity_gap": {"reset": by_claim.get("2a", {}).get("gap"),
                                  "recurrence": by_claim.get("2b", {}).get("gap")},
        "critical_activity": by_claim.get("3", {}).get("critical_activity"),
        "shape_spread_by_dataset": _by_dataset(results, "1", "shape_spread"),
        "critical_activity_by_dataset": _by_dataset(results, "3", "critical_activity"),
        "critical_activity_interval_by_dataset": _by_dataset(results, "3", "critical_activity_interval"),
        "critical_activity_imprecise_by_dataset": _by_dataset(results, "3", "critical_activity_imprecise"),
    }


def _by_dataset(results: list[ClaimResult], claim: str, key: str) -> dict[str, Any]:
    """``numbers[key]`` of every per-dataset row of ``claim`` ("1 shape robustness [mnist]"), null if not run."""
    rows = {}
    for r in results:
        if r.claim.split()[0] == claim and r.claim.endswith("]"):
            rows[r.claim.rsplit("[", 1)[1][:-1]] = r.numbers.get(key)
    return rows
