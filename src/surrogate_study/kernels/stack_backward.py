"""The backward kernel of a stack of feed-forward event-driven LIF layers, walked per sample.

Each task (cell, chunk of the batch) runs, for one sample at a time, the backward pass of every layer from
the top down (the equations of :mod:`~surrogate_study.kernels.layer_backward`), so that ∂L/∂X of the sample
(the next layer's ĝS) stays in a [T, N] buffer in cache instead of a [K, B, T, N] array in memory. The same
operations in the same order per layer as the per-layer kernel, hence the same numbers.
"""

from __future__ import annotations

import numba
import numpy as np

from surrogate_study.kernels.borrowed_arrays import borrowed, keep_alive
from surrogate_study.kernels.options import COMPILE
from surrogate_study.kernels.steps import adjoint_step, cast_like, event_weight_gradient, readout_gradient_step, recompute_membrane, small_product


@numba.njit(parallel=True, cache=True, **COMPILE)
def stack_backward_kernel(grad_counts, has_grad_counts, grad_readout_potential, has_grad_readout_potential,
                          grad_peak, has_grad_peak, peak_step, readout_weight_t, has_readout, decay_out,
                          grad_readout_weight, need_readout_weight, codes, betas, gains, resets,
                          decay_mem, decay_syn, threshold, shared_input,
                          event_first, event_last, event_steps, event_units, event_values,
                          weights, weights_t, grad_weights, need_weight, batch, steps, blas_small_gemm):
    """BPTT of a stack of L feed-forward LIF layers on input events, all layers of one sample in turn: the
    backward pass of :func:`layer_backward_kernel` (with ``recompute``: U, and I, formed again per sample from
    the layer's input events and W) for each layer l = L − 1 … 0, where ĝS of layer l < L − 1 is the ∂L/∂X
    = G Wᵀ of layer l + 1 for the same sample, kept in a [T, N] buffer of the task that stays in cache instead
    of a [K, B, T, N] array written and read back through memory (measured: that traffic was ~18 % of the
    three backward kernels of an n_h = 3 step). Per layer, the same operations in the same order as
    :func:`layer_backward_kernel`: the same numbers (tested).

    Per layer l (tuples of length L, homogeneous): input events ``event_first`` … ``event_values`` (rows
    k·B + b; layer 0's are one batch for all cells, rows b, when ``shared_input``), W [K, P_l, N] ``weights``,
    Wᵀ [K, N, P′_l] ``weights_t`` (padded as in :func:`layer_backward_kernel`), the spike counts' gradient
    ∂L/∂ζ [K, B, N] ``grad_counts`` (when ``has_grad_counts[l]``), ∂L/∂W summed per cell and chunk of samples
    into ``grad_weights`` [K, J, P_l, N] (when ``need_weight[l]``; the caller zeroes them and sums the J chunks).
    The top layer drives the readout (``readout_weight_t`` W_outᵀ [K, C, N], ĝU_out ``grad_readout_potential``
    [K, B, T, C], the logits' gradient ``grad_peak`` [K, B, C] at ``peak_step``, ∂L/∂W_out into
    ``grad_readout_weight`` [K, J, N, C]) as in :func:`layer_backward_kernel`. Every layer has N neurons."""
    grad_readout_potential = borrowed(grad_readout_potential)
    grad_peak = borrowed(grad_peak)
    peak_step = borrowed(peak_step)
    readout_weight_t = borrowed(readout_weight_t)
    grad_readout_weight = borrowed(grad_readout_weight)
    layers = len(weights)
    cells, neurons = codes.shape[0], weights[0].shape[2]
    classes = readout_weight_t.shape[1]
    chunks = grad_weights[0].shape[1]
    dtype_like = weights[0]
    lam_m, lam_s, theta = cast_like(decay_mem, dtype_like), cast_like(decay_syn, dtype_like), cast_like(threshold, dtype_like)
    leak, zero = cast_like(1.0 - decay_mem, dtype_like), cast_like(0.0, dtype_like)
    lam_o, leak_o = cast_like(decay_out, dtype_like), cast_like(1.0 - decay_out, dtype_like)
    for task in numba.prange(cells * chunks):
        cell, chunk = task // chunks, task % chunks
        code, reset = codes[cell], resets[cell]
        beta, gain = cast_like(betas[cell], dtype_like), cast_like(gains[cell], dtype_like)
        gs_owned = np.empty(neurons, dtype=dtype_like.dtype)
        gs = borrowed(gs_owned)
        gu_owned = np.empty(neurons, dtype=dtype_like.dtype)
        gu = borrowed(gu_owned)
        gi_owned = np.empty(neurons, dtype=dtype_like.dtype)
        gi = borrowed(gi_owned)
        sigma_owned = np.empty(neurons, dtype=dtype_like.dtype)
        sigma = borrowed(sigma_owned)
        scale_bits_owned = np.empty(neurons, dtype=np.int32)
        scale_bits = borrowed(scale_bits_owned)
        u_bar_owned = np.empty(classes, dtype=dtype_like.dtype)
        u_bar = borrowed(u_bar_owned)
        i_bar_owned = np.empty(classes, dtype=dtype_like.dtype)
        i_bar = borrowed(i_bar_owned)
        g_out_owned = np.empty(classes, dtype=dtype_like.dtype)
        g_out = borrowed(g_out_owned)
        g_pot_owned = np.empty(classes, dtype=dtype_like.dtype)
        g_pot = borrowed(g_pot_owned)
        fired_at_owned = np.empty(neurons, dtype=np.int64)
        fired_at = borrowed(fired_at_owned)
        active_at_owned = np.empty(1, dtype=np.int64)  # (dense inputs only: not used on events)
        active_at = borrowed(active_at_owned)
        u_buffer_owned = np.empty((steps, neurons), dtype=dtype_like.dtype)  # U[n] of one sample and layer
        u_buffer = borrowed(u_buffer_owned)
        i_buffer_owned = np.empty((steps if reset else 1, neurons), dtype=dtype_like.dtype)  # I[n]
        i_buffer = borrowed(i_buffer_owned)
        u_state_owned = np.empty(neurons, dtype=dtype_like.dtype)
        u_state = borrowed(u_state_owned)
        i_state_owned = np.empty(neurons, dtype=dtype_like.dtype)
        i_state = borrowed(i_state_owned)
        g_buffer_owned = np.empty((steps, neurons), dtype=dtype_like.dtype)  # G[n] of one sample and layer
        g_buffer = borrowed(g_buffer_owned)
        above_owned = np.empty((steps, neurons), dtype=dtype_like.dtype)  # ∂L/∂X of the layer above = ĝS here
        above = borrowed(above_owned)
        below_owned = np.empty((steps, neurons), dtype=dtype_like.dtype)  # ∂L/∂X of this layer
        below = borrowed(below_owned)
        acc_out = grad_readout_weight[cell if need_readout_weight else 0, chunk if need_readout_weight else 0]
        first, last = chunk * batch // chunks, (chunk + 1) * batch // chunks
        for sample in range(first, last):
            for layer in range(layers - 1, -1, -1):
                top = layer == layers - 1
                weight = borrowed(weights[layer])
                acc_w = borrowed(grad_weights[layer])[cell if need_weight[layer] else 0,
                                                      chunk if need_weight[layer] else 0]
                ev_first, ev_last = borrowed(event_first[layer]), borrowed(event_last[layer])
                ev_steps, ev_units = borrowed(event_steps[layer]), borrowed(event_units[layer])
                ev_values = borrowed(event_values[layer])
                counts_grad = has_grad_counts[layer]
                gc_row = borrowed(grad_counts[layer])[cell if counts_grad else 0, sample if counts_grad else 0]
                row = sample if layer == 0 and shared_input else cell * batch + sample
                recompute_membrane(u_buffer, True, ev_first, ev_last, ev_steps, ev_units, ev_values, row,
                                    weight[cell], reset, lam_m, lam_s, leak, theta, u_state, i_state, u_buffer,
                                    i_buffer, active_at)
                for j in range(neurons):  # gU[T] = gI[T] = 0
                    gu[j] = zero
                    gi[j] = zero
                for c in range(classes):
                    u_bar[c] = zero
                    i_bar[c] = zero
                event, event_start = ev_last[row], ev_first[row]
                for n in range(steps - 1, -1, -1):
                    u_row = u_buffer[n]
                    # gS[n] = ĝS[n] (∂L/∂X of the layer above) + ĝζ, as in layer_backward_kernel
                    if not top and counts_grad:
                        above_row = above[n]
                        for j in range(neurons):
                            gs[j] = above_row[j] + gc_row[j]
                    elif not top:
                        gs[:] = above[n]
                    elif counts_grad:
                        gs[:] = gc_row
                    else:
                        gs[:] = zero
                    if top and has_readout:
                        if has_grad_readout_potential:
                            g_pot[:] = grad_readout_potential[cell, sample, n]
                        else:
                            g_pot[:] = zero
                        readout_gradient_step(n, g_pot, grad_peak[cell, sample], has_grad_peak, peak_step[cell, sample],
                                               g_out, u_bar, i_bar, lam_s, lam_o, leak_o, gs, readout_weight_t[cell],
                                               need_readout_weight, acc_out, -1, u_row, theta, fired_at)
                    if reset:
                        i_row = i_buffer[n]
                        for j in range(neurons):
                            gs[j] -= (lam_m * u_row[j] + leak * i_row[j]) * gu[j]
                    if need_weight[layer]:
                        event = event_weight_gradient(n, event, event_start, ev_steps, ev_units, ev_values, acc_w, gi)
                    if layer > 0:
                        out = g_buffer[n]
                        for j in range(neurons):
                            out[j] = gi[j]
                    adjoint_step(code, u_row, theta, beta, gain, sigma, scale_bits, gs, gu, gi, lam_m, lam_s, leak)
                if layer > 0:  # ∂L/∂X = G Wᵀ [T, N] × [N, P], ĝS of the layer below: the buffers change roles
                    small_product(g_buffer, borrowed(weights_t[layer])[cell], below, blas_small_gemm)
                    above, below = below, above
        keep_alive(gs_owned, gu_owned, gi_owned, sigma_owned, scale_bits_owned, u_bar_owned, i_bar_owned, g_out_owned,
                   g_pot_owned, fired_at_owned, active_at_owned, u_buffer_owned, i_buffer_owned, u_state_owned,
                   i_state_owned, g_buffer_owned, above_owned, below_owned)
