"""Multi-layer spiking network: LIF hidden layers and a leaky, non-spiking readout.

Logit of class k = max_n U_out,k[n] (max over time of the readout potential); the
loss is softmax cross-entropy on those logits, the prediction their argmax.

Weights are drawn from U(−√k, √k), k = 1/fan_in (PyTorch's ``nn.Linear`` default);
there are no biases. Weight matrices are stored [fan_in, fan_out] so that the
feed-forward current of all time steps is one matmul, F = S_in @ W.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor, nn

from .lif import LayerTrace, LIFParameters, leaky_readout_dynamics, lif_layer_dynamics
from .surrogates import Surrogate


def uniform_fan_in_(weight: Tensor, fan_in: int, generator: Optional[torch.Generator]) -> Tensor:
    """Fill ``weight`` in place from U(−√k, √k), k = 1/fan_in."""
    bound = math.sqrt(1.0 / fan_in)
    with torch.no_grad():
        return weight.uniform_(-bound, bound, generator=generator)


class LIFLayer(nn.Module):
    """One hidden layer of current-based LIF neurons, optionally recurrent."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        params: LIFParameters,
        surrogate: Surrogate,
        recurrent: bool = False,
        detach_reset: bool = True,
        detach_recurrent: bool = False,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        self.params = params
        self.surrogate = surrogate
        self.detach_reset = detach_reset
        self.detach_recurrent = detach_recurrent
        self.weight = nn.Parameter(uniform_fan_in_(torch.empty(n_in, n_out), n_in, generator))
        self.recurrent_weight: Optional[nn.Parameter] = None
        if recurrent:
            self.recurrent_weight = nn.Parameter(
                uniform_fan_in_(torch.empty(n_out, n_out), n_out, generator)
            )

    def forward(self, spikes_in: Tensor) -> LayerTrace:
        """Spikes and membrane of this layer for input spikes [batch, time, n_in]."""
        return lif_layer_dynamics(
            spikes_in @ self.weight,
            self.params,
            self.surrogate,
            recurrent_weight=self.recurrent_weight,
            detach_reset=self.detach_reset,
            detach_recurrent=self.detach_recurrent,
        )


class NetworkOutput(NamedTuple):
    """Logits [batch, classes], readout potential [batch, time, classes], hidden traces."""

    logits: Tensor
    readout: Tensor
    hidden: list[LayerTrace]


class SpikingNetwork(nn.Module):
    """n_in → hidden[0] → … → hidden[-1] → n_classes spiking classifier."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_classes: int,
        params: LIFParameters,
        surrogate: Surrogate,
        recurrent: bool = False,
        detach_reset: bool = True,
        detach_recurrent: bool = False,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        self.params = params
        sizes = [n_in, *hidden]
        self.hidden = nn.ModuleList(
            LIFLayer(
                fan_in,
                fan_out,
                params,
                surrogate,
                recurrent=recurrent,
                detach_reset=detach_reset,
                detach_recurrent=detach_recurrent,
                generator=generator,
            )
            for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
        )
        self.readout_weight = nn.Parameter(
            uniform_fan_in_(torch.empty(sizes[-1], n_classes), sizes[-1], generator)
        )

    def forward(self, spikes_in: Tensor) -> NetworkOutput:
        """Run the network on input spikes [batch, time, n_in]."""
        traces: list[LayerTrace] = []
        spikes = spikes_in
        for layer in self.hidden:
            trace = layer(spikes)
            traces.append(trace)
            spikes = trace.spikes
        readout = leaky_readout_dynamics(spikes @ self.readout_weight, self.params)
        logits = readout.max(dim=1).values
        return NetworkOutput(logits, readout, traces)
