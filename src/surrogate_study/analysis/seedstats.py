"""Seed statistics: per-seed selections of grid cells, mean ± SD over seeds, and decisions on differences.

Cells of one study that differ only in ``seed`` are the same grid point trained from different
weight seeds. Every selection here is made *per seed* (on validation, reported on test) and the
per-seed values x_1 … x_n are then summarised as

    mean = (1/n) Σ_s x_s,    SD = sqrt( Σ_s (x_s − mean)² / (n − 1) ),    SE = SD / sqrt(n).

A difference d = mean_a − mean_b of two such summaries has the (Welch) standard error

    SE_d = sqrt( SD_a² / n_a + SD_b² / n_b ),

and a claimed difference is decided against its threshold θ and its uncertainty k × SE_d
(:func:`decide_at_least`, :func:`decide_at_most`): it passes only when the whole interval
d ± k·SE_d lies on the claimed side of θ, fails when the whole interval lies on the other side,
and is inconclusive when the interval straddles θ. With fewer than :data:`MIN_SEEDS` seeds on
either side the verdict is ``inconclusive``, never ``pass``.

Diverged cells (status ≠ ok, or no validation accuracy) never win a selection; where a seed
has nothing but diverged cells its value is 0 (a failure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

MIN_SEEDS = 3  # fewer seeds than this decide nothing


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Cells with ``valid`` (diverged: −1, never first) and ``test`` (diverged: 0), best validation first.

    Ties are broken by cell id, so a selection is deterministic.
    """
    ok = table["status"].eq("ok") & table["valid_accuracy"].notna()
    ranked = table.assign(valid=table["valid_accuracy"].where(ok, -1.0).astype(float),
                          test=table["test_accuracy"].where(ok, 0.0).fillna(0.0).astype(float))
    return ranked.sort_values(["valid", "cell"], ascending=[False, True], kind="stable")


def best_per_seed(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group ``by`` and seed, the best-validation cell: its row plus ``valid`` and ``test``.

    ``test`` is that cell's test accuracy (the value reported for the seed; 0 if all diverged).
    """
    keys = [*by, "seed"]
    if table.empty:
        return pd.DataFrame(columns=[*table.columns, "valid", "test"])
    best = _ranked(table).groupby(keys, sort=True, dropna=False).head(1)
    return best.sort_values(keys, kind="stable").reset_index(drop=True)


def top_mean_per_seed(table: pd.DataFrame, by: Sequence[str], top: int) -> pd.DataFrame:
    """Per group ``by`` and seed, the mean test accuracy of the ``top`` best-validation cells (columns by…, seed, test,
    cells = how many cells entered the mean)."""
    keys = [*by, "seed"]
    if table.empty:
        return pd.DataFrame(columns=[*keys, "test", "cells"])
    chosen = _ranked(table).groupby(keys, sort=True, dropna=False).head(top)
    return (chosen.groupby(keys, sort=True, dropna=False)["test"].agg(test="mean", cells="count")
            .reset_index())


def summarize(per_seed: pd.DataFrame, by: Sequence[str], value: str = "test") -> pd.DataFrame:
    """Mean, SD (ddof = 1; NaN for one seed) and n over seeds of ``value`` per group ``by``.

    Columns: by…, mean, sd, n (the error bars of a figure are ``sd``).
    """
    if per_seed.empty:
        return pd.DataFrame(columns=[*by, "mean", "sd", "n"])
    grouped = per_seed.groupby(list(by), sort=True, dropna=False)[value] if by else None
    if grouped is None:
        values = per_seed[value].astype(float)
        return pd.DataFrame([{"mean": values.mean(), "sd": values.std(ddof=1), "n": len(values)}])
    return grouped.agg(mean="mean", sd=lambda v: v.astype(float).std(ddof=1), n="count").reset_index()


@dataclass(frozen=True)
class Stat:
    """mean ± SD over n seeds of one selection."""

    mean: float
    sd: float  # NaN for one seed
    n: int

    @classmethod
    def of(cls, values: Sequence[float] | pd.Series) -> "Stat":
        series = pd.Series(values, dtype=float).dropna()
        return cls(float(series.mean()) if len(series) else math.nan,
                   float(series.std(ddof=1)) if len(series) > 1 else math.nan, len(series))

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n > 1 else math.nan

    def text(self) -> str:
        if self.n == 0:
            return "–"
        if self.n == 1:
            return f"{self.mean:.3f} (n = 1 seed)"
        return f"{self.mean:.3f} ± {self.sd:.3f} (n = {self.n} seeds)"


def difference_se(a: Stat, b: Stat) -> float:
    """Welch standard error of mean_a − mean_b: sqrt(SD_a²/n_a + SD_b²/n_b); NaN with fewer than 2 seeds."""
    if a.n < 2 or b.n < 2:
        return math.nan
    return math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n)


def _too_few(*stats: Stat) -> bool:
    return any(s.n < MIN_SEEDS for s in stats)


def decide_at_least(a: Stat, b: Stat, threshold: float, k: float) -> str:
    """Verdict on "mean_a − mean_b ≥ threshold" (a clearly above b).

    pass: d − k·SE_d ≥ θ (the difference exceeds its threshold by more than its uncertainty, hence
    also d ≥ θ and d > k·SE_d); fail: d + k·SE_d < θ (even the upper end stays below the threshold);
    inconclusive otherwise (the seeds overlap the threshold), and always with fewer than MIN_SEEDS
    seeds on either side.
    """
    if _too_few(a, b):
        return "inconclusive"
    d, u = a.mean - b.mean, k * difference_se(a, b)
    if d - u >= threshold and d > u:
        return "pass"
    if d + u < threshold:
        return "fail"
    return "inconclusive"


def decide_at_most(a: Stat, b: Stat, threshold: float, k: float) -> str:
    """Verdict on "|mean_a − mean_b| ≤ threshold" (a and b close).

    pass: |d| + k·SE_d ≤ θ (close even at the far end of the uncertainty);
    fail: |d| − k·SE_d > θ (apart even at the near end);
    inconclusive otherwise, and always with fewer than MIN_SEEDS seeds on either side.
    """
    if _too_few(a, b):
        return "inconclusive"
    d, u = abs(a.mean - b.mean), k * difference_se(a, b)
    if d + u <= threshold:
        return "pass"
    if d - u > threshold:
        return "fail"
    return "inconclusive"


def combine(verdicts: Sequence[str]) -> str:
    """One verdict from the parts of a claim: any fail → fail; else any inconclusive → inconclusive; else pass."""
    if "fail" in verdicts:
        return "fail"
    if "inconclusive" in verdicts:
        return "inconclusive"
    return "pass"
