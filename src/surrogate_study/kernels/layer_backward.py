"""The BPTT backward kernel of one event-driven LIF layer, sample-major [K, B, T, N].

From gU[T] = gI[T] = 0 down to n = 0, per sample (ρ = 1 for a differentiable reset, π = 1 when the
recurrent gradient propagates, recurrent delay d: the spikes of step n enter I[n+d]):

    gS[n] = ĝS[n] − ρ m[n] gU[n+1] + π gI[n+d] Vᵀ
    gU[n] = ĝU[n] + λ_mem (1 − S[n]) gU[n+1] + σ′[n] gS[n]
    gI[n] = λ_syn gI[n+1] + (1 − λ_mem)(1 − S[n]) gU[n+1],   G[n] = ∂L/∂F[n] = gI[n+1]

with the weight gradients ∂L/∂W = Σ Xᵀ G over input events, ∂L/∂V = Σ_n S[n]ᵀ gI[n+d] and ∂L/∂W_out over spikes, and
∂L/∂X = G Wᵀ per sample. Samples of recurrent layers whose gradient propagates through V walk in lockstep
groups of :data:`~surrogate_study.kernels.options.LANES`, so that gI[n+d] Vᵀ is one small GEMM per step.
"""

from __future__ import annotations

import numba
import numpy as np

from surrogate_study.kernels.borrowed_arrays import borrowed, keep_alive
from surrogate_study.kernels.options import COMPILE, LANES
from surrogate_study.kernels.prefetch import prefetch
from surrogate_study.kernels.steps import adjoint_step, cast_like, event_weight_gradient, nonzero_entries, readout_gradient_step, recompute_membrane, small_product, spiking_neurons


@numba.njit(parallel=True, cache=True, **COMPILE)
def layer_backward_kernel(membrane, current, grad_spikes, grad_membrane, has_grad_spikes,
                          static_grad_spikes, has_grad_membrane, grad_counts, has_grad_counts,
                          recurrent_weight_t, propagates, later_rows,
                          grad_readout_potential, has_grad_readout_potential, grad_peak, has_grad_peak, peak_step,
                          readout_weight_t, has_readout, decay_out,
                          grad_readout_weight, need_readout_weight,
                          codes, betas, gains, resets, decay_mem, decay_syn, threshold,
                          inputs, has_events, event_first, event_last, event_steps, event_units, event_values,
                          grad_weight, need_weight, grad_recurrent, need_recurrent,
                          grad_inputs, weight_t, need_inputs, recompute, weight, batch, steps, blas_small_gemm):
    """BPTT of one LIF layer; with G[n] = ∂L/∂F[n] = gI[n+1] (F: all input current of step n), the inputs'
    gradient ∂L/∂X = G Wᵀ into ``grad_inputs`` [K, B, T, P] when ``need_inputs`` (``weight_t`` = Wᵀ [K, N, P]):
    G of a sample is kept in a [T, N] buffer while its steps are walked, then multiplied by Wᵀ in one small
    GEMM (``np.dot``, BLAS, when ``blas_small_gemm``, else :func:`~surrogate_study.kernels.tile_product.matrix_product`
    on Wᵀ [K, N, P′], P′ ≥ P columns, those past P zero) while it is in cache; G is never written to a [K, B, T, N] array. Cell k: surrogate codes[k], betas[k],
    gains[k], differentiable reset resets[k], and when ``propagates[k]`` the recurrent term
    gS[n] += gI[n+d] Vᵀ (``recurrent_weight_t`` = Vᵀ [K, N, N′], N′ ≥ N columns, those past N zero). The delay d is 2
    when ``later_rows`` is given (scratch for gI[n+2], [tasks, LANES, N]: a recurrent layer with the authors' timing
    whose gradient reads it), else 1 or moot (a feed-forward layer); None makes numba compile the kernel without
    the d = 2 code (its branches are pruned), which leaves a feed-forward layer's loops as they were before the
    delay existed (measured on captured steps: the feed-forward backward 3.5–4.6 % faster than with d passed as
    a number, the same numbers). One parallel task per cell and fixed chunk
    of the batch walks the steps n = T − 1 … 0 of each of its samples from gU[T] = gI[T] = 0; a cell whose
    gradient propagates through V walks ``LANES`` samples of its chunk in lockstep (the last group of a chunk
    may hold fewer; the groups depend only on the batch, not on K or the threads), and gI[n+1] Vᵀ of the
    group is one [lanes, N] × [N, N] product per step (V is read once for the group): ``np.dot`` (BLAS) when
    ``blas_small_gemm`` (:func:`~surrogate_study.kernels.runtime.small_gemm_in_blas`), else :func:`~surrogate_study.kernels.tile_product.matrix_product`.
    ĝS[n] is ``grad_spikes`` [K, B, T, N], or [K, B, 1, N] the same at every step when
    ``static_grad_spikes``, plus ∂L/∂ζ (``grad_counts`` [K, B, N], the spike counts' gradient) when
    ``has_grad_counts``, plus ∂L/∂F_out[n] W_outᵀ when ``has_readout`` (W_outᵀ = ``readout_weight_t``
    [K, C, N]). ∂L/∂F_out comes from ĝU_out[n] by the adjoint of the readout recursion
    (:func:`readout_backward_kernel`), run along in the same loop over steps; ĝU_out[n] is
    ``grad_readout_potential`` [K, B, T, C] (when ``has_grad_readout_potential``) plus, at the step
    ``peak_step`` [K, B, C] of each logit, the logits' gradient ``grad_peak`` [K, B, C] (when ``has_grad_peak``).

    Weight gradients are summed on the fly over events, per cell and per chunk of samples
    (added to ``grad_weight`` [K, J, P, N], ``grad_recurrent`` [K, J, N, N], ``grad_readout_weight``
    [K, J, N, C]; the caller sums the J chunks, a fixed split of the batch, so the sums do not depend on K or
    the threads, and zeroes the last two; ``grad_weight`` may hold anything: each task zeroes its [P, N]
    block first, while it is in cache, where a separate pass wrote it to memory and read it back (9 % of an
    MNIST-shaped training step, P = 784, K = 16, measured)): ∂L/∂W += X[n]ᵀ G[n] over non-zero inputs X [K or 1, B, T, P] (or over the
    input events, as in the forward kernel), ∂L/∂V += S[n]ᵀ G[n] and ∂L/∂W_out += S[n]ᵀ ∂L/∂F_out[n] over
    the neurons that spiked at step n (listed once per step).

    U [K, B, T, N] (and I, for a differentiable reset) is read from ``membrane`` (``current``), or, with
    ``recompute`` (feed-forward layers: the forward pass then stores neither), formed again per sample from the
    inputs and W [K, P, N] (``weight``) into a [T, N] buffer that stays in cache, by the forward kernel's
    recursion with the same operations in the same order (so the same numbers, tested): writing and reading
    back U through memory costs more than the recursion (measured). B = ``batch``, T = ``steps``."""
    # views of borrowed arrays carry no owner: no atomic reference counts per row, event or spike (borrowed_arrays)
    membrane = borrowed(membrane)
    current = borrowed(current)
    grad_spikes = borrowed(grad_spikes)
    grad_membrane = borrowed(grad_membrane)
    grad_counts = borrowed(grad_counts)
    recurrent_weight_t = borrowed(recurrent_weight_t)
    grad_readout_potential = borrowed(grad_readout_potential)
    grad_peak = borrowed(grad_peak)
    peak_step = borrowed(peak_step)
    readout_weight_t = borrowed(readout_weight_t)
    grad_readout_weight = borrowed(grad_readout_weight)
    inputs = borrowed(inputs)
    event_first = borrowed(event_first)
    event_last = borrowed(event_last)
    event_steps = borrowed(event_steps)
    event_units = borrowed(event_units)
    event_values = borrowed(event_values)
    grad_weight = borrowed(grad_weight)
    grad_recurrent = borrowed(grad_recurrent)
    grad_inputs = borrowed(grad_inputs)
    weight_t = borrowed(weight_t)
    weight = borrowed(weight)
    cells, neurons = codes.shape[0], weight.shape[2]
    classes = readout_weight_t.shape[1]
    chunks = grad_weight.shape[1]
    n_in = inputs.shape[3]
    shared = inputs.shape[0] == 1
    lam_m, lam_s, theta = cast_like(decay_mem, membrane), cast_like(decay_syn, membrane), cast_like(threshold, membrane)
    leak, zero = cast_like(1.0 - decay_mem, membrane), cast_like(0.0, membrane)
    lam_o, leak_o = cast_like(decay_out, membrane), cast_like(1.0 - decay_out, membrane)
    line = max(1, 64 // membrane.itemsize)  # entries per 64-byte cache line
    for task in numba.prange(cells * chunks):
        cell, chunk = task // chunks, task % chunks
        source = 0 if shared else cell
        code, reset, propagate = codes[cell], resets[cell], propagates[cell]
        beta, gain = cast_like(betas[cell], membrane), cast_like(gains[cell], membrane)
        lanes = LANES if propagate else 1  # samples walked in lockstep (see the docstring)
        acc_w = grad_weight[cell, chunk]
        if need_weight:  # zeroed here, by the task that sums into it, while it is in cache (see the docstring)
            for p in range(acc_w.shape[0]):
                acc_w[p, :] = zero
        acc_v = grad_recurrent[cell if need_recurrent else 0, chunk if need_recurrent else 0]  # else a dummy
        gs_owned = np.empty(neurons, dtype=membrane.dtype)
        gs = borrowed(gs_owned)
        gu_owned = np.empty((lanes, neurons), dtype=membrane.dtype)  # gU[n+1] of each lane's sample
        gu = borrowed(gu_owned)
        gi_owned = np.empty((lanes, neurons), dtype=membrane.dtype)  # gI[n+1]
        gi = borrowed(gi_owned)
        # gI[n+d] of each lane, ∂L/∂(S[n] V): gI[n+1] itself, or gI[n+2] kept in ``later_rows`` (the
        # ``later_rows is None`` tests are pruned at compile time: see the docstring)
        g_arriving = gi if later_rows is None else borrowed(later_rows[task])
        prop_owned = np.empty((lanes if propagate else 1, recurrent_weight_t.shape[2]), dtype=membrane.dtype)  # gI[n+1] Vᵀ
        prop = borrowed(prop_owned)
        sigma_owned = np.empty(neurons, dtype=membrane.dtype)
        sigma = borrowed(sigma_owned)
        scale_bits_owned = np.empty(neurons, dtype=np.int32)
        scale_bits = borrowed(scale_bits_owned)
        u_bar_owned = np.empty((lanes, classes), dtype=membrane.dtype)
        u_bar = borrowed(u_bar_owned)
        i_bar_owned = np.empty((lanes, classes), dtype=membrane.dtype)
        i_bar = borrowed(i_bar_owned)
        g_out_owned = np.empty(classes, dtype=membrane.dtype)  # ∂L/∂F_out[n]
        g_out = borrowed(g_out_owned)
        g_pot_owned = np.empty(classes, dtype=membrane.dtype)  # ĝU_out[n]
        g_pot = borrowed(g_pot_owned)
        acc_out = grad_readout_weight[cell if need_readout_weight else 0, chunk if need_readout_weight else 0]
        fired_at_owned = np.empty(neurons, dtype=np.int64)
        fired_at = borrowed(fired_at_owned)
        active_at_owned = np.empty(n_in, dtype=np.int64)
        active_at = borrowed(active_at_owned)
        u_buffer_owned = np.empty((steps if recompute else 1, neurons), dtype=membrane.dtype)  # U[n] of one sample
        u_buffer = borrowed(u_buffer_owned)
        i_buffer_owned = np.empty((steps if recompute and reset else 1, neurons), dtype=membrane.dtype)  # I[n]
        i_buffer = borrowed(i_buffer_owned)
        u_state_owned = np.empty(neurons, dtype=membrane.dtype)
        u_state = borrowed(u_state_owned)
        i_state_owned = np.empty(neurons, dtype=membrane.dtype)
        i_state = borrowed(i_state_owned)
        g_buffer_owned = np.empty((lanes, steps if need_inputs else 1, neurons), dtype=membrane.dtype)  # G[n] per lane
        g_buffer = borrowed(g_buffer_owned)
        event_start_owned = np.zeros(lanes, dtype=np.int64)  # each lane's input events: those of steps > n lie at
        event_start = borrowed(event_start_owned)
        event_next_owned = np.zeros(lanes, dtype=np.int64)  # and after event_next[lane]
        event_next = borrowed(event_next_owned)
        first, last = chunk * batch // chunks, (chunk + 1) * batch // chunks
        for group in range(first, last, lanes):
            count = min(lanes, last - group)
            if recompute:  # feed-forward only: one lane
                recompute_membrane(inputs[source, 0 if has_events else group], has_events, event_first, event_last,
                                    event_steps, event_units, event_values, source * batch + group, weight[cell],
                                    reset, lam_m, lam_s, leak, theta, u_state, i_state, u_buffer, i_buffer, active_at)
            for lane in range(count):
                for j in range(neurons):  # gU[T] = gI[T] = 0 (and gI[T+1] = 0)
                    gu[lane, j] = zero
                    gi[lane, j] = zero
                    if later_rows is not None:
                        g_arriving[lane, j] = zero
                for c in range(classes):
                    u_bar[lane, c] = zero
                    i_bar[lane, c] = zero
                if has_events and need_weight:
                    event_start[lane] = event_first[source * batch + group + lane]
                    event_next[lane] = event_last[source * batch + group + lane]
            for n in range(steps - 1, -1, -1):
                if propagate:  # gI[n+d] Vᵀ of all lanes at once: V read once for them all
                    small_product(g_arriving[:count], recurrent_weight_t[cell], prop[:count], blas_small_gemm)
                for lane in range(count):
                    sample = group + lane
                    gu_lane, gi_lane = gu[lane], gi[lane]
                    if recompute:
                        u_row = u_buffer[n]
                    else:
                        u_row = membrane[cell, sample, n]
                        if n > 0:  # the row of the next step, walked backwards (see :mod:`prefetch`)
                            for j in range(0, neurons, line):
                                prefetch(membrane[cell, sample, n - 1], j)
                    if has_grad_spikes and not static_grad_spikes and n > 0:
                        for j in range(0, neurons, line):
                            prefetch(grad_spikes[cell, sample, n - 1], j)
                    # gS[n] = ĝS[n] + ĝζ (the spike counts' gradient, the same at every step), in one pass
                    if has_grad_spikes and has_grad_counts:
                        gs_row, gc_row = grad_spikes[cell, sample, 0 if static_grad_spikes else n], grad_counts[cell, sample]
                        for j in range(neurons):
                            gs[j] = gs_row[j] + gc_row[j]
                    elif has_grad_spikes:
                        gs[:] = grad_spikes[cell, sample, 0 if static_grad_spikes else n]
                    elif has_grad_counts:
                        gs[:] = grad_counts[cell, sample]
                    else:
                        gs[:] = zero
                    # the neurons that spiked at step n, listed only when a weight gradient sums over them
                    fired = spiking_neurons(u_row, theta, fired_at) if need_recurrent else -1
                    if has_readout:
                        if has_grad_readout_potential:
                            g_pot[:] = grad_readout_potential[cell, sample, n]
                        else:
                            g_pot[:] = zero
                        fired = readout_gradient_step(n, g_pot, grad_peak[cell, sample], has_grad_peak,
                                                       peak_step[cell, sample], g_out, u_bar[lane], i_bar[lane],
                                                       lam_s, lam_o, leak_o, gs, readout_weight_t[cell],
                                                       need_readout_weight, acc_out, fired, u_row, theta, fired_at)
                    if reset:
                        i_row = i_buffer[n] if recompute else current[cell, sample, n]
                        for j in range(neurons):
                            gs[j] -= (lam_m * u_row[j] + leak * i_row[j]) * gu_lane[j]
                    if propagate:
                        prop_lane = prop[lane]
                        for j in range(neurons):
                            gs[j] += prop_lane[j]
                    # weight gradients of step n: G[n] = gI[n+1] = gi_lane (before the update below)
                    if need_weight and has_events:
                        event_next[lane] = event_weight_gradient(n, event_next[lane], event_start[lane], event_steps,
                                                                  event_units, event_values, acc_w, gi_lane)
                    elif need_weight:
                        x_row = inputs[source, sample, n]
                        for q in range(nonzero_entries(x_row, active_at)):
                            x, row = x_row[active_at[q]], acc_w[active_at[q]]
                            for j in range(neurons):
                                row[j] += x * gi_lane[j]
                    if need_recurrent:  # over the neurons that spiked at step n: S[n, p] = Θ(U[n, p] − ϑ) = 1
                        g_v = g_arriving[lane]  # gI[n+d]
                        for q in range(fired):
                            row = acc_v[fired_at[q]]
                            for j in range(neurons):
                                row[j] += g_v[j]
                    if need_inputs:
                        out = g_buffer[lane, n]
                        for j in range(neurons):
                            out[j] = gi_lane[j]
                    if later_rows is not None:  # gI[n+1] becomes gI[(n−1)+2]
                        later = g_arriving[lane]
                        for j in range(neurons):
                            later[j] = gi_lane[j]
                    adjoint_step(code, u_row, theta, beta, gain, sigma, scale_bits, gs, gu_lane, gi_lane, lam_m, lam_s, leak)
                    if has_grad_membrane:
                        gu_row = grad_membrane[cell, sample, n]
                        for j in range(neurons):
                            gu_lane[j] += gu_row[j]
            if need_inputs:  # ∂L/∂X of each sample = G Wᵀ, [T, N] × [N, P]
                for lane in range(count):
                    small_product(g_buffer[lane], weight_t[cell], grad_inputs[cell, group + lane], blas_small_gemm)
        keep_alive(gs_owned, gu_owned, gi_owned, prop_owned, sigma_owned, scale_bits_owned, u_bar_owned, i_bar_owned, g_out_owned, g_pot_owned, fired_at_owned, active_at_owned, u_buffer_owned, i_buffer_owned, u_state_owned, i_state_owned, g_buffer_owned, event_start_owned, event_next_owned)
