"""Per-cell weight matmul F = S @ W for K grid cells, with a backward that picks the fast GEMM layout.

Forward: F_k = S_k W_k for S [K, R, n_in] (or [1, R, n_in], shared by all cells), W [K, n_in, n_out]
(R = T·B rows: all time steps and samples in one GEMM per cell). Backward:

    ∂L/∂S_k = G_k W_kᵀ,    ∂L/∂W_k = S_kᵀ G_k = (G_kᵀ S_k)ᵀ,    G = ∂L/∂F.

The weight gradient reduces over the long R axis to a small [n_in, n_out] matrix. BLAS is much
slower for it when the wider operand is the transposed one (measured on the 2-core CPU for the
readout, S [8, 12800, 128], G [8, 12800, 10]: about 35–49 ms for Sᵀ G, 8–9 ms for (Gᵀ S)ᵀ), so the
narrower operand is always the one transposed. Autograd's own ``bmm`` backward forms Sᵀ G.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def weight_gradient(inputs: Tensor, grad_output: Tensor) -> Tensor:
    """Σ_r S[k, r, i] G[k, r, o] → [K, n_in, n_out], transposing the narrower of S and G."""
    if inputs.shape[-1] <= grad_output.shape[-1]:
        return torch.bmm(inputs.transpose(1, 2), grad_output)
    return torch.bmm(grad_output.transpose(1, 2), inputs).transpose(1, 2)


class CellMatmul(torch.autograd.Function):
    """F = S @ W per cell (see the module docstring for the backward)."""

    @staticmethod
    def forward(ctx, inputs: Tensor, weight: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(inputs, weight)
        return torch.matmul(inputs, weight)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Optional[Tensor], Optional[Tensor]]:  # type: ignore[override]
        inputs, weight = ctx.saved_tensors
        grad_inputs = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_inputs = torch.matmul(grad_output, weight.transpose(1, 2))
            if inputs.shape[0] == 1 and weight.shape[0] > 1:  # one input shared by all cells
                grad_inputs = grad_inputs.sum(0, keepdim=True)
        if ctx.needs_input_grad[1]:
            grad_weight = weight_gradient(inputs.expand(weight.shape[0], -1, -1), grad_output)
        return grad_inputs, grad_weight


def cell_matmul(inputs: Tensor, weight: Tensor) -> Tensor:
    """F [K, R, n_out] = S [K or 1, R, n_in] @ W [K, n_in, n_out], with :class:`CellMatmul`'s backward."""
    return CellMatmul.apply(inputs, weight)
