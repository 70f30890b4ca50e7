"""Critical activity of a sparsity sweep: where accuracy falls to a fraction of the best, with a 95 % interval.

Per sweep level ℓ (a ν_up value) and seed s the sweep gives an activity a_ℓs (mean hidden spikes per neuron and
input) and an accuracy y_ℓs. From the seed means ā_ℓ, ȳ_ℓ and the cut c = f · max_ℓ ȳ_ℓ (f: the plateau fraction),
the critical activity is where ȳ crosses c, interpolated linearly in log activity between the sparsest level that
still holds (ȳ_h ≥ c) and the next sparser level (ȳ_l < c):

    log a* = log ā_l + (c − ȳ_l) / (ȳ_h − ȳ_l) · (log ā_h − log ā_l).

Where no sparser level falls below the cut, the sweep holds accuracy down to its sparsest level: a* is that
level's activity, marked ``censored`` (the crossing lies below the sweep). The 95 % interval is the 2.5th and 97.5th
percentile of a* over bootstrap resamples of the seeds (drawn with replacement, the same seeds at every level;
fixed generator, so the same tables give the same interval). The estimate is ``imprecise`` when the interval spans
more than the sweep's spacing around it (the log distance between ā_l and ā_h): then the sweep cannot place the
crossing within one of its steps, and the claim report says so instead of printing one value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

#: Bootstrap resamples of the seeds.
RESAMPLES = 2000


@dataclass(frozen=True)
class CriticalActivity:
    """The crossing a* with its 95 % bootstrap interval [low, high]; ``spacing`` is the sweep's step around it
    (as a factor of activity)."""

    estimate: float
    low: float
    high: float
    censored: bool
    imprecise: bool
    spacing: float
    seeds: int

    def text(self) -> str:
        """One line for the claims report."""
        interval = f"95 % interval {self.low:.3g}–{self.high:.3g} over {self.seeds} seeds"
        if self.censored:
            return f"≤ {self.estimate:.3g} (accuracy holds down to the sweep's sparsest level; {interval})"
        if self.imprecise:
            return (f"imprecise: {interval}, wider than the sweep's step there (×{self.spacing:.3g}); "
                    f"interpolated {self.estimate:.3g}")
        return f"{self.estimate:.3g} ({interval})"


def _crossing(activity: np.ndarray, accuracy: np.ndarray, fraction: float) -> tuple[float, bool, float]:
    """(a*, censored, spacing factor) for seed-mean activity and accuracy per level."""
    order = np.argsort(activity, kind="stable")
    activity, accuracy = activity[order], accuracy[order]
    cut = fraction * accuracy.max()
    holding = np.flatnonzero(accuracy >= cut)
    h = int(holding[0])  # the sparsest level that holds
    if h == 0:
        return float(activity[0]), True, math.nan
    low = h - 1
    log_l, log_h = math.log(max(activity[low], 1e-12)), math.log(max(activity[h], 1e-12))
    weight = (cut - accuracy[low]) / (accuracy[h] - accuracy[low])
    return float(math.exp(log_l + weight * (log_h - log_l))), False, float(math.exp(log_h - log_l))


def critical_activity_interval(points: pd.DataFrame, fraction: float, level: str = "nu_up", seed: str = "seed",
                               activity: str = "mean_spikes", accuracy: str = "test",
                               resamples: int = RESAMPLES) -> Optional[CriticalActivity]:
    """The critical activity of one sweep from its per-seed rows (columns ``level``, ``seed``, ``activity``,
    ``accuracy``); None without finite points. Levels missing a resampled seed use the seeds they have."""
    points = points.dropna(subset=[activity, accuracy])
    if points.empty:
        return None
    wide_a = points.pivot_table(index=level, columns=seed, values=activity, aggfunc="mean")
    wide_y = points.pivot_table(index=level, columns=seed, values=accuracy, aggfunc="mean")
    a, y = wide_a.to_numpy(dtype=float), wide_y.to_numpy(dtype=float)
    estimate, censored, spacing = _crossing(np.nanmean(a, axis=1), np.nanmean(y, axis=1), fraction)
    seeds = a.shape[1]
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, seeds, seeds)
        mean_a, mean_y = np.nanmean(a[:, pick], axis=1), np.nanmean(y[:, pick], axis=1)
        if np.isnan(mean_a).any() or np.isnan(mean_y).any():
            continue
        draws.append(math.log(max(_crossing(mean_a, mean_y, fraction)[0], 1e-12)))
    low, high = (math.exp(q) for q in np.percentile(draws, [2.5, 97.5])) if draws else (estimate, estimate)
    imprecise = censored or high / low > spacing  # censored: no step to compare with (spacing NaN)
    return CriticalActivity(estimate, float(low), float(high), censored, bool(imprecise), spacing, seeds)
