"""The fused BPTT core equals the plain autograd reference: forward, gradients, batched cells.

A given input current F reaches a layer as its input X = F with W = I (exact in float64: every product is
x·1 or x·0), through the compiled event-driven kernels (``kernel``) or the PyTorch time loop that CUDA and
plug-in shapes take (``torch-loop``); ∂L/∂F is then ∂L/∂X = G Wᵀ = G."""

import itertools

import pytest
import torch

from surrogate_study.fused.layer import lif_layer_cells
from surrogate_study.fused.readout import LeakyReadout, filter_matrix, leaky_readout_sample_major, readout_matrix
from surrogate_study.model.lif import LIFParameters, leaky_readout_dynamics, lif_layer_dynamics
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.model.surrogates import Surrogate
from surrogate_study.plan.shapes import surrogate_names

PARAMS = LIFParameters()
SHAPES = [s for s in surrogate_names() if not s.startswith("test_")]


def random_inputs(cells=1, batch=3, steps=40, neurons=6, seed=0, recurrent=False):
    g = torch.Generator().manual_seed(seed)
    # strong enough drive that neurons spike and reset several times
    f = (torch.rand(cells, batch, steps, neurons, generator=g, dtype=torch.float64) * 0.8).requires_grad_(True)
    v = ((torch.rand(cells, neurons, neurons, generator=g, dtype=torch.float64) - 0.5) * 0.6).requires_grad_(True)
    upstream_s = torch.randn(cells, batch, steps, neurons, generator=g, dtype=torch.float64)
    upstream_u = torch.randn(cells, batch, steps, neurons, generator=g, dtype=torch.float64)
    return f, (v if recurrent else None), upstream_s, upstream_u


def grads_reference(f, v, up_s, up_u, surrogates, detach_reset, detach_recurrent):
    loss = 0.0
    spikes = []
    for k in range(f.shape[0]):
        trace = lif_layer_dynamics(f[k], PARAMS, surrogates[k], None if v is None else v[k],
                                   detach_reset[k], detach_recurrent[k])
        loss = loss + (trace.spikes * up_s[k]).sum() + (trace.membrane * up_u[k]).sum()
        spikes.append(trace.spikes)
    loss.backward()
    return torch.stack(spikes).detach(), f.grad.clone(), None if v is None else v.grad.clone()


def layer_of_current(f, v, surrogates, detach_reset, detach_recurrent=False, use_kernel=True):
    """S and U [K, B, T, N] of a layer driven by the input current F [K, B, T, N]: X = F, W = I."""
    cells, neurons = f.shape[0], f.shape[-1]
    identity = torch.eye(neurons, dtype=f.dtype).expand(cells, neurons, neurons).contiguous()
    output = lif_layer_cells(f, identity, PARAMS, surrogates, v, detach_reset, detach_recurrent, use_kernel=use_kernel)
    return output.spikes, output.membrane


def grads_fused(f, v, up_s, up_u, surrogates, detach_reset, detach_recurrent, use_kernel=True):
    f.grad = None
    if v is not None:
        v.grad = None
    spikes, membrane = layer_of_current(f, v, surrogates, detach_reset, detach_recurrent, use_kernel)
    ((spikes * up_s).sum() + (membrane * up_u).sum()).backward()
    return spikes.detach(), f.grad.clone(), None if v is None else v.grad.clone()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", ["normalized", "asymptotic"])
@pytest.mark.parametrize(
    "recurrent, detach_reset, detach_recurrent",
    [(False, True, False), (False, False, False), *itertools.product([True], [True, False], [True, False])],
)
@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "torch-loop"])
def test_fused_gradients_equal_autograd_reference(shape, scale, recurrent, detach_reset, detach_recurrent,
                                                  use_kernel):
    f, v, up_s, up_u = random_inputs(recurrent=recurrent)
    surrogates = [Surrogate(shape, 5.0, scale)]
    ref = grads_reference(f, v, up_s, up_u, surrogates, [detach_reset], [detach_recurrent])
    fast = grads_fused(f, v, up_s, up_u, surrogates, [detach_reset], [detach_recurrent], use_kernel)
    assert ref[0].sum() > 10, "the check needs spikes"
    assert torch.equal(ref[0], fast[0])
    torch.testing.assert_close(fast[1], ref[1], rtol=1e-9, atol=1e-10)
    if recurrent:
        torch.testing.assert_close(fast[2], ref[2], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "torch-loop"])
@pytest.mark.parametrize("recurrent", [False, True])
def test_batched_cells_with_different_settings_equal_each_alone(recurrent, use_kernel):
    surrogates = [Surrogate("superspike", 10.0), Surrogate("esser", 2.0, "asymptotic"),
                  Surrogate("sigmoid", 30.0), Surrogate("true", 1.0)]
    detach_reset = [True, False, True, False]
    detach_recurrent = [False, True, True, False]
    f, v, up_s, up_u = random_inputs(cells=4, recurrent=recurrent, seed=2)
    ref = grads_reference(f, v, up_s, up_u, surrogates, detach_reset, detach_recurrent)
    fast = grads_fused(f, v, up_s, up_u, surrogates, detach_reset, detach_recurrent, use_kernel)
    assert torch.equal(ref[0], fast[0])
    torch.testing.assert_close(fast[1], ref[1], rtol=1e-9, atol=1e-10)
    if recurrent:
        torch.testing.assert_close(fast[2], ref[2], rtol=1e-9, atol=1e-10)


def test_filter_matrix_solves_the_synaptic_recurrence():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(2, 30, 3, generator=g, dtype=torch.float64)
    current, expected = torch.zeros(2, 3, dtype=torch.float64), []
    for n in range(30):
        expected.append(current)
        current = 0.7 * current + f[:, n]
    torch.testing.assert_close(filter_matrix(30, 0.7) @ f, torch.stack(expected, dim=1))
    # the readout's [T, T] matrix (what CUDA runs) against the readout update of lif.py
    torch.testing.assert_close(readout_matrix(30, PARAMS.decay_syn, PARAMS.decay_readout) @ f,
                               leaky_readout_dynamics(f, PARAMS))


def test_compiled_readout_recursion_equals_the_reference_and_its_gradient():
    """The O(T) compiled readout (forward and adjoint) equals the readout update of lif.py, in float64."""
    g = torch.Generator().manual_seed(1)
    f = torch.randn(2, 3, 40, 4, generator=g, dtype=torch.float64, requires_grad=True)  # [K, B, T, C]
    upstream = torch.randn(2, 3, 40, 4, generator=g, dtype=torch.float64)
    compiled = leaky_readout_sample_major(f, PARAMS)
    assert compiled.grad_fn is not None and "LeakyReadout" in type(compiled.grad_fn).__name__
    (grad_compiled,) = torch.autograd.grad((compiled * upstream).sum(), f)
    reference = leaky_readout_dynamics(f.flatten(0, 1), PARAMS).view(f.shape)
    (grad_reference,) = torch.autograd.grad((reference * upstream).sum(), f)
    torch.testing.assert_close(compiled, reference, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_compiled, grad_reference, rtol=1e-12, atol=1e-12)
    assert grad_reference.abs().max() > 0.1  # the comparison is not between zeros
    assert torch.autograd.gradcheck(lambda x: LeakyReadout.apply(x, 0.8, 0.9), (f[:, :, :12].detach().clone().requires_grad_(True),))


@pytest.mark.parametrize("recurrent", [False, True])
def test_network_backends_agree(recurrent):
    def make(backend):
        gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
        net = SpikingNetwork(10, [20, 15], 4, PARAMS, [Surrogate("superspike", 10.0), Surrogate("esser", 3.0)],
                             recurrent=recurrent, detach_reset=[True, False], generators=gens, backend=backend)
        return net.double()

    x = (torch.rand(5, 60, 10, generator=torch.Generator().manual_seed(3)) < 0.1).double()
    outputs = []
    for backend in ("reference", "fused"):
        net = make(backend)
        out = net(x)
        out.logits.square().sum().backward()
        outputs.append((out, [p.grad for p in net.parameters()]))
    (ref, ref_grads), (fast, fast_grads) = outputs
    assert all(torch.equal(a.spikes, b.spikes) for a, b in zip(ref.hidden, fast.hidden))
    torch.testing.assert_close(fast.logits, ref.logits)
    for a, b in zip(ref_grads, fast_grads):
        torch.testing.assert_close(b, a, rtol=1e-8, atol=1e-10)


def test_cell_weights_equal_single_cell_networks():
    batched = SpikingNetwork(10, [20], 4, PARAMS, Surrogate(), recurrent=True,
                             generators=[torch.Generator().manual_seed(s) for s in (5, 6)])
    for k, seed in enumerate((5, 6)):
        alone = SpikingNetwork(10, [20], 4, PARAMS, Surrogate(), recurrent=True,
                               generators=torch.Generator().manual_seed(seed))
        for a, b in zip(batched.parameters(), alone.parameters()):
            assert torch.equal(a[k], b[0])


@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "torch-loop"])
@pytest.mark.parametrize("shape", ["superspike", "esser"])
def test_gradient_through_the_membrane_alone_with_a_differentiable_reset(shape, use_kernel):
    """No gradient reaches the spikes (only U is used) and the reset is differentiable: gS[n] must start
    from 0 at every step (a kernel that kept the previous step's gS disagreed by orders of magnitude)."""
    f, _, _, up_u = random_inputs(seed=5)
    surrogates = [Surrogate(shape, 5.0)]
    trace = lif_layer_dynamics(f[0], PARAMS, surrogates[0], None, False, False)
    (trace.membrane * up_u[0]).sum().backward()
    expected, f.grad = f.grad.clone(), None
    spikes, membrane = layer_of_current(f, None, surrogates, False, use_kernel=use_kernel)
    (membrane * up_u).sum().backward()
    assert trace.spikes.sum() > 10, "the check needs resets"
    torch.testing.assert_close(f.grad, expected, rtol=1e-9, atol=1e-10)
