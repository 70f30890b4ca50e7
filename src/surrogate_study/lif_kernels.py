"""Compiled CPU kernels (numba) for the feed-forward LIF time loop and its BPTT backward.

In a feed-forward layer every neuron of every input evolves independently in time, so
the B·N neuron trajectories of every cell of a [K, T, B, N] tensor are processed in
parallel blocks, each walking its time steps with the state in registers: one pass over memory
instead of one pass per PyTorch operation. Equations (as in :mod:`surrogate_study.fused_lif`):

    forward   S[n] = Θ(U[n] − ϑ),  U[n+1] = (λ_m U[n] + (1 − λ_m) I[n]) (1 − S[n]),
              I[n+1] = λ_s I[n] + F[n]
    backward  gS = ĝS[n] − ρ (λ_m U[n] + (1 − λ_m) I[n]) gU,   c = (1 − S[n]) gU,
              gF[n] = gI,  gU ← ĝU[n] + λ_m c + σ′(U[n] − ϑ) gS,  gI ← λ_s gI + (1 − λ_m) c

The surrogate σ′ of each cell is given by a code (``KERNEL_SHAPES``) and β, times β
when asymptotic; shapes without a code use the PyTorch path of ``fused_lif``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

KERNEL_SHAPES: dict[str, int] = {"superspike": 0, "sigmoid": 1, "esser": 2, "constant": 3, "true": 4}
BLOCK = 1024  # neurons per block: contiguous runs in memory for every time step


@numba.njit(inline="always")
def _surrogate(code: int, x: float, beta: float) -> float:
    if code == 0:
        d = beta * abs(x) + 1.0
        return 1.0 / (d * d)
    if code == 1:
        s = 1.0 / (1.0 + math.exp(-beta * x))
        return 4.0 * s * (1.0 - s)
    if code == 2:
        return max(0.0, 1.0 - beta * abs(x))
    if code == 3:
        return 1.0
    return 0.0


@numba.njit(inline="always")
def _block(task: int, blocks: int, size: int) -> tuple[int, int, int]:
    """Cell, first column and width of parallel task ``task`` (``blocks`` blocks per cell)."""
    start = (task % blocks) * BLOCK
    return task // blocks, start, min(BLOCK, size - start)


@numba.njit(parallel=True, cache=True)
def lif_forward_kernel(feedforward, decay_mem, decay_syn, threshold, membrane, current, spikes):
    """Fill membrane U[n], current I[n] and spikes S[n] ([K, T, M] each) from F [K, T, M]."""
    cells, steps, size = feedforward.shape
    blocks = (size + BLOCK - 1) // BLOCK
    for task in numba.prange(cells * blocks):
        cell, start, width = _block(task, blocks, size)
        u = np.zeros(width, dtype=feedforward.dtype)
        i = np.zeros(width, dtype=feedforward.dtype)
        for n in range(steps):
            for j in range(width):
                col = start + j
                membrane[cell, n, col] = u[j]
                current[cell, n, col] = i[j]
                spiking = u[j] > threshold
                spikes[cell, n, col] = 1.0 if spiking else 0.0
                u_next = decay_mem * u[j] + (1.0 - decay_mem) * i[j]
                u[j] = 0.0 if spiking else u_next
                i[j] = decay_syn * i[j] + feedforward[cell, n, col]


@numba.njit(parallel=True, cache=True)
def lif_backward_kernel(membrane, current, spikes, grad_spikes, grad_membrane, has_grad_spikes,
                        has_grad_membrane, codes, betas, gains, resets,
                        decay_mem, decay_syn, threshold, grad_feedforward):
    """Fill ∂L/∂F [K, T, M]; cell k uses surrogate codes[k] with betas[k], times gains[k]
    (β when asymptotic), and resets[k] (differentiable reset)."""
    cells, steps, size = membrane.shape
    blocks = (size + BLOCK - 1) // BLOCK
    for task in numba.prange(cells * blocks):
        cell, start, width = _block(task, blocks, size)
        code, beta, gain, reset = codes[cell], betas[cell], gains[cell], resets[cell]
        gu = np.zeros(width, dtype=membrane.dtype)
        gi = np.zeros(width, dtype=membrane.dtype)
        for n in range(steps - 1, -1, -1):
            for j in range(width):
                col = start + j
                grad_feedforward[cell, n, col] = gi[j]
                u = membrane[cell, n, col]
                gs = grad_spikes[cell, n, col] if has_grad_spikes else 0.0
                if reset:
                    gs -= (decay_mem * u + (1.0 - decay_mem) * current[cell, n, col]) * gu[j]
                carried = 0.0 if spikes[cell, n, col] > 0.5 else gu[j]
                sigma = gain * _surrogate(code, u - threshold, beta)
                new_gu = decay_mem * carried + sigma * gs
                if has_grad_membrane:
                    new_gu += grad_membrane[cell, n, col]
                gi[j] = decay_syn * gi[j] + (1.0 - decay_mem) * carried
                gu[j] = new_gu
