"""The leaky readout of the output layer as an autograd Function (O(T) compiled recursion on the CPU, a [T, T]
filter matrix elsewhere):

    I[n+1] = λ_syn I[n] + F[n],   U[n+1] = λ_out U[n] + (1 − λ_out) I[n],   U[0] = I[0] = 0,

that is U_out = K_out F_out with K_out = (1 − λ_out) K_{λ_out} K_{λ_syn}, K_λ[n, m] = λ^(n−1−m) for m < n.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from surrogate_study.kernels.readout import readout_backward_kernel, readout_forward_kernel
from surrogate_study.kernels.runtime import match_torch_threads
from surrogate_study.model.lif import LIFParameters


@lru_cache(maxsize=64)
def filter_matrix(steps: int, decay: float) -> Tensor:
    """K_λ [T, T] (float64, CPU): I = K_λ F solves I[n+1] = λ I[n] + F[n], I[0] = 0."""
    n = torch.arange(steps, dtype=torch.float64)
    lag = n[:, None] - 1.0 - n[None, :]
    return torch.where(lag >= 0, decay ** lag.clamp(min=0.0), torch.zeros(()))


@lru_cache(maxsize=64)
def readout_matrix(steps: int, decay_syn: float, decay_out: float) -> Tensor:
    """K_out = (1 − λ_out) K_{λ_out} K_{λ_syn} [T, T] (float64, CPU): U_out = K_out F_out."""
    return (1.0 - decay_out) * filter_matrix(steps, decay_out) @ filter_matrix(steps, decay_syn)


class LeakyReadout(torch.autograd.Function):
    """U_out [..., T, C] of the leaky readout from F_out [..., T, C] on the CPU: the O(T) recursion of
    :func:`~surrogate_study.kernels.readout.readout_forward_kernel` and its adjoint (``readout_backward_kernel``)."""

    @staticmethod
    def forward(ctx, input_current: Tensor, decay_syn: float, decay_out: float) -> Tensor:  # type: ignore[override]
        rows = input_current.detach().contiguous()
        flat = rows.view(-1, *rows.shape[-2:])
        membrane = torch.empty_like(flat)
        match_torch_threads()
        readout_forward_kernel(flat.numpy(), decay_syn, decay_out, membrane.numpy())
        ctx.decays = (decay_syn, decay_out)
        return membrane.view(rows.shape)

    @staticmethod
    def backward(ctx, grad_membrane: Tensor):  # type: ignore[override]
        grad = grad_membrane.contiguous()
        flat = grad.view(-1, *grad.shape[-2:])
        grad_input = torch.empty_like(flat)
        match_torch_threads()
        readout_backward_kernel(flat.numpy(), *ctx.decays, grad_input.numpy())
        return grad_input.view(grad.shape), None, None


def leaky_readout_sample_major(input_current: Tensor, params: LIFParameters) -> Tensor:
    """U_out [K, B, T, C] of the leaky readout for F_out [K, B, T, C]: U_out[k, b] = K_out F_out[k, b]
    (on the CPU by the recursion of :class:`LeakyReadout`, elsewhere by the [T, T] filter matrix)."""
    if input_current.device.type == "cpu" and input_current.dtype in (torch.float32, torch.float64):
        return LeakyReadout.apply(input_current, params.decay_syn, params.decay_readout)
    steps = input_current.shape[2]
    kernel = readout_matrix(steps, params.decay_syn, params.decay_readout)
    return torch.matmul(kernel.to(dtype=input_current.dtype, device=input_current.device), input_current)
