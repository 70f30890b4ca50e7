"""LIF layer dynamics and the gradients that detach_reset / detach_recurrent remove."""

import math

import pytest
import torch

from surrogate_study.model.lif import LIFParameters, leaky_readout_dynamics, lif_layer_dynamics
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.model.surrogates import Surrogate

HALF = 1e-3 / math.log(2.0)  # τ with exp(−Δt/τ) = 0.5
PARAMS = LIFParameters(dt=1e-3, tau_mem=HALF, tau_syn=HALF, tau_readout=HALF, threshold=1.0)
SUPERSPIKE = Surrogate("superspike", 10.0, "normalized")


def current(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).view(1, -1, 1)


def test_decays_follow_time_constants():
    params = LIFParameters()
    assert params.decay_mem == pytest.approx(math.exp(-0.1))
    assert params.decay_syn == pytest.approx(math.exp(-0.2))
    assert params.decay_readout == pytest.approx(math.exp(-0.05))
    assert PARAMS.decay_mem == pytest.approx(0.5)


def test_hand_computed_trajectory():
    # λ = 0.5. I1 = 4; U2 = 0.5·4 = 2 → spike at n = 2; U3 = (1 + 1)·(1 − 1) = 0 (reset);
    # I3 = 0.5·2 = 1, U4 = 0.5·1 = 0.5; I4 = 0.5, U5 = 0.25 + 0.25 = 0.5 (+ 1 input at n = 4 → I5 = 1.25)
    trace = lif_layer_dynamics(current([4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]), PARAMS, SUPERSPIKE)
    assert trace.spikes.flatten().tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert trace.membrane.flatten().tolist() == pytest.approx([0, 0, 2.0, 0.0, 0.5, 0.5, 0.875])


def test_readout_hand_computed_trajectory():
    # I1 = 2, U2 = 1, I2 = 1, U3 = 0.5 + 0.5 = 1, I3 = 0.5, U4 = 0.5 + 0.25 = 0.75
    membrane = leaky_readout_dynamics(current([2.0, 0.0, 0.0, 0.0]), PARAMS)
    assert membrane.flatten().tolist() == pytest.approx([0.0, 0.0, 1.0, 1.0])


def grad_of_u3(f0: float, detach_reset: bool, surrogate: Surrogate = SUPERSPIKE) -> float:
    """∂U[3]/∂F[0] for F = [f0, 0, 0, 0]; by hand U[3] = 0.5 f0 (1 − S[2]), U[2] = 0.5 f0."""
    f = current([f0, 0.0, 0.0, 0.0]).requires_grad_(True)
    trace = lif_layer_dynamics(f, PARAMS, surrogate, detach_reset=detach_reset)
    trace.membrane[0, 3, 0].backward()
    return f.grad[0, 0, 0].item()


@pytest.mark.parametrize("f0", [1.5, 3.0])
def test_detach_reset_removes_exactly_the_reset_path(f0):
    spiked = 0.5 * f0 > 1.0
    sigma = 1.0 / (10.0 * abs(0.5 * f0 - 1.0) + 1.0) ** 2
    detached = 0.5 * (1.0 - spiked)
    assert grad_of_u3(f0, detach_reset=True) == pytest.approx(detached)
    # the reset factor adds −0.5 f0 · ∂S[2]/∂f0 = −0.5 f0 · 0.5 σ′(U[2] − 1)
    assert grad_of_u3(f0, detach_reset=False) == pytest.approx(detached - 0.25 * f0 * sigma)


def test_detach_reset_is_irrelevant_with_the_true_gradient():
    true = Surrogate("true", 10.0)
    assert grad_of_u3(3.0, True, true) == grad_of_u3(3.0, False, true) == 0.0


def recurrent_setup(detach_recurrent: bool, params: LIFParameters = PARAMS):
    generator = torch.Generator().manual_seed(3)
    f = (1.5 * torch.rand(2, 30, 4, generator=generator, dtype=torch.float64)).requires_grad_(True)
    v = (torch.rand(4, 4, generator=generator, dtype=torch.float64) - 0.5).requires_grad_(True)
    target = torch.randn(2, 30, 4, generator=generator, dtype=torch.float64)
    trace = lif_layer_dynamics(f, params, SUPERSPIKE, recurrent_weight=v, detach_recurrent=detach_recurrent)
    (trace.membrane * target).sum().backward()
    return f, v, target, trace


@pytest.mark.parametrize("delay", [1, 2])
def test_detach_recurrent_treats_recurrent_input_as_external_current(delay):
    params = LIFParameters(PARAMS.dt, PARAMS.tau_mem, PARAMS.tau_syn, PARAMS.tau_readout, PARAMS.threshold, delay)
    f, v, target, trace = recurrent_setup(detach_recurrent=True, params=params)
    assert trace.spikes.sum() > 0, "the test needs recurrent spikes"
    # The same forward pass with V·S[n+1−d] injected as a constant feed-forward current F[n] (it enters I[n+1])
    spikes = trace.spikes.detach()
    arriving = spikes if delay == 1 else torch.cat([torch.zeros_like(spikes[:, :1]), spikes[:, :-1]], dim=1)
    f_equiv = (f.detach() + arriving @ v.detach()).requires_grad_(True)
    equiv = lif_layer_dynamics(f_equiv, params, SUPERSPIKE)
    assert torch.equal(equiv.spikes, trace.spikes)
    (equiv.membrane * target).sum().backward()
    torch.testing.assert_close(f.grad, f_equiv.grad)
    # V keeps its direct term: ∂L/∂V = Σ_n S[n+1−d]ᵀ ∂L/∂I[n+1] = Σ_n S[n+1−d]ᵀ ∂L/∂F[n]
    expected_v_grad = torch.einsum("bti,btj->ij", arriving, f_equiv.grad)
    torch.testing.assert_close(v.grad, expected_v_grad)
    assert v.grad.abs().sum() > 0


def test_the_recurrent_delay_changes_the_dynamics():
    one = LIFParameters(PARAMS.dt, PARAMS.tau_mem, PARAMS.tau_syn, PARAMS.tau_readout, PARAMS.threshold, 1)
    assert not torch.equal(recurrent_setup(True, one)[3].membrane, recurrent_setup(True)[3].membrane)
    with pytest.raises(ValueError, match="recurrent_delay must be one of"):
        LIFParameters(recurrent_delay=3)


def test_propagating_recurrent_gradients_changes_input_gradients():
    f_ctl, v_ctl, _, trace_ctl = recurrent_setup(detach_recurrent=True)
    f_prop, v_prop, _, trace_prop = recurrent_setup(detach_recurrent=False)
    assert torch.equal(trace_ctl.spikes, trace_prop.spikes)  # same forward pass
    assert not torch.allclose(f_ctl.grad, f_prop.grad)
    assert not torch.allclose(v_ctl.grad, v_prop.grad)


def test_network_init_is_uniform_fan_in_and_seeded():
    def make(seed):
        return SpikingNetwork(20, [100, 50], 10, LIFParameters(), SUPERSPIKE, recurrent=True,
                              generators=torch.Generator().manual_seed(seed))

    net = make(0)
    bounds = {"weights.0": 1 / math.sqrt(20), "recurrent_weights.0": 1 / math.sqrt(100),
              "weights.1": 1 / math.sqrt(100), "recurrent_weights.1": 1 / math.sqrt(50),
              "readout_weight": 1 / math.sqrt(50)}
    names = dict(net.named_parameters())
    assert set(names) == set(bounds)  # no biases
    for name, param in names.items():
        assert param.shape[0] == 1  # one cell
        assert param.abs().max() <= bounds[name]
        assert param.abs().max() > 0.9 * bounds[name]
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), make(0).parameters()))
    assert not torch.equal(net.readout_weight, make(1).readout_weight)


def test_init_gain_scales_each_cells_weights():
    generators = [torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)]
    net = SpikingNetwork(20, [30], 10, LIFParameters(), SUPERSPIKE, generators=generators, init_gain=[1.0, 7.5])
    for param in net.parameters():
        torch.testing.assert_close(param[1], 7.5 * param[0])  # same draw, scaled by the cell's gain
    assert net.weights[0][1].abs().max() > 0.9 * 7.5 / math.sqrt(20)


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_network_logits_are_max_over_time_of_readout(backend):
    net = SpikingNetwork(5, [8], 3, LIFParameters(), SUPERSPIKE, generators=torch.Generator().manual_seed(0),
                         backend=backend)
    x = (torch.rand(4, 50, 5, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    out = net(x)
    assert out.logits.shape == (1, 4, 3) and out.readout.shape == (1, 4, 50, 3)
    torch.testing.assert_close(out.logits, out.readout.max(dim=2).values)
    assert out.hidden[0].spikes.shape == (1, 4, 50, 8)
