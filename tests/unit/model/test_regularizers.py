"""Activity regularizers on hand-made spike tensors."""

import pytest
import torch

from surrogate_study.model.regularizers import (
    ActivityBound,
    activity_penalty,
    lower_bound_penalty,
    spike_counts,
    upper_bound_penalty,
)


def spikes_with_counts(counts: list[list[int]], steps: int = 10) -> torch.Tensor:
    """Spike tensor [batch, steps, neurons] whose neuron (b, i) fires counts[b][i] times."""
    batch, neurons = len(counts), len(counts[0])
    spikes = torch.zeros(batch, steps, neurons)
    for b, row in enumerate(counts):
        for i, count in enumerate(row):
            spikes[b, :count, i] = 1.0
    return spikes


COUNTS = [[0, 2, 5], [1, 0, 0]]  # batch 2, neurons 3


def test_spike_counts():
    assert spike_counts(spikes_with_counts(COUNTS)).tolist() == COUNTS


def test_lower_bound_l2_and_l1():
    counts = spike_counts(spikes_with_counts(COUNTS))
    # [1 − ζ]₊ = [[1, 0, 0], [0, 1, 1]] → mean of squares 3/6, mean 3/6 as well
    assert lower_bound_penalty(counts, ActivityBound(100.0, 1.0, "l2")).item() == pytest.approx(50.0)
    # threshold 2: [[2, 0, 0], [1, 2, 2]] → squares 13/6, plain 7/6
    assert lower_bound_penalty(counts, ActivityBound(3.0, 2.0, "l2")).item() == pytest.approx(3 * 13 / 6)
    assert lower_bound_penalty(counts, ActivityBound(3.0, 2.0, "l1")).item() == pytest.approx(3 * 7 / 6)


def test_upper_bound_l2_and_l1():
    counts = spike_counts(spikes_with_counts(COUNTS))
    # population means per input: 7/3 and 1/3; threshold 1 → [4/3, 0]
    assert upper_bound_penalty(counts, ActivityBound(2.0, 1.0, "l2")).item() == pytest.approx(2 * (16 / 9) / 2)
    assert upper_bound_penalty(counts, ActivityBound(2.0, 1.0, "l1")).item() == pytest.approx(2 * (4 / 3) / 2)
    assert upper_bound_penalty(counts, ActivityBound(2.0, 3.0, "l2")).item() == 0.0


def test_activity_penalty_sums_layers_and_both_bounds():
    layer1, layer2 = spikes_with_counts(COUNTS), spikes_with_counts([[3, 3], [0, 1]])
    lower, upper = ActivityBound(100.0, 1.0, "l2"), ActivityBound(2.0, 1.0, "l2")
    expected = sum(
        lower_bound_penalty(spike_counts(s), lower) + upper_bound_penalty(spike_counts(s), upper)
        for s in (layer1, layer2)
    )
    total = activity_penalty([layer1, layer2], lower, upper)
    assert total.item() == pytest.approx(expected.item())
    assert total.item() > 0
    assert activity_penalty([layer1], ActivityBound(0.0), ActivityBound(0.0)).item() == 0.0


def test_penalty_gradient_reaches_silent_neurons_only_for_lower_bound():
    spikes = spikes_with_counts(COUNTS).requires_grad_(True)
    lower_bound_penalty(spike_counts(spikes), ActivityBound(1.0, 1.0, "l2")).backward()
    grad_per_neuron = spikes.grad.sum(dim=1)
    assert (grad_per_neuron[torch.tensor(COUNTS) == 0] < 0).all()
    assert (grad_per_neuron[torch.tensor(COUNTS) >= 1] == 0).all()


def test_unknown_norm_is_rejected():
    with pytest.raises(ValueError, match="unknown regularizer norm 'l3'"):
        ActivityBound(1.0, 1.0, "l3")
