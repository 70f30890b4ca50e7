"""Current-based leaky integrate-and-fire dynamics in discrete time.

For a hidden layer with feed-forward input current F[n] = W·S_in[n] (precomputed for
all steps with one matmul) and optional recurrent weights V:

    S[n]   = Θ(U[n] − ϑ)                                   spike, threshold ϑ = 1
    U[n+1] = (λ_mem U[n] + (1 − λ_mem) I[n]) · (1 − S[n])   leak, integrate, reset to 0
    I[n+1] = λ_syn I[n] + F[n] + V·S[n+1−d]                  synaptic current

with λ_mem = exp(−Δt/τ_mem), λ_syn = exp(−Δt/τ_syn), U[0] = I[0] = 0 and S[m] = 0 for m < 0. The
recurrent delay d (``LIFParameters.recurrent_delay``) is 2 by default, the authors' update order
(fzenke/spytorch's recurrent tutorial and fmi-basel/stork's ``RecurrentSpikingModel`` add V·S of the
previous step to the current they integrate): a spike of neuron p at step n reaches I at n + 2 and moves
the membrane of its targets first at step n + 3. d = 1 adds V·S[n] at once (I[n+1], membrane at n + 2),
as a feed-forward input F[n] = W·S_in[n] does.

``detach_reset`` stops the gradient through the reset factor (1 − S[n]);
``detach_recurrent`` stops the gradient through S[n] in V·S[n] while V still
receives its direct gradient (∂I/∂V = S).

The readout is a non-spiking leaky integrator with the same synaptic filter:

    U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I_out[n],   I_out[n+1] = λ_syn I_out[n] + F_out[n].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from surrogate_study.model.surrogates import Surrogate


#: Steps from a spike S[n] to the synaptic current I[n + d] it enters through V: 2 = the authors' code, 1 = at once.
RECURRENT_DELAYS: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class LIFParameters:
    """Time step and time constants (seconds), firing threshold and recurrent delay d (steps) of the LIF model."""

    dt: float = 1e-3
    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    tau_readout: float = 20e-3
    threshold: float = 1.0
    recurrent_delay: int = 2

    def __post_init__(self) -> None:
        if self.recurrent_delay not in RECURRENT_DELAYS:
            raise ValueError(f"recurrent_delay must be one of {RECURRENT_DELAYS}, got {self.recurrent_delay!r}")

    @property
    def decay_mem(self) -> float:
        """λ_mem = exp(−Δt/τ_mem)."""
        return math.exp(-self.dt / self.tau_mem)

    @property
    def decay_syn(self) -> float:
        """λ_syn = exp(−Δt/τ_syn)."""
        return math.exp(-self.dt / self.tau_syn)

    @property
    def decay_readout(self) -> float:
        """λ_out = exp(−Δt/τ_readout)."""
        return math.exp(-self.dt / self.tau_readout)


class LayerTrace(NamedTuple):
    """Spikes S[n] and membrane potentials U[n] of one layer, both [batch, time, neurons] (None where the
    caller asked the fused core not to keep them), and (when the layer computed them along) its spike counts
    ζ = Σ_n S[n] [batch, neurons]."""

    spikes: Optional[Tensor]
    membrane: Optional[Tensor]
    counts: Optional[Tensor] = None

    def spike_counts(self) -> Tensor:
        """ζ [..., neurons]: the counts computed along, else the sum of the spikes over time."""
        if self.counts is not None:
            return self.counts
        assert self.spikes is not None, "a trace keeps its spikes or its counts"
        return self.spikes.sum(dim=-2)


def lif_layer_dynamics(
    input_current: Tensor,
    params: LIFParameters,
    surrogate: Surrogate,
    recurrent_weight: Optional[Tensor] = None,
    detach_reset: bool = True,
    detach_recurrent: bool = False,
) -> LayerTrace:
    """Run the LIF recurrence over time for a precomputed feed-forward current F[n].

    ``input_current`` is [batch, time, neurons]; ``recurrent_weight`` (V) is
    [neurons, neurons] and maps presynaptic spikes (rows) to postsynaptic neurons (columns).
    """
    batch, _, neurons = input_current.shape
    decay_mem, decay_syn = params.decay_mem, params.decay_syn
    membrane = input_current.new_zeros(batch, neurons)
    current = input_current.new_zeros(batch, neurons)
    spikes_over_time: list[Tensor] = []
    membrane_over_time: list[Tensor] = []
    previous = input_current.new_zeros(batch, neurons)  # S[n − 1], for the delay d = 2
    for feedforward in input_current.unbind(dim=1):  # unbind: one gradient stack, not T scatters
        spikes = surrogate.spike(membrane - params.threshold)
        spikes_over_time.append(spikes)
        membrane_over_time.append(membrane)
        reset_spikes = spikes.detach() if detach_reset else spikes
        next_membrane = (decay_mem * membrane + (1.0 - decay_mem) * current) * (1.0 - reset_spikes)
        next_current = decay_syn * current + feedforward
        if recurrent_weight is not None:
            arriving = spikes if params.recurrent_delay == 1 else previous  # S[n + 1 − d]
            presynaptic = arriving.detach() if detach_recurrent else arriving
            next_current = next_current + presynaptic @ recurrent_weight
        membrane, current, previous = next_membrane, next_current, spikes
    return LayerTrace(torch.stack(spikes_over_time, dim=1), torch.stack(membrane_over_time, dim=1))


def leaky_readout_dynamics(input_current: Tensor, params: LIFParameters) -> Tensor:
    """Membrane potential U_out[n] of the non-spiking readout, [batch, time, classes]."""
    batch, _, classes = input_current.shape
    decay_out, decay_syn = params.decay_readout, params.decay_syn
    membrane = input_current.new_zeros(batch, classes)
    current = input_current.new_zeros(batch, classes)
    membrane_over_time: list[Tensor] = []
    for feedforward in input_current.unbind(dim=1):
        membrane_over_time.append(membrane)
        membrane, current = (
            decay_out * membrane + (1.0 - decay_out) * current,
            decay_syn * current + feedforward,
        )
    return torch.stack(membrane_over_time, dim=1)
