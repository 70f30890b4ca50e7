"""Activity regularizers on hidden spike counts.

With ζ_{b,i} = Σ_n S_{b,i}[n], the spike count of hidden neuron i for input b, and
p = 2 (``l2``) or p = 1 (``l1``):

    lower bound (per neuron, against silent units)
        R_low = λ_low · mean_{b,i} [ν_low − ζ_{b,i}]₊^p
    upper bound (population, for sparse activity)
        R_up  = λ_up · mean_b [ (mean_i ζ_{b,i}) − ν_up ]₊^p

The total penalty sums both bounds over all hidden layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

import torch
from torch import Tensor

NORMS: dict[str, int] = {"l1": 1, "l2": 2}


@dataclass(frozen=True)
class ActivityBound:
    """Strength λ ≥ 0, threshold ν ≥ 0 and norm (``l1`` or ``l2``) of one bound."""

    strength: float = 0.0
    threshold: float = 0.0
    norm: str = "l2"

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"unknown regularizer norm {self.norm!r}; allowed: {', '.join(NORMS)}")

    @property
    def power(self) -> int:
        return NORMS[self.norm]


def spike_counts(spikes: Tensor) -> Tensor:
    """ζ [batch, neurons] from spikes [batch, time, neurons]."""
    return spikes.sum(dim=1)


Scalar = Union[float, Tensor]


def _power(excess: Tensor, power: Scalar) -> Tensor:
    """excess^p for p ∈ {1, 2}; ``power`` may be a tensor of per-cell values."""
    if isinstance(power, Tensor):
        return torch.where(power == 2, excess.square(), excess)
    return excess.square() if power == 2 else excess


def lower_bound(counts: Tensor, strength: Scalar, threshold: Scalar, power: Scalar) -> Tensor:
    """λ_low [ν_low − ζ]₊^p elementwise; the penalty is its mean over inputs and neurons."""
    return strength * _power(torch.relu(threshold - counts), power)


def upper_bound(counts: Tensor, strength: Scalar, threshold: Scalar, power: Scalar) -> Tensor:
    """λ_up [mean_i ζ − ν_up]₊^p per input (neurons are the last dimension)."""
    return strength * _power(torch.relu(counts.mean(dim=-1, keepdim=True) - threshold), power)


def lower_bound_penalty(counts: Tensor, bound: ActivityBound) -> Tensor:
    """λ_low · mean_{b,i} [ν_low − ζ_{b,i}]₊^p."""
    return lower_bound(counts, bound.strength, bound.threshold, bound.power).mean()


def upper_bound_penalty(counts: Tensor, bound: ActivityBound) -> Tensor:
    """λ_up · mean_b [mean_i ζ_{b,i} − ν_up]₊^p."""
    return upper_bound(counts, bound.strength, bound.threshold, bound.power).mean()


def activity_penalty(
    hidden_spikes: Iterable[Tensor], lower: ActivityBound, upper: ActivityBound
) -> Tensor:
    """Σ over hidden layers of R_low + R_up; a zero tensor when both strengths are 0."""
    total: Tensor = torch.zeros(())
    for spikes in hidden_spikes:
        counts = spike_counts(spikes)
        total = total.to(counts.device)
        if lower.strength:
            total = total + lower_bound_penalty(counts, lower)
        if upper.strength:
            total = total + upper_bound_penalty(counts, upper)
    return total
