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
def _as(value: float, like: np.ndarray):
    """``value`` in the dtype of ``like``: float32 arrays are then computed on in float32 (SIMD)."""
    box = np.empty(1, dtype=like.dtype)
    box[0] = value
    return box[0]


@numba.njit(inline="always")
def _surrogate_row(code: int, membrane_row, threshold, beta, gain, out) -> None:
    """out[j] = gain · σ′(U[j] − ϑ) over one time step of one block; the shape branch is outside the loop."""
    one, zero, four = _as(1.0, out), _as(0.0, out), _as(4.0, out)
    if code == 0:  # SuperSpike: 1 / (β|x| + 1)²
        for j in range(out.shape[0]):
            d = beta * abs(membrane_row[j] - threshold) + one
            out[j] = gain / (d * d)
    elif code == 1:  # sigmoid′, normalized: 4 s(βx)(1 − s(βx))
        for j in range(out.shape[0]):
            s = one / (one + math.exp(-beta * (membrane_row[j] - threshold)))
            out[j] = four * gain * s * (one - s)
    elif code == 2:  # Esser: max(0, 1 − β|x|)
        for j in range(out.shape[0]):
            out[j] = gain * max(zero, one - beta * abs(membrane_row[j] - threshold))
    elif code == 3:  # constant (straight-through)
        out[:] = gain
    else:  # true gradient: 0 almost everywhere
        out[:] = zero


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
    lam_m, lam_s, theta = _as(decay_mem, feedforward), _as(decay_syn, feedforward), _as(threshold, feedforward)
    leak, one, zero = _as(1.0 - decay_mem, feedforward), _as(1.0, feedforward), _as(0.0, feedforward)
    for task in numba.prange(cells * blocks):
        cell, start, width = _block(task, blocks, size)
        u = np.zeros(width, dtype=feedforward.dtype)
        i = np.zeros(width, dtype=feedforward.dtype)
        for n in range(steps):
            for j in range(width):
                col = start + j
                membrane[cell, n, col] = u[j]
                current[cell, n, col] = i[j]
                spiking = u[j] > theta
                spikes[cell, n, col] = one if spiking else zero
                u_next = lam_m * u[j] + leak * i[j]
                u[j] = zero if spiking else u_next
                i[j] = lam_s * i[j] + feedforward[cell, n, col]


@numba.njit(parallel=True, cache=True)
def lif_backward_kernel(membrane, current, spikes, grad_spikes, grad_membrane, has_grad_spikes,
                        has_grad_membrane, codes, betas, gains, resets,
                        decay_mem, decay_syn, threshold, grad_feedforward):
    """Fill ∂L/∂F [K, T, M]; cell k uses surrogate codes[k] with betas[k], times gains[k]
    (β when asymptotic), and resets[k] (differentiable reset). Per block and time step: σ′ for
    the whole row first (branch-free inner loops), then the adjoint update above."""
    cells, steps, size = membrane.shape
    blocks = (size + BLOCK - 1) // BLOCK
    lam_m, lam_s, theta = _as(decay_mem, membrane), _as(decay_syn, membrane), _as(threshold, membrane)
    leak, zero, half = _as(1.0 - decay_mem, membrane), _as(0.0, membrane), _as(0.5, membrane)
    for task in numba.prange(cells * blocks):
        cell, start, width = _block(task, blocks, size)
        stop = start + width
        code, reset = codes[cell], resets[cell]
        beta, gain = _as(betas[cell], membrane), _as(gains[cell], membrane)
        gu = np.zeros(width, dtype=membrane.dtype)
        gi = np.zeros(width, dtype=membrane.dtype)
        gs = np.zeros(width, dtype=membrane.dtype)
        sigma = np.empty(width, dtype=membrane.dtype)
        for n in range(steps - 1, -1, -1):
            u_row, i_row, s_row = membrane[cell, n, start:stop], current[cell, n, start:stop], spikes[cell, n, start:stop]
            out = grad_feedforward[cell, n, start:stop]
            _surrogate_row(code, u_row, theta, beta, gain, sigma)
            if has_grad_spikes:
                gs[:] = grad_spikes[cell, n, start:stop]
            else:
                gs[:] = zero  # gS[n] starts from ĝS[n] = 0 at every step
            if reset:
                for j in range(width):
                    gs[j] -= (lam_m * u_row[j] + leak * i_row[j]) * gu[j]
            for j in range(width):
                out[j] = gi[j]
                carried = zero if s_row[j] > half else gu[j]
                gu[j] = lam_m * carried + sigma[j] * gs[j]
                gi[j] = lam_s * gi[j] + leak * carried
            if has_grad_membrane:
                gu += grad_membrane[cell, n, start:stop]
