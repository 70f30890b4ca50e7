"""The LIF time loop in PyTorch with a hand-written BPTT backward, for K grid cells at once (cell-major
[K, T, B, N]): what a layer runs on CUDA and for surrogate shapes without a compiled kernel code (plug-ins).

Forward, with U[0] = I[0] = 0 and recurrent delay d (S[m] = 0 for m < 0; :class:`LIFParameters`):

    S[n] = Θ(U[n] − ϑ),  m[n] = λ_mem U[n] + (1 − λ_mem) I[n],  U[n+1] = m[n] (1 − S[n]),
    I[n+1] = λ_syn I[n] + F[n] (+ S[n+1−d] V for recurrent layers).

Backward, from gU[T] = gI[T] = gI[T+1] = 0 down to n = 0, with σ′[n] = σ′(U[n] − ϑ) of each cell,
ρ = 1 for a differentiable reset (0 when detached), π = 1 when recurrent gradients
propagate (0 when detached), and the incoming gradients ĝS[n], ĝU[n] of the outputs:

    gS[n] = ĝS[n] − ρ m[n] gU[n+1] + π gI[n+d] Vᵀ
    gU[n] = ĝU[n] + λ_mem (1 − S[n]) gU[n+1] + σ′[n] gS[n]
    gI[n] = λ_syn gI[n+1] + (1 − λ_mem)(1 − S[n]) gU[n+1]
    ∂L/∂F[n] = gI[n+1],   ∂L/∂V = Σ_n S[n]ᵀ gI[n+d]  (V's direct term, always).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from surrogate_study.fused.cell_surrogates import CellSurrogates
from surrogate_study.model.lif import LIFParameters


def cell_mask(flags: Sequence[bool], like: Tensor) -> Optional[Tensor]:
    """[K, 1, …] float mask of the cells whose flag is set; None when no cell has it."""
    if not any(flags):
        return None
    return torch.tensor(flags, dtype=like.dtype, device=like.device).view(-1, *([1] * (like.dim() - 1)))


class LIFTimeLoop(torch.autograd.Function):
    """Spikes and membrane [K, T, B, N] of LIF neurons with input current F, optional V [K, N, N]."""

    @staticmethod
    def forward(ctx, feedforward: Tensor, recurrent_weight: Optional[Tensor], params: LIFParameters,
                surrogates: CellSurrogates, differentiable_reset: tuple[bool, ...],
                propagate_recurrent: tuple[bool, ...]):  # type: ignore[override]
        decay_mem, decay_syn, threshold = params.decay_mem, params.decay_syn, params.threshold
        steps = feedforward.shape[1]
        membrane_cells = feedforward.new_empty(feedforward.shape)
        current_cells = feedforward.new_empty(feedforward.shape)
        spiking_cells = torch.empty(feedforward.shape, dtype=torch.bool, device=feedforward.device)
        spikes_cells = feedforward.new_empty(feedforward.shape) if recurrent_weight is not None else None
        # time-major views [T, K, B, N] of the cell-major [K, T, B, N] storage
        membrane_all, current_all = membrane_cells.transpose(0, 1), current_cells.transpose(0, 1)
        spiking_all, feedforward = spiking_cells.transpose(0, 1), feedforward.transpose(0, 1)
        spikes_all = spikes_cells.transpose(0, 1) if spikes_cells is not None else None
        membrane_all[0].zero_()
        current_all[0].zero_()
        for n in range(steps):
            membrane, current = membrane_all[n], current_all[n]
            torch.gt(membrane, threshold, out=spiking_all[n])
            if n + 1 == steps:
                break
            torch.add(decay_mem * membrane, current, alpha=1.0 - decay_mem, out=membrane_all[n + 1])
            membrane_all[n + 1].masked_fill_(spiking_all[n], 0.0)
            next_current = torch.add(feedforward[n], current, alpha=decay_syn, out=current_all[n + 1])
            if recurrent_weight is not None:
                spikes_all[n] = spiking_all[n]
                arriving = n + 1 - params.recurrent_delay  # S[n + 1 − d] enters I[n + 1]
                if arriving >= 0:
                    next_current.baddbmm_(spikes_all[arriving], recurrent_weight)
        if spikes_all is not None:
            spikes_all[steps - 1] = spiking_all[steps - 1]
        spikes = spiking_cells.to(feedforward.dtype) if spikes_cells is None else spikes_cells
        ctx.save_for_backward(recurrent_weight, membrane_cells, current_cells, spiking_cells)
        ctx.params, ctx.surrogates = params, surrogates
        ctx.differentiable_reset, ctx.propagate_recurrent = differentiable_reset, propagate_recurrent
        ctx.set_materialize_grads(False)
        return spikes, membrane_cells

    @staticmethod
    def backward(ctx, grad_spikes: Optional[Tensor], grad_membrane: Optional[Tensor]):  # type: ignore[override]
        recurrent_weight, membrane_cells, current_cells, spiking_cells = ctx.saved_tensors
        time_major = lambda t: None if t is None else t.transpose(0, 1)  # noqa: E731
        membrane_all, current_all, spiking_all = map(time_major, (membrane_cells, current_cells, spiking_cells))
        grad_spikes, grad_membrane = time_major(grad_spikes), time_major(grad_membrane)
        params: LIFParameters = ctx.params
        surrogates: CellSurrogates = ctx.surrogates
        decay_mem, decay_syn, threshold = params.decay_mem, params.decay_syn, params.threshold
        steps = membrane_all.shape[0]
        beta = surrogates.beta_tensor(membrane_all[0])
        reset_mask = cell_mask(ctx.differentiable_reset, membrane_all[0])
        propagate_mask = cell_mask(ctx.propagate_recurrent, membrane_all[0])
        if recurrent_weight is None:
            propagate_mask = None
        weight_t = recurrent_weight.transpose(1, 2) if recurrent_weight is not None else None
        grad_feedforward_cells = torch.empty_like(membrane_cells)
        grad_feedforward = grad_feedforward_cells.transpose(0, 1)
        grad_u = torch.zeros_like(membrane_all[0])  # gU[n+1]
        grad_i = torch.zeros_like(grad_u)  # gI[n+1]
        grad_i_later = grad_i  # gI[n+2], for the delay d = 2
        delay = params.recurrent_delay
        for n in range(steps - 1, -1, -1):
            grad_feedforward[n] = grad_i
            membrane = membrane_all[n]
            sigma = surrogates.derivative(membrane - threshold, beta)
            grad_s = grad_spikes[n] if grad_spikes is not None else torch.zeros_like(grad_u)
            if reset_mask is not None:
                leak_input = torch.add(decay_mem * membrane, current_all[n], alpha=1.0 - decay_mem)
                grad_s = grad_s - reset_mask * leak_input * grad_u
            if propagate_mask is not None:
                grad_s = grad_s + propagate_mask * torch.bmm(grad_i if delay == 1 else grad_i_later, weight_t)
            carried = grad_u.masked_fill(spiking_all[n], 0.0)  # (1 − S[n]) gU[n+1]
            new_grad_u = torch.addcmul(decay_mem * carried, sigma, grad_s)
            if grad_membrane is not None:
                new_grad_u += grad_membrane[n]
            grad_i_later = grad_i
            grad_i = torch.add(decay_syn * grad_i, carried, alpha=1.0 - decay_mem)
            grad_u = new_grad_u
        grad_weight = None
        if recurrent_weight is not None and ctx.needs_input_grad[1]:
            cells, neurons = membrane_cells.shape[0], membrane_cells.shape[-1]
            spikes = spiking_cells.to(membrane_cells.dtype)
            grad_arriving = grad_feedforward_cells  # ∂L/∂(V·S[n]) = gI[n+d] = G[n+d−1]
            if delay == 2:
                spikes, grad_arriving = spikes[:, :-1], grad_feedforward_cells[:, 1:]
            grad_weight = torch.bmm(spikes.reshape(cells, -1, neurons).transpose(1, 2),
                                    grad_arriving.reshape(cells, -1, neurons))
        return grad_feedforward_cells, grad_weight, None, None, None, None
