"""The stack of feed-forward layers as one autograd Function (fused_stack) gives exactly the numbers of the
chain of per-layer Functions: logits, readout, spike counts and every weight's gradient, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import surrogate_study.fused.stack as fused_stack
import surrogate_study.model.network as network
from surrogate_study.model.lif import LIFParameters
from surrogate_study.data.spike_data import SpikeDataset
from surrogate_study.model.surrogates import Surrogate

PARAMS = LIFParameters()
SURROGATES = [Surrogate("superspike", 10.0), Surrogate("sigmoid", 100.0, "asymptotic"), Surrogate("esser", 1.0)]


def spike_data(seed: int = 8) -> SpikeDataset:
    g = np.random.default_rng(seed)
    counts = g.integers(5, 40, size=30)
    return SpikeDataset.from_event_arrays(g.integers(0, 60, counts.sum()), g.integers(0, 15, counts.sum()), counts,
                                          g.integers(0, 3, 30), 60, 15, 3)


def run(net, inputs, use_stack: bool, monkeypatch, loss_terms: str) -> tuple[list[torch.Tensor], int]:
    """Outputs and gradients of one forward and backward pass, and how many times the stack ran."""
    monkeypatch.setattr(fused_stack, "USE_STACK", use_stack)
    calls = []
    apply = fused_stack.EventLIFStack.apply
    monkeypatch.setattr(fused_stack.EventLIFStack, "apply", lambda *args: (calls.append(1), apply(*args))[1])
    output = net(inputs, keep_traces=False)
    counts = [trace.counts for trace in output.hidden]
    loss = output.logits.square().sum()
    if "readout" in loss_terms:
        loss = loss + 0.01 * (output.readout**2).sum()
    if "counts" in loss_terms:
        loss = loss + sum(0.1 * (c - 2).square().sum() for c in counts)
    gradients = torch.autograd.grad(loss, [p for p in net.parameters() if p.requires_grad])
    return [output.logits, output.readout, *counts, *gradients], len(calls)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("loss_terms", ["logits", "logits+readout+counts"])
def test_stack_equals_the_chain_of_layers_bit_for_bit(dtype, shared, depth, loss_terms, monkeypatch):
    """Three cells with different surrogates and reset flags, one input batch shared or one per cell, with
    and without gradients of the readout potential and of the spike counts."""
    data = spike_data()
    g = np.random.default_rng(3)
    inputs = data.events_cells([torch.as_tensor(g.permutation(30)[:9]) for _ in range(1 if shared else 3)])
    generators = [torch.Generator().manual_seed(k) for k in range(3)]
    net = network.SpikingNetwork(15, [12] * depth, 4, PARAMS, SURROGATES, detach_reset=[True, False, True],
                                 generators=generators, init_gain=10.0).to(dtype)
    chain, chain_calls = run(net, inputs, False, monkeypatch, loss_terms)
    stack, stack_calls = run(net, inputs, True, monkeypatch, loss_terms)
    assert (chain_calls, stack_calls) == (0, 1)
    assert all(c.sum() > 50 for c in chain[2:2 + depth]), "the check needs spikes in every hidden layer"
    for a, b in zip(chain, stack):
        assert a.abs().sum() > 0
        assert torch.equal(a, b)


def test_stack_with_a_frozen_first_layer_equals_the_chain(monkeypatch):
    """A first layer whose weights take no gradient (its weight-gradient arrays are placeholders): the other
    gradients are still those of the chain, bit for bit."""
    data = spike_data()
    inputs = data.events_cells([torch.arange(9)])
    generators = [torch.Generator().manual_seed(k) for k in range(3)]
    net = network.SpikingNetwork(15, [12, 12], 4, PARAMS, SURROGATES, detach_reset=False, generators=generators,
                                 init_gain=10.0)
    net.weights[0].requires_grad_(False)
    chain, _ = run(net, inputs, False, monkeypatch, "logits+counts")
    stack, stack_calls = run(net, inputs, True, monkeypatch, "logits+counts")
    assert stack_calls == 1 and len(stack) == 2 + 2 + 2  # logits, readout, two counts, W_2 and W_out
    for a, b in zip(chain, stack):
        assert a.abs().sum() > 0
        assert torch.equal(a, b)


def test_stack_serves_training_passes_only_and_equal_widths():
    """Where the stack does not apply (one layer, unequal widths, recurrent layers, dense inputs, no gradient,
    no gradient to come) the chain of layers runs."""
    data = spike_data()
    inputs = data.events_cells([torch.arange(6)])
    w = [torch.zeros(3, 15, 12, requires_grad=True), torch.zeros(3, 12, 12, requires_grad=True)]
    assert fused_stack.stack_applies(inputs, w, SURROGATES, recurrent=False)
    assert not fused_stack.stack_applies(inputs, w[:1], SURROGATES, recurrent=False)
    assert not fused_stack.stack_applies(inputs, [w[0], torch.zeros(3, 12, 11, requires_grad=True)], SURROGATES,
                                         recurrent=False)
    assert not fused_stack.stack_applies(inputs, w, SURROGATES, recurrent=True)
    assert not fused_stack.stack_applies(inputs.dense(), w, SURROGATES, recurrent=False)
    with torch.no_grad():
        assert not fused_stack.stack_applies(inputs, w, SURROGATES, recurrent=False)
    assert not fused_stack.stack_applies(inputs, [t.detach() for t in w], SURROGATES, recurrent=False)
