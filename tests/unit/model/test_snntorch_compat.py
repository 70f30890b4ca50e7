"""surrogate_study shapes as snnTorch spike_grad: the benchmark's snnTorch network built with them
computes this project's network (same spikes, readout and surrogate gradients on the same weights)."""

import importlib.util
from pathlib import Path

import pytest
import torch

from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.model.snntorch_compat import spike_grad
from surrogate_study.model.surrogates import Surrogate

snntorch = pytest.importorskip("snntorch")
ROOT = Path(__file__).resolve().parents[3]
N_IN, N_HIDDEN, N_CLASSES, BATCH, STEPS = 20, 32, 5, 8, 60


def benchmark_module():
    spec = importlib.util.spec_from_file_location("train_step_benchmark", ROOT / "benchmarks" / "train_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_superspike_matches_snntorch_fast_sigmoid():
    x = torch.linspace(-2.0, 2.0, 401)
    ours, theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    upstream = torch.linspace(0.5, 1.5, len(x))
    out_ours = spike_grad("superspike", beta=10)(ours)
    out_theirs = snntorch.surrogate.fast_sigmoid(slope=10)(theirs)
    (out_ours * upstream).sum().backward()
    (out_theirs * upstream).sum().backward()
    assert torch.equal(out_ours, out_theirs)
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-6, atol=0)
    assert ours.grad.max() > 0.9  # the peak region is sampled: a wrong derivative would show


def test_bad_arguments_fail_in_one_line():
    with pytest.raises(ValueError, match="unknown surrogate shape 'fast'.*superspike"):
        spike_grad("fast")
    with pytest.raises(ValueError, match="beta must be > 0"):
        spike_grad("superspike", beta=-1)


@pytest.mark.parametrize("shape, beta, scale", [("superspike", 10.0, "normalized"), ("sigmoid", 5.0, "asymptotic"),
                                                 ("esser", 2.0, "normalized")])
def test_benchmark_snntorch_network_equals_project_network(shape, beta, scale):
    params = LIFParameters()
    project = SpikingNetwork(N_IN, [N_HIDDEN], N_CLASSES, params, Surrogate(shape, beta, scale),
                             generators=torch.Generator().manual_seed(3), init_gain=4.0).double()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # snnTorch stores λ as tensors of the default dtype: keep all digits
    try:
        snn_net = benchmark_module().snntorch_network(N_IN, N_HIDDEN, N_CLASSES, params, spike_grad(shape, beta, scale))
    finally:
        torch.set_default_dtype(previous)
    with torch.no_grad():  # the same weights: (1 − λ) Wᵀ in snnTorch's Linear layers
        snn_net.hidden.weight.copy_((1 - params.decay_mem) * project.weights[0][0].T)
        snn_net.readout.weight.copy_((1 - params.decay_readout) * project.readout_weight[0].T)

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(BATCH, STEPS, N_IN, generator=g) < 0.15).double()
    upstream = torch.randn(BATCH, STEPS, N_CLASSES, generator=g, dtype=torch.float64)
    # this project's network runs 4 steps longer: its hidden layer and its readout each lag 2 steps
    out = project(torch.cat([x, x.new_zeros(BATCH, 4, N_IN)], dim=1))
    spikes, readout = out.hidden[0].spikes[0], out.readout[0]
    snn_spikes, snn_readout = snn_net.run(x)

    assert 0.01 < snn_spikes.mean() < 0.5  # the layer spikes, without saturating
    assert torch.count_nonzero(spikes[:, :2]) == 0
    assert torch.equal(spikes[:, 2:STEPS + 2], snn_spikes)
    torch.testing.assert_close(readout[:, 4:], snn_readout, rtol=1e-9, atol=1e-12)

    (readout[:, 4:] * upstream).sum().backward()
    (snn_readout * upstream).sum().backward()
    grad_hidden = (1 - params.decay_mem) * snn_net.hidden.weight.grad.T
    grad_readout = (1 - params.decay_readout) * snn_net.readout.weight.grad.T
    assert grad_hidden.abs().max() > 1e-3  # surrogate gradients reach the hidden weights
    torch.testing.assert_close(project.weights[0].grad[0], grad_hidden, rtol=1e-7, atol=1e-12)
    torch.testing.assert_close(project.readout_weight.grad[0], grad_readout, rtol=1e-7, atol=1e-12)
