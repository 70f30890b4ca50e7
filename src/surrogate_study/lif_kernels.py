"""Compiled CPU kernels (numba) for the LIF time loop and its BPTT backward.

Two families: the event-driven layer kernels ``layer_*`` (sample-major [K, B, T, N], one task per
cell and sample or chunk of samples; see the section below) that the network uses, and the
kernels for a given input current F (cell-major [K, T, B, N], described here). In a feed-forward layer every neuron of every input evolves independently in time, so
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

# numba's default OpenMP thread pool keeps its workers spinning after every parallel kernel; they then
# compete with PyTorch's own threads for the cores (measured: loss and Adam 5–10× slower between the
# kernels, backward 2×). The workqueue pool's workers sleep. Set before the first parallel kernel runs.
if numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"

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


# --- Event-driven layer kernels, sample-major [K, B, T, N] -------------------------------------------
#
# One parallel task per (cell, sample) walks that sample's time steps with the layer state in
# registers/L1. The input current is built from events: at step n the weight rows of the inputs
# that are non-zero are added, I[n+1] = λ_s I[n] + Σ_{p: X[n,p] ≠ 0} X[n,p] W[p] (+ Σ_{j: S[n,j]=1} V[j]),
# so a spike train that is ~1 % dense costs ~1 % of the dense GEMM X W, and recurrent layers never
# form S[n] V densely. The backward kernel adds the recurrent term gI[n+1] Vᵀ of the spikes' gradient
# as row updates gS += gI[n+1][c] Vᵀ[c] (no reduction, so it vectorises without reordering sums).


@numba.njit(parallel=True, cache=True)
def layer_forward_kernel(inputs, weight, recurrent_weight, recurrent, readout_weight, has_readout, store_current,
                         decay_mem, decay_syn, threshold, membrane, current, spikes, readout_current):
    """Fill U[n], (I[n] when ``store_current``), S[n] [K, B, T, N] of a LIF layer driven by
    inputs X [K or 1, B, T, P] through W [K, P, N], with recurrent weights V [K, N, N] when ``recurrent``,
    and when ``has_readout`` the readout's input current F_out[n] = S[n] W_out [K, B, T, C] (W_out [K, N, C]).
    Spiking neurons are looked up only in steps with a spike."""
    cells, batch, steps, neurons = membrane.shape
    n_in = inputs.shape[3]
    classes = readout_current.shape[3]
    shared = inputs.shape[0] == 1
    lam_m, lam_s, theta = _as(decay_mem, membrane), _as(decay_syn, membrane), _as(threshold, membrane)
    leak, one, zero = _as(1.0 - decay_mem, membrane), _as(1.0, membrane), _as(0.0, membrane)
    for task in numba.prange(cells * batch):
        cell, sample = task // batch, task % batch
        source = 0 if shared else cell
        u = np.zeros(neurons, dtype=membrane.dtype)
        i = np.zeros(neurons, dtype=membrane.dtype)
        for n in range(steps):
            u_row, s_row = membrane[cell, sample, n], spikes[cell, sample, n]
            if store_current:
                i_row = current[cell, sample, n]
                for j in range(neurons):
                    i_row[j] = i[j]
            fired = 0
            for j in range(neurons):
                u_row[j] = u[j]
                spiking = u[j] > theta
                s_row[j] = one if spiking else zero
                fired += 1 if spiking else 0
                u_next = lam_m * u[j] + leak * i[j]
                u[j] = zero if spiking else u_next
                i[j] = lam_s * i[j]
            x_row = inputs[source, sample, n]
            for p in range(n_in):
                x = x_row[p]
                if x != zero:
                    w = weight[cell, p]
                    for j in range(neurons):
                        i[j] += x * w[j]
            if has_readout:
                f_out = readout_current[cell, sample, n]
                for c in range(classes):
                    f_out[c] = zero
            if fired > 0 and (recurrent or has_readout):
                for p in range(neurons):
                    if s_row[p] != zero:
                        if recurrent:
                            v = recurrent_weight[cell, p]
                            for j in range(neurons):
                                i[j] += v[j]
                        if has_readout:
                            w_out = readout_weight[cell, p]
                            for c in range(classes):
                                f_out[c] += w_out[c]


@numba.njit(parallel=True, cache=True)
def layer_backward_kernel(membrane, current, spikes, grad_spikes, grad_membrane, has_grad_spikes,
                          static_grad_spikes, has_grad_membrane, recurrent_term, has_recurrent_term,
                          grad_readout_current, readout_weight_t, has_readout,
                          codes, betas, gains, resets, decay_mem, decay_syn, threshold,
                          inputs, grad_weight, need_weight, grad_recurrent, need_recurrent,
                          grad_current, write_grad_current, first_step, last_step, grad_u, grad_i):
    """BPTT of one LIF layer; G[n] = ∂L/∂F[n] = gI[n+1] (F: all input current of step n) into
    ``grad_current`` [K, B, T, N] when ``write_grad_current``. Cell k: surrogate codes[k], betas[k],
    gains[k], differentiable reset resets[k]. Runs the steps n = first_step … last_step (downwards)
    from the adjoint state gU[n+1], gI[n+1] in ``grad_u``, ``grad_i`` [K, B, N] and leaves it there;
    with ``has_recurrent_term`` (one step per call) gS[n] also gets ``recurrent_term`` [K, B, N]
    = gI[n+1] Vᵀ, which the caller forms by one GEMM per step (a per-sample mat-vec here ran at
    ~4 GFlop/s).
    ĝS[n] is ``grad_spikes`` [K, B, T, N], or [K, B, 1, N] the same at every step when
    ``static_grad_spikes`` (the gradient of a spike count), plus ∂L/∂F_out[n] W_outᵀ when ``has_readout``
    (``grad_readout_current`` [K, B, T, C], W_outᵀ = ``readout_weight_t`` [K, C, N]).

    Weight gradients are summed on the fly over events, per cell and per chunk of samples
    (added to ``grad_weight`` [K, J, P, N], ``grad_recurrent`` [K, J, N, N]; the caller zeroes them and sums
    the J chunks, a fixed
    split of the batch, so the sums do not depend on K or the threads): ∂L/∂W += X[n]ᵀ G[n] over
    non-zero inputs X [K or 1, B, T, P], ∂L/∂V += S[n]ᵀ G[n] over spikes (∂L/∂W_out is left to a GEMM:
    measured 3× faster than a scan of the spikes here)."""
    cells, batch, steps, neurons = membrane.shape
    classes = grad_readout_current.shape[3]
    chunks = grad_weight.shape[1]
    n_in = inputs.shape[3]
    shared = inputs.shape[0] == 1
    lam_m, lam_s, theta = _as(decay_mem, membrane), _as(decay_syn, membrane), _as(threshold, membrane)
    leak, zero, half = _as(1.0 - decay_mem, membrane), _as(0.0, membrane), _as(0.5, membrane)
    for task in numba.prange(cells * chunks):
        cell, chunk = np.int64(task) // chunks, np.int64(task) % chunks
        source = np.int64(0) if shared else cell
        code, reset = codes[cell], resets[cell]
        beta, gain = _as(betas[cell], membrane), _as(gains[cell], membrane)
        acc_w = grad_weight[cell, chunk]
        acc_v = grad_recurrent[cell if need_recurrent else 0, chunk if need_recurrent else 0]  # else a dummy
        gs = np.empty(neurons, dtype=membrane.dtype)
        sigma = np.empty(neurons, dtype=membrane.dtype)
        for sample in range(chunk * batch // chunks, (chunk + 1) * batch // chunks):
            gu, gi = grad_u[cell, sample], grad_i[cell, sample]
            for n in range(first_step, last_step - 1, -1):
                u_row, s_row = membrane[cell, sample, n], spikes[cell, sample, n]
                _surrogate_row(code, u_row, theta, beta, gain, sigma)
                if has_grad_spikes:
                    gs_row = grad_spikes[cell, sample, 0 if static_grad_spikes else n]
                    for j in range(neurons):
                        gs[j] = gs_row[j]
                else:
                    for j in range(neurons):
                        gs[j] = zero
                if has_readout:
                    g_out = grad_readout_current[cell, sample, n]
                    for c in range(classes):
                        g = g_out[c]
                        if g != zero:
                            w = readout_weight_t[cell, c]
                            for j in range(neurons):
                                gs[j] += g * w[j]
                if reset:
                    i_row = current[cell, sample, n]
                    for j in range(neurons):
                        gs[j] -= (lam_m * u_row[j] + leak * i_row[j]) * gu[j]
                if has_recurrent_term:
                    r = recurrent_term[cell, sample]
                    for j in range(neurons):
                        gs[j] += r[j]
                # weight gradients of step n: G[n] = gI[n+1] = gi (before the update below)
                if need_weight:
                    x_row = inputs[source, sample, n]
                    for p in range(n_in):
                        x = x_row[p]
                        if x != zero:
                            for j in range(neurons):
                                acc_w[p, j] += x * gi[j]
                if need_recurrent:
                    for p in range(neurons):
                        spike = s_row[p]
                        if spike != zero:
                            for j in range(neurons):
                                acc_v[p, j] += spike * gi[j]
                if write_grad_current:
                    out = grad_current[cell, sample, n]
                    for j in range(neurons):
                        out[j] = gi[j]
                for j in range(neurons):
                    carried = zero if s_row[j] > half else gu[j]
                    gu[j] = lam_m * carried + sigma[j] * gs[j]
                    gi[j] = lam_s * gi[j] + leak * carried
                if has_grad_membrane:
                    gu_row = grad_membrane[cell, sample, n]
                    for j in range(neurons):
                        gu[j] += gu_row[j]
