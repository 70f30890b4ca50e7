"""Surrogate spike function: Heaviside forward, analytic σ′ backward."""

import math

import pytest
import torch

from surrogate_study.model.surrogates import (
    Surrogate,
    SurrogateSpike,
    get_surrogate,
    register_surrogate,
)
from surrogate_study.plan.shapes import surrogate_names

X = torch.linspace(-2.0, 2.0, 201, dtype=torch.float64)


def analytic_normalized(shape: str, x: torch.Tensor, beta: float) -> torch.Tensor:
    """The formulas of docs/science.md, written out independently of the package."""
    if shape == "superspike":
        return 1.0 / (beta * x.abs() + 1.0) ** 2
    if shape == "sigmoid":
        s = 1.0 / (1.0 + torch.exp(-beta * x))
        return 4.0 * s * (1.0 - s)
    if shape == "esser":
        return torch.where(beta * x.abs() < 1.0, 1.0 - beta * x.abs(), torch.zeros_like(x))
    if shape == "constant":
        return torch.ones_like(x)
    if shape == "true":
        return torch.zeros_like(x)
    raise AssertionError(shape)


def spike_and_grad(surrogate: Surrogate, x: torch.Tensor, upstream: torch.Tensor):
    x = x.clone().requires_grad_(True)
    out = surrogate.spike(x)
    (out * upstream).sum().backward()
    return out.detach(), x.grad


@pytest.mark.parametrize("shape", ["superspike", "sigmoid", "esser", "constant", "true"])
@pytest.mark.parametrize("beta", [0.5, 10.0, 100.0])
@pytest.mark.parametrize("scale", ["normalized", "asymptotic"])
def test_forward_is_heaviside_and_backward_is_analytic(shape, beta, scale):
    upstream = torch.linspace(0.5, 1.5, len(X), dtype=torch.float64)
    out, grad = spike_and_grad(Surrogate(shape, beta, scale), X, upstream)
    assert torch.equal(out, (X > 0).to(X.dtype))
    expected = analytic_normalized(shape, X, beta) * (beta if scale == "asymptotic" else 1.0)
    torch.testing.assert_close(grad, upstream * expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", ["superspike", "sigmoid", "esser"])
def test_peak_is_one_when_normalized_and_beta_when_asymptotic(shape):
    zero = torch.zeros(1, dtype=torch.float64)
    for beta in (0.1, 3.0, 1000.0):
        assert Surrogate(shape, beta, "normalized").derivative(zero).item() == pytest.approx(1.0)
        assert Surrogate(shape, beta, "asymptotic").derivative(zero).item() == pytest.approx(beta)


def test_true_gradient_is_zero_and_constant_is_straight_through():
    upstream = torch.randn(len(X), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    _, grad_true = spike_and_grad(Surrogate("true", 10.0), X, upstream)
    _, grad_constant = spike_and_grad(Surrogate("constant", 10.0), X, upstream)
    assert torch.count_nonzero(grad_true) == 0
    assert torch.equal(grad_constant, upstream)


def test_sigmoid_asymptotic_is_derivative_of_scaled_logistic_times_four():
    x = X.clone().requires_grad_(True)
    torch.sigmoid(7.0 * x).sum().backward()
    expected = 4.0 * x.grad  # d/dx s(βx) = β s (1 − s); asymptotic form is 4 β s (1 − s)
    torch.testing.assert_close(Surrogate("sigmoid", 7.0, "asymptotic").derivative(X), expected)


def test_parameters_are_per_call_not_per_class():
    x = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    SurrogateSpike.apply(x, "superspike", 1.0, "normalized").sum().backward()
    first = x.grad.clone()
    x.grad = None
    SurrogateSpike.apply(x, "superspike", 100.0, "normalized").sum().backward()
    assert first.item() == pytest.approx(1 / 1.3**2)
    assert x.grad.item() == pytest.approx(1 / 31.0**2)


def test_registry_rejects_unknown_and_duplicate_names():
    with pytest.raises(ValueError, match="unknown surrogate shape 'nope'.*superspike"):
        get_surrogate("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_surrogate("superspike")(lambda x, beta: x)


def test_invalid_beta_and_scale_are_rejected():
    with pytest.raises(ValueError, match="beta must be > 0"):
        Surrogate("superspike", 0.0)
    with pytest.raises(ValueError, match="unknown surrogate scale 'huge'"):
        Surrogate("superspike", 1.0, "huge")


def test_registered_names_cover_the_study():
    assert {"superspike", "sigmoid", "esser", "constant", "true"} <= set(surrogate_names())
    assert math.isclose(get_surrogate("esser")(torch.tensor(0.05), 10.0).item(), 0.5)
