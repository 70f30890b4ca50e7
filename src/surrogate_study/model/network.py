"""Multi-layer spiking classifier for K grid cells at once: LIF hidden layers, leaky readout.

Logit of class k = max_n U_out,k[n] (max over time of the readout potential); the
loss is softmax cross-entropy on those logits, the prediction their argmax.

K independent networks ("cells") of one architecture are stored as stacked weights
[K, fan_in, fan_out] and run as one batched computation; cell k may have its own
surrogate, detach flags and initial weights (its own seed). A single run is K = 1.
Weights are drawn from g·U(−√k, √k), k = 1/fan_in (PyTorch's ``nn.Linear`` default for the
spec's gain g = 1; ``model.init_gain`` sets g per cell, ``model.recurrent_init_gain`` g_V of V, default g),
cell by cell from that cell's generator,
in the order layer 1 W, layer 1 V, layer 2 W, …, readout; there are no biases. On the CPU the
fused backend forms the input current of each layer from the non-zero inputs only
(:func:`surrogate_study.fused.layer.lif_layer_cells`); elsewhere it is one batched matmul
F = S_in @ W over all time steps.

Backends: ``fused`` (default) uses :mod:`surrogate_study.fused.layer`; ``reference`` runs
the plain autograd time loop of :mod:`surrogate_study.model.lif`, cell by cell.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor, nn

from surrogate_study.fused.layer import lif_layer_cells
from surrogate_study.fused.stack import lif_stack_cells, stack_applies
from surrogate_study.model.lif import LayerTrace, LIFParameters, leaky_readout_dynamics, lif_layer_dynamics
from surrogate_study.data.spike_data import InputEvents
from surrogate_study.model.surrogates import Surrogate

BACKENDS: tuple[str, ...] = ("fused", "reference")


def uniform_fan_in(shape: Sequence[int], fan_in: int, generator: Optional[torch.Generator],
                   gain: float = 1.0) -> Tensor:
    """A new tensor drawn from U(−g√k, g√k), k = 1/fan_in, g = ``gain``."""
    bound = gain * math.sqrt(1.0 / fan_in)
    return torch.empty(*shape).uniform_(-bound, bound, generator=generator)


def _per_cell(value, cells: int, name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * cells
    if len(values) != cells:
        raise ValueError(f"{name}: expected one value per cell ({cells}), got {len(values)}")
    return values


class NetworkOutput(NamedTuple):
    """Logits [K, B, classes], readout potential [K, B, T, classes], hidden traces [K, B, T, N]."""

    logits: Tensor
    readout: Tensor
    hidden: list[LayerTrace]


class SpikingNetwork(nn.Module):
    """K cells of the classifier n_in → hidden[0] → … → hidden[-1] → n_classes."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_classes: int,
        params: LIFParameters,
        surrogates: Surrogate | Sequence[Surrogate],
        recurrent: bool = False,
        detach_reset: bool | Sequence[bool] = True,
        detach_recurrent: bool | Sequence[bool] = False,
        generators: Optional[torch.Generator | Sequence[Optional[torch.Generator]]] = None,
        backend: str = "fused",
        init_gain: float | Sequence[float] = 1.0,
        recurrent_init_gain: Optional[float] | Sequence[Optional[float]] = None,
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
        if generators is None or isinstance(generators, torch.Generator):
            generators = [generators]
        cells = len(generators)
        self.cells = cells
        self.params = params
        self.backend = backend
        self.recurrent = recurrent
        self.surrogates = tuple(_per_cell(surrogates, cells, "surrogates"))
        self.detach_reset = tuple(_per_cell(detach_reset, cells, "detach_reset"))
        self.detach_recurrent = tuple(_per_cell(detach_recurrent, cells, "detach_recurrent"))
        sizes = [n_in, *hidden, n_classes]
        per_cell_weights: list[list[Tensor]] = []
        recurrent_gains = _per_cell(recurrent_init_gain, cells, "recurrent_init_gain")
        for generator, gain, v_gain in zip(generators, _per_cell(init_gain, cells, "init_gain"), recurrent_gains):
            weights = []
            for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                weights.append(uniform_fan_in((fan_in, fan_out), fan_in, generator, gain))
                if recurrent and layer < len(hidden):
                    weights.append(uniform_fan_in((fan_out, fan_out), fan_out, generator,
                                                  gain if v_gain is None else v_gain))
            per_cell_weights.append(weights)
        stacked = [nn.Parameter(torch.stack(ws)) for ws in zip(*per_cell_weights)]
        self.weights = nn.ParameterList(stacked[:-1:2] if recurrent else stacked[:-1])
        self.recurrent_weights = nn.ParameterList(stacked[1:-1:2] if recurrent else [])
        self.readout_weight = stacked[-1]

    @property
    def n_hidden_layers(self) -> int:
        return len(self.weights)

    def _reference_forward(self, spikes_in: Tensor) -> NetworkOutput:
        """The plain autograd time loop, cell by cell; traces [K, B, T, N]."""
        if spikes_in.dim() == 3:
            spikes_in = spikes_in.expand(self.cells, *spikes_in.shape)
        traces: list[LayerTrace] = []
        spikes = spikes_in
        for layer in range(self.n_hidden_layers):
            feedforward = spikes @ self.weights[layer].unsqueeze(1)
            cell_traces = [
                lif_layer_dynamics(
                    feedforward[k], self.params, self.surrogates[k],
                    self.recurrent_weights[layer][k] if self.recurrent else None,
                    self.detach_reset[k], self.detach_recurrent[k],
                )
                for k in range(self.cells)
            ]
            trace = LayerTrace(torch.stack([t.spikes for t in cell_traces]),
                               torch.stack([t.membrane for t in cell_traces]))
            traces.append(trace)
            spikes = trace.spikes
        readout_current = spikes @ self.readout_weight.unsqueeze(1)
        readout = torch.stack([leaky_readout_dynamics(current, self.params) for current in readout_current])
        return NetworkOutput(readout.max(dim=2).values, readout, traces)

    def _fused_forward(self, spikes_in: Tensor | InputEvents, keep_traces: bool = True) -> NetworkOutput:
        """The fused core, sample-major [K, B, T, N] throughout (see :func:`lif_layer_cells`); the last
        hidden layer also forms the readout potential U_out, every layer its spike counts. Without
        ``keep_traces`` the traces hold only the counts, and a layer hands its spikes to the next as events
        (on the CPU kernels; S [K, B, T, N] elsewhere); with a backward pass to come, feed-forward stacks of
        two or more layers run as one autograd Function (:mod:`surrogate_study.fused.stack`)."""
        spikes = spikes_in.unsqueeze(0) if isinstance(spikes_in, Tensor) and spikes_in.dim() == 3 else spikes_in
        if not keep_traces and stack_applies(spikes, list(self.weights), self.surrogates, self.recurrent):
            stack = lif_stack_cells(spikes, list(self.weights), self.readout_weight, self.params, self.surrogates,
                                    self.detach_reset)  # the same numbers, less memory traffic (fused_stack)
            return NetworkOutput(stack.peak, stack.readout, [LayerTrace(None, None, c) for c in stack.counts])
        traces: list[LayerTrace] = []
        readout = logits = None
        for layer in range(self.n_hidden_layers):
            last = layer + 1 == self.n_hidden_layers
            output = lif_layer_cells(
                spikes, self.weights[layer], self.params, self.surrogates,
                self.recurrent_weights[layer] if self.recurrent else None,
                self.detach_reset, self.detach_recurrent, readout_weight=self.readout_weight if last else None,
                keep_spikes=keep_traces, keep_membrane=keep_traces, emit_events=not (keep_traces or last),
            )
            readout, logits = output.readout, output.peak
            spikes = output.events if output.events is not None else output.spikes
            traces.append(LayerTrace(output.spikes, output.membrane, output.counts))
        assert readout is not None and logits is not None  # U_out [K, B, T, C] and max_n U_out[n], of the last layer
        return NetworkOutput(logits, readout, traces)

    def forward(self, spikes_in: Tensor | InputEvents, keep_traces: bool = True) -> NetworkOutput:
        """Run all cells on input spikes [B, T, n_in] (shared) or [K, B, T, n_in] (one batch per cell), dense or
        as :class:`InputEvents` (1 or K batches; read as events by the CPU kernels, densified elsewhere).

        ``keep_traces`` False (training and evaluation, which read the logits, the readout and the spike
        counts): the fused backend may return hidden traces whose spikes and membrane are None; the
        gradients are the same."""
        if isinstance(spikes_in, InputEvents):
            weight = self.weights[0]
            if not (self.backend == "fused" and weight.device.type == "cpu"):
                dense = spikes_in.dense(weight.dtype, weight.device)
                spikes_in = dense[0] if spikes_in.cells == 1 else dense
        if self.backend == "fused":
            return self._fused_forward(spikes_in, keep_traces)
        return self._reference_forward(spikes_in)
