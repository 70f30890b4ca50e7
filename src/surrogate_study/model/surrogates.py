"""Surrogate derivatives for the spike nonlinearity.

The forward pass is always the Heaviside step of the distance to threshold,

    S = Θ(x),  x = U − ϑ,   Θ(x) = 1 if x > 0 else 0,

and the backward pass replaces the derivative Θ′(x) (zero almost everywhere) by a
surrogate σ′(x; β). Every shape is registered in its *normalized* form, whose peak
σ′(0) = 1 does not depend on the steepness β:

    superspike   σ′(x) = 1 / (β|x| + 1)²                  (fast sigmoid)
    sigmoid      σ′(x) = 4 · s(βx) (1 − s(βx)),  s = logistic
    esser        σ′(x) = max(0, 1 − β|x|)                 (piecewise linear)
    constant     σ′(x) = 1                                 (straight-through control)
    true         σ′(x) = 0                                 (exact gradient of Θ a.e.)

The *asymptotic* form multiplies the normalized form by β, so that its peak grows
with β (for SuperSpike: β / (β|x| + 1)², which tends to a δ-like spike as β → ∞):

    σ′_asym(x; β) = β · σ′_norm(x; β).

Sigmoid′ has a second normalisation, ``sigmoid_peak``: ``one`` (the form above, peak 1, the
paper's "normalized" reading) or ``quarter_beta``, fmi-basel/stork's SigmoidSpike β s(βx)(1 − s(βx)) =
(β/4) · σ′_norm, peak β/4 (then the asymptotic form is β times that). Other shapes ignore it.

A new shape is one function ``(x, beta) -> σ′_norm`` plus ``@register_surrogate`` (in this
process), or an entry point of group ``surrogate_study.surrogates`` in another package (see
:mod:`surrogate_study.plan.shapes`, which holds the registry and lists the names without importing
torch). Parameters are passed per call; nothing is stored on the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import torch
from torch import Tensor

from surrogate_study.plan.shapes import load_shape, register_shape

Beta = Union[float, Tensor]
SurrogateDerivative = Callable[[Tensor, Beta], Tensor]

SCALES: tuple[str, ...] = ("normalized", "asymptotic")
SIGMOID_PEAKS: tuple[str, ...] = ("one", "quarter_beta")


def register_surrogate(name: str) -> Callable[[SurrogateDerivative], SurrogateDerivative]:
    """Register the normalized derivative ``fn(x, beta)`` of a surrogate under ``name``."""

    def decorator(fn: SurrogateDerivative) -> SurrogateDerivative:
        register_shape(name, fn)
        return fn

    return decorator


def get_surrogate(name: str) -> SurrogateDerivative:
    """The normalized derivative registered under ``name`` (a plugin's is loaded on first use)."""
    return load_shape(name)


@register_surrogate("superspike")
def superspike(x: Tensor, beta: Beta) -> Tensor:
    """σ′(x) = 1 / (β|x| + 1)²  (Zenke & Ganguli 2018, fast sigmoid)."""
    return 1.0 / (beta * x.abs() + 1.0) ** 2


@register_surrogate("sigmoid")
def sigmoid(x: Tensor, beta: Beta) -> Tensor:
    """σ′(x) = 4 s(βx)(1 − s(βx)), s the logistic function; peak 1 at x = 0."""
    s = torch.sigmoid(beta * x)
    return 4.0 * s * (1.0 - s)


@register_surrogate("esser")
def esser(x: Tensor, beta: Beta) -> Tensor:
    """σ′(x) = max(0, 1 − β|x|)  (Esser et al. 2016, piecewise linear)."""
    return torch.clamp(1.0 - beta * x.abs(), min=0.0)


@register_surrogate("constant")
def constant(x: Tensor, beta: Beta) -> Tensor:
    """σ′(x) = 1: the straight-through estimator (control)."""
    return torch.ones_like(x)


@register_surrogate("true")
def true_gradient(x: Tensor, beta: Beta) -> Tensor:
    """σ′(x) = 0: the exact derivative of Θ almost everywhere (control)."""
    return torch.zeros_like(x)


def peak_factor(shape: str, beta: Beta, sigmoid_peak: str) -> Beta:
    """The factor on σ′_norm of the Sigmoid′ normalisation: β/4 for ``sigmoid`` with ``quarter_beta``, else 1."""
    if sigmoid_peak not in SIGMOID_PEAKS:
        raise ValueError(f"unknown sigmoid_peak {sigmoid_peak!r}; allowed: {', '.join(SIGMOID_PEAKS)}")
    return beta / 4.0 if shape == "sigmoid" and sigmoid_peak == "quarter_beta" else 1.0


def surrogate_derivative(x: Tensor, shape: str, beta: Beta, scale: str, sigmoid_peak: str = "one") -> Tensor:
    """σ′(x; β) of ``shape`` in the ``scale`` form (``normalized`` or ``asymptotic``), Sigmoid′ normalised by
    ``sigmoid_peak``."""
    derivative = get_surrogate(shape)(x, beta)
    factor = peak_factor(shape, beta, sigmoid_peak)
    if not (isinstance(factor, float) and factor == 1.0):
        derivative = factor * derivative
    if scale == "normalized":
        return derivative
    if scale == "asymptotic":
        return beta * derivative
    raise ValueError(f"unknown surrogate scale {scale!r}; allowed: {', '.join(SCALES)}")


class SurrogateSpike(torch.autograd.Function):
    """S = Θ(x) forward; ∂S/∂x = σ′(x; β) backward, with shape, β, scale and Sigmoid′ peak given per call."""

    @staticmethod
    def forward(ctx, x: Tensor, shape: str, beta: Beta, scale: str,  # type: ignore[override]
                sigmoid_peak: str = "one") -> Tensor:
        ctx.save_for_backward(x)
        ctx.shape, ctx.beta, ctx.scale, ctx.sigmoid_peak = shape, beta, scale, sigmoid_peak
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        grad_x = grad_output * surrogate_derivative(x, ctx.shape, ctx.beta, ctx.scale, ctx.sigmoid_peak)
        return grad_x, None, None, None, None


@dataclass(frozen=True)
class Surrogate:
    """A surrogate choice: its shape name, steepness β > 0, scale form and Sigmoid′ normalisation."""

    shape: str = "superspike"
    beta: float = 10.0
    scale: str = "normalized"
    sigmoid_peak: str = "one"

    def __post_init__(self) -> None:
        get_surrogate(self.shape)
        if not self.beta > 0:
            raise ValueError(f"surrogate beta must be > 0, got {self.beta!r}")
        if self.scale not in SCALES:
            raise ValueError(f"unknown surrogate scale {self.scale!r}; allowed: {', '.join(SCALES)}")
        peak_factor(self.shape, self.beta, self.sigmoid_peak)

    @property
    def gain(self) -> float:
        """σ′ = gain · σ′_norm: β for the asymptotic scale, times β/4 for Sigmoid′ with ``quarter_beta``."""
        return (self.beta if self.scale == "asymptotic" else 1.0) * float(
            peak_factor(self.shape, self.beta, self.sigmoid_peak))

    def spike(self, x: Tensor) -> Tensor:
        """Θ(x) with this surrogate's derivative in the backward pass."""
        return SurrogateSpike.apply(x, self.shape, self.beta, self.scale, self.sigmoid_peak)

    def derivative(self, x: Tensor) -> Tensor:
        """σ′(x; β) of this surrogate."""
        return surrogate_derivative(x, self.shape, self.beta, self.scale, self.sigmoid_peak)
