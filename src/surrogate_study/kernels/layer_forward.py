"""The forward kernel of one event-driven LIF layer, sample-major [K, B, T, N].

One parallel task per (cell, sample) walks that sample's time steps with the layer state in L1:

    S[n] = Θ(U[n] − ϑ),  U[n+1] = (λ_mem U[n] + (1 − λ_mem) I[n]) (1 − S[n]),
    I[n+1] = λ_syn I[n] + Σ_{p: X[n,p] ≠ 0} X[n,p] W[p] (+ Σ_{j: S[n+1−d,j]=1} V[j], recurrent delay d = 1 or 2),

the readout's input current and potential (when the layer drives the readout) and the spike counts in the
same pass; optionally the spikes are listed as events for the next layer.
"""

from __future__ import annotations

import numba
import numpy as np

from surrogate_study.kernels.borrowed_arrays import borrowed, keep_alive
from surrogate_study.kernels.options import COMPILE
from surrogate_study.kernels.steps import cast_like, nonzero_entries, readout_step, spiking_neurons, track_peak


@numba.njit(parallel=True, cache=True, **COMPILE)
def layer_forward_kernel(inputs, steps, has_events, event_first, event_last, event_steps, event_units, event_values,
                         weight, recurrent_weight, recurrent, recurrent_delay, readout_weight, has_readout, store_current,
                         store_membrane, store_spikes, decay_mem, decay_syn, threshold, decay_out, membrane, current, spikes,
                         counts, readout_potential, peak, peak_step, emit_events, spike_steps, spike_units, spike_last):
    """Fill U[n], (I[n] when ``store_current``), S[n] [K, B, T, N] (T = ``steps``) and the spike counts ζ = Σ_n S[n]
    [K, B, N] of a LIF layer driven by inputs X [K or 1, B, T, P] through W [K, P, N], with recurrent
    weights V [K, N, N] when ``recurrent`` (the spikes of step n enter I[n + ``recurrent_delay``]); when ``has_readout`` also the potential U_out [K, B, T, C] of the
    leaky readout driven by F_out[n] = S[n] W_out (W_out [K, N, C]; F_out is not stored), by the recursion
    of :func:`readout_forward_kernel`: U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I_out[n],
    I_out[n+1] = λ_s I_out[n] + F_out[n], from 0, and the logits max_n U_out[n] (``peak`` [K, B, C]) with the
    step at which each is reached (``peak_step``). U is written only when ``store_membrane`` (a backward
    pass or the caller needs it), S only when ``store_spikes`` (the backward pass takes S = Θ(U − ϑ) from
    U; a layer whose spikes feed no other layer leaves them out).
    With ``has_events`` the inputs are events instead (row r = k·B + b, or b when shared: the events
    ``event_first[r]:event_last[r]``, sorted by (step, unit), value = spike count; ``spike_data.InputEvents`` or
    a lower layer's spikes), and ``inputs`` only gives the number of input rows. With ``emit_events`` the
    layer's own spikes are listed as such events (what the next layer reads instead of S): the steps and
    units of those of row r = k·B + b from position r·T·N of ``spike_steps``, ``spike_units`` on, their end
    into ``spike_last[r]`` (room for T·N spikes a row; see :func:`compact_events_kernel`).
    The membrane update is branch-free; the neurons that spike at step n are listed by a branch-free
    compaction, and only their rows of W_out and V are added."""
    # views of borrowed arrays carry no owner: no atomic reference counts per row, event or spike (borrowed_arrays)
    inputs = borrowed(inputs)
    event_first = borrowed(event_first)
    event_last = borrowed(event_last)
    event_steps = borrowed(event_steps)
    event_units = borrowed(event_units)
    event_values = borrowed(event_values)
    weight = borrowed(weight)
    recurrent_weight = borrowed(recurrent_weight)
    readout_weight = borrowed(readout_weight)
    membrane = borrowed(membrane)
    current = borrowed(current)
    spikes = borrowed(spikes)
    counts = borrowed(counts)
    readout_potential = borrowed(readout_potential)
    peak = borrowed(peak)
    peak_step = borrowed(peak_step)
    spike_steps = borrowed(spike_steps)
    spike_units = borrowed(spike_units)
    spike_last = borrowed(spike_last)
    cells, batch, neurons = counts.shape
    n_in = inputs.shape[3]
    classes = readout_potential.shape[3]
    shared = inputs.shape[0] == 1
    lam_m, lam_s, theta = cast_like(decay_mem, membrane), cast_like(decay_syn, membrane), cast_like(threshold, membrane)
    leak, one, zero = cast_like(1.0 - decay_mem, membrane), cast_like(1.0, membrane), cast_like(0.0, membrane)
    lam_o, leak_o = cast_like(decay_out, membrane), cast_like(1.0 - decay_out, membrane)
    for task in numba.prange(cells * batch):
        cell, sample = task // batch, task % batch
        source = 0 if shared else cell
        u_owned = np.zeros(neurons, dtype=membrane.dtype)
        u = borrowed(u_owned)
        i_owned = np.zeros(neurons, dtype=membrane.dtype)
        i = borrowed(i_owned)
        count_owned = np.zeros(neurons, dtype=membrane.dtype)
        count = borrowed(count_owned)
        f_out_owned = np.empty(classes, dtype=membrane.dtype)
        f_out = borrowed(f_out_owned)
        u_out_owned = np.zeros(classes, dtype=membrane.dtype)
        u_out = borrowed(u_out_owned)
        i_out_owned = np.zeros(classes, dtype=membrane.dtype)
        i_out = borrowed(i_out_owned)
        fired_at_owned = np.empty(neurons, dtype=np.int64)  # indices of the neurons that spike at step n
        fired_at = borrowed(fired_at_owned)
        arriving_at_owned = np.empty(neurons if recurrent_delay == 2 else 1, dtype=np.int64)  # fired at step n − 1
        arriving_at = borrowed(arriving_at_owned)
        arriving = 0
        u_kept_owned = np.empty(neurons, dtype=membrane.dtype)  # U[n] when it is not stored
        u_kept = borrowed(u_kept_owned)
        active_at_owned = np.empty(n_in, dtype=np.int64)  # indices of the non-zero inputs at step n
        active_at = borrowed(active_at_owned)
        event, event_end = 0, 0
        if has_events:
            event, event_end = event_first[source * batch + sample], event_last[source * batch + sample]
        emitted = task * steps * neurons  # this row's first position in the spike_* arrays
        for n in range(steps):
            u_row = membrane[cell, sample, n] if store_membrane else u_kept
            if store_current:
                i_row = current[cell, sample, n]
                for j in range(neurons):
                    i_row[j] = i[j]
            # whether some neuron spikes at step n: an OR of bytes, so the loop vectorises 8 floats wide (an int64
            # count here made LLVM pick 4 lanes, the width of its 64-bit sum: measured in the disassembly)
            spiking = False
            for j in range(neurons):  # branch-free (selects), so that it vectorises
                u_now = u[j]
                spiking |= u_now > theta
                u_row[j] = u_now
                count[j] += one if u_now > theta else zero
                u_next = lam_m * u_now + leak * i[j]
                u[j] = zero if u_now > theta else u_next
                i[j] = lam_s * i[j]
            if store_spikes:
                s_row = spikes[cell, sample, n]
                for j in range(neurons):
                    s_row[j] = one if u_row[j] > theta else zero
            # listed only at steps with a spike (most steps of a sparse layer have none: the listing is ~40 ns a step)
            fired = spiking_neurons(u_row, theta, fired_at) if (has_readout or recurrent or emit_events) and spiking else 0
            if emit_events:
                for q in range(fired):
                    spike_steps[emitted], spike_units[emitted] = n, fired_at[q]
                    emitted += 1
            if has_events:
                while event < event_end and event_steps[event] == n:
                    x, w = event_values[event], weight[cell, event_units[event]]
                    for j in range(neurons):
                        i[j] += x * w[j]
                    event += 1
            else:
                x_row = inputs[source, sample, n]
                for q in range(nonzero_entries(x_row, active_at)):
                    x, w = x_row[active_at[q]], weight[cell, active_at[q]]
                    for j in range(neurons):
                        i[j] += x * w[j]
            if has_readout:
                for c in range(classes):
                    f_out[c] = zero
                for q in range(fired):
                    w_out = readout_weight[cell, fired_at[q]]
                    for c in range(classes):
                        f_out[c] += w_out[c]
                potential_row = readout_potential[cell, sample, n]
                readout_step(f_out, potential_row, u_out, i_out, lam_s, lam_o, leak_o)
                track_peak(potential_row, n, peak[cell, sample], peak_step[cell, sample])
            if recurrent and recurrent_delay == 1:
                for q in range(fired):
                    v = recurrent_weight[cell, fired_at[q]]
                    for j in range(neurons):
                        i[j] += v[j]
            elif recurrent:  # the spikes of step n − 1 arrive; those of step n wait one step
                for q in range(arriving):
                    v = recurrent_weight[cell, arriving_at[q]]
                    for j in range(neurons):
                        i[j] += v[j]
                for q in range(fired):
                    arriving_at[q] = fired_at[q]
                arriving = fired
        count_row = counts[cell, sample]
        for j in range(neurons):
            count_row[j] = count[j]
        if emit_events:
            spike_last[task] = emitted
        keep_alive(u_owned, i_owned, count_owned, f_out_owned, u_out_owned, i_out_owned, fired_at_owned, arriving_at_owned, u_kept_owned, active_at_owned)
