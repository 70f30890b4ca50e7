"""The critical activity of a sparsity sweep: interpolated crossing, bootstrap interval over seeds, and a
headline number that does not jump a decade between runs that differ only inside the seed noise."""

import math

import pandas as pd
import pytest

from surrogate_study.analysis.claims import check_claims, headline_metrics
from surrogate_study.analysis.critical import critical_activity_interval

from claim_tables import T, all_tables, cells


def sweep(levels, offsets=(0.0, 0.0, 0.0)):
    """Per-seed rows of one sweep: levels = [(ν_up, activity, accuracy)]; seed s adds offsets[s] to accuracy."""
    return pd.DataFrame([{"nu_up": nu, "seed": s, "mean_spikes": a, "test": y + d}
                         for nu, a, y in levels for s, d in enumerate(offsets)])


def test_the_crossing_is_interpolated_in_log_activity():
    points = sweep([(0.001, 0.01, 0.3), (0.01, 0.1, 0.7), (0.1, 1.0, 0.95), (1.0, 2.0, 1.0)])
    result = critical_activity_interval(points, 0.9)
    # cut 0.9; it lies between 0.1 spikes (0.7) and 1.0 (0.95): log a* = log 0.1 + (0.9 − 0.7)/(0.95 − 0.7) log 10
    assert result.estimate == pytest.approx(0.1 * 10 ** (0.2 / 0.25))
    assert not result.censored and result.spacing == pytest.approx(10.0)
    assert result.low == pytest.approx(result.estimate) == pytest.approx(result.high)  # identical seeds
    assert not result.imprecise and "95 % interval" in result.text()


def test_a_sweep_that_holds_to_its_sparsest_level_is_censored():
    result = critical_activity_interval(sweep([(0.01, 0.05, 0.92), (0.1, 0.5, 0.95), (1.0, 1.0, 0.96)]), 0.9)
    assert result.censored and result.imprecise and result.estimate == pytest.approx(0.05)
    assert result.text().startswith("≤ 0.05")


def test_scattered_seeds_widen_the_interval_until_it_is_called_imprecise():
    levels = [(0.001, 0.01, 0.3), (0.01, 0.1, 0.7), (0.1, 1.0, 0.95), (1.0, 2.0, 1.0)]
    tight = critical_activity_interval(sweep(levels, (0.0, -0.01, 0.01)), 0.9)
    assert tight.low < tight.estimate < tight.high and not tight.imprecise
    # seeds that disagree about which level holds: resamples cross between 0.01 and 0.1 spikes, or above 1.0
    noisy = pd.DataFrame([{"nu_up": nu, "seed": s, "mean_spikes": a, "test": y}
                          for nu, a, ys in ((0.001, 0.01, (0.3, 0.3, 0.3)), (0.01, 0.1, (0.7, 0.95, 0.45)),
                                            (0.1, 1.0, (0.95, 0.7, 0.99)), (1.0, 2.0, (1.0, 1.0, 1.0)))
                          for s, y in enumerate(ys)])
    result = critical_activity_interval(noisy, 0.9)
    assert result.high / result.low > result.spacing and result.imprecise
    assert result.text().startswith("imprecise: 95 % interval")
    again = critical_activity_interval(noisy, 0.9)
    assert (again.low, again.high) == (result.low, result.high)  # a fixed generator: same tables, same interval


def mnist_like(middle_accuracies):
    """A four-level sweep like the default run's MNIST-5k (lower bound on): ν_up = 0.1 sits near the cut
    (0.9 × 0.935 = 0.842); its three seeds are given."""
    rows = []
    for nu, spikes, accuracies in ((0.001, 0.0066, (0.24, 0.25, 0.27)), (0.01, 0.014, (0.40, 0.35, 0.28)),
                                   (0.1, 0.077, middle_accuracies), (1.0, 0.69, (0.936, 0.936, 0.934))):
        rows += [{"axis:lower_bound": "on", "nu_up": nu, "mean_spikes": spikes, "test_accuracy": y, "seed": s}
                 for s, y in enumerate(accuracies)]
    return cells(rows)


def test_runs_that_differ_inside_the_seed_noise_give_overlapping_intervals_and_the_same_verdict():
    """Two runs whose ν_up = 0.1 level differs by less than its seed SD (0.863 ± 0.057 against 0.817 ± 0.081,
    as two machines measured): the old estimate, the lowest level whose mean holds, jumped a decade between them
    (0.077 → 0.69 spikes); the interpolated crossings' intervals overlap and the verdict is the same."""
    first, second = mnist_like((0.890, 0.902, 0.798)), mnist_like((0.870, 0.720, 0.860))
    old = []
    for table in (first, second):
        means = table.groupby("nu_up")[["mean_spikes", "test_accuracy"]].mean()
        old.append(means[means["test_accuracy"] >= 0.9 * means["test_accuracy"].max()]["mean_spikes"].min())
    assert old[1] / old[0] > 5  # the jump this estimator removes
    results = [next(r for r in check_claims(all_tables(sparsity=t), T) if r.claim.startswith("3"))
               for t in (first, second)]
    (low1, high1), (low2, high2) = (r.numbers["critical_activity_interval"] for r in results)
    assert low1 <= results[0].numbers["critical_activity"] <= high1
    assert low2 <= results[1].numbers["critical_activity"] <= high2
    assert max(low1, low2) <= min(high1, high2), "the two intervals overlap"
    assert results[0].numbers["critical_activity"] / results[1].numbers["critical_activity"] < math.sqrt(10)
    assert results[0].verdict == results[1].verdict == "pass"
    metrics = headline_metrics(check_claims(all_tables(sparsity=first), T))
    assert metrics["critical_activity_interval_by_dataset"] == {"randman": [low1, high1]}
    assert metrics["critical_activity_imprecise_by_dataset"]["randman"] == results[0].numbers[
        "critical_activity_imprecise"]
