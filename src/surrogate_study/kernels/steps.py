"""Inline per-step helpers of the layer kernels (compiled into every kernel that calls them, ``inline="always"``).

Per neuron row at step n, with σ′ the surrogate derivative of each cell (a code of
:data:`~surrogate_study.kernels.options.KERNEL_SHAPES`, β, times β when asymptotic):

    S[n] = Θ(U[n] − ϑ),  m[n] = λ_mem U[n] + (1 − λ_mem) I[n],  U[n+1] = m[n] (1 − S[n])
    gU[n] = ĝU[n] + λ_mem (1 − S[n]) gU[n+1] + σ′[n] gS[n]                     (:func:`adjoint_step`)
    gI[n] = λ_syn gI[n+1] + (1 − λ_mem)(1 − S[n]) gU[n+1]
    I_out[n+1] = λ_syn I_out[n] + F_out[n],  U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I_out[n]   (:func:`readout_step`)

and their adjoints; the small products of the backward pass (:func:`small_product`: BLAS or the tiled
product of :mod:`~surrogate_study.kernels.tile_product`) and the event-driven weight-gradient step.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import overload

from surrogate_study.kernels.options import COMPILE
from surrogate_study.kernels.tile_product import matrix_product


def cast_like(value: float, like: np.ndarray):
    """``value`` in the dtype of ``like``: float32 arrays are then computed on in float32 (SIMD). In compiled
    code a cast (the overload below), so that it costs nothing inside a loop (an earlier version boxed the value
    in a one-element array: a heap allocation per call, ~30 ns, three per σ′ row)."""
    return like.dtype.type(value)


@overload(cast_like, inline="always")
def _cast_like_compiled(value, like):
    dtype = like.dtype

    def cast(value, like):
        return dtype(value)

    return cast


#: Below this argument the vectorised float32 exp returns 0 (e⁻⁶⁴ ≈ 1.6e−28): smaller values only make
#: denormal products downstream (σ′ · gS, then decayed: ~100× slower arithmetic on x86; measured: a K = 9
#: Sigmoid′ step at β = 100 took 0.87 s instead of 0.2 s) and lie far below the float32 resolution of every
#: gradient they are added to. (Float32 4 s(1 − s) is exactly 0 already from x ≈ +17 on.)
EXP_CUTOFF = -64.0


@numba.njit(inline="always", **COMPILE)
def exp_nonpositive_row(z, out, scale_bits) -> None:
    """out[j] = exp(z[j]) for float32 rows z ≤ 0 in a loop that vectorises (no libm call): Cephes' expf,
    exp(z) = 2^k · exp(r) with k = round(z / ln 2), r = z − k ln 2 (two-part ln 2) and a degree-7
    polynomial for exp(r), |r| ≤ ln 2 / 2 (error within 1 ulp of the float64 exp, tested); the power 2^k
    is written as float32 bits, (k + 127) · 2²³, into ``scale_bits`` (int32, same length); 0 for
    z < ``EXP_CUTOFF``. NaN stays NaN. ``out`` may be ``z``."""
    scale = scale_bits.view(np.float32)
    cutoff = np.float32(EXP_CUTOFF)
    for j in range(out.shape[0]):
        x = z[j]
        kept = x >= cutoff
        x = max(x, cutoff)
        k = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
        r = x - k * np.float32(0.693359375) + k * np.float32(2.12194440e-4)
        p = np.float32(1.9875691500e-4)
        p = p * r + np.float32(1.3981999507e-3)
        p = p * r + np.float32(8.3334519073e-3)
        p = p * r + np.float32(4.1665795894e-2)
        p = p * r + np.float32(1.6666665459e-1)
        p = p * r + np.float32(5.0000001201e-1)
        out[j] = p * r * r + r + np.float32(1.0) if z[j] == z[j] else z[j]  # NaN stays NaN
        scale_bits[j] = (np.int32(k) + np.int32(127)) << np.int32(23) if kept else np.int32(0)
    for j in range(out.shape[0]):
        out[j] = out[j] * scale[j]


@numba.njit(inline="always", **COMPILE)
def superspike_prime(u, threshold, beta, gain, one):
    """SuperSpike's scaled surrogate derivative at one membrane value: gain / (β|u − ϑ| + 1)² (one place for
    the formula; inlined into the loops of :func:`surrogate_row` and :func:`adjoint_step`, which vectorise).
    ``one`` is 1 in the dtype of the rows (float32 stays float32)."""
    d = beta * abs(u - threshold) + one
    return gain / (d * d)


@numba.njit(inline="always", **COMPILE)
def surrogate_row(code: int, membrane_row, threshold, beta, gain, out, scale_bits) -> None:
    """out[j] = gain · σ′(U[j] − ϑ) over one time step of one block; the shape branch is outside the loop.
    ``scale_bits`` is int32 scratch of the row's length (the vectorised exp of float32 Sigmoid′)."""
    one, zero, four = cast_like(1.0, out), cast_like(0.0, out), cast_like(4.0, out)
    if code == 0:  # SuperSpike: 1 / (β|x| + 1)²
        for j in range(out.shape[0]):
            out[j] = superspike_prime(membrane_row[j], threshold, beta, gain, one)
    elif code == 1 and out.itemsize == 4:  # sigmoid′ in float32: 4 e / (1 + e)², e = exp(−β|x|) (= 4 s(1 − s))
        for j in range(out.shape[0]):
            out[j] = -beta * abs(membrane_row[j] - threshold)
        exp_nonpositive_row(out, out, scale_bits)
        for j in range(out.shape[0]):
            d = one + out[j]
            out[j] = four * gain * out[j] / (d * d)
    elif code == 1:  # sigmoid′, normalized: 4 s(βx)(1 − s(βx)), libm exp (float64)
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


@numba.njit(inline="always", **COMPILE)
def adjoint_step(code: int, membrane_row, threshold, beta, gain, sigma, scale_bits, gs, gu, gi, lam_m, lam_s,
                  leak) -> None:
    """One backward step n of one sample: with c = (1 − S[n]) gU[n+1], S[n] = Θ(U[n] − ϑ) (from U: the spikes
    are not read),

        gU[n] = λ_m c + σ′(U[n] − ϑ) gS[n],  gI[n] = λ_s gI[n+1] + (1 − λ_m) c   (``gu``, ``gi`` in place).

    SuperSpike's σ′ (:func:`superspike_prime`) is formed in the same pass over the neurons (one pass instead
    of two, the same operations: the same numbers); other shapes take it from :func:`surrogate_row` into ``sigma`` first."""
    zero, one = cast_like(0.0, gu), cast_like(1.0, gu)
    if code == 0:
        for j in range(gu.shape[0]):
            u = membrane_row[j]
            carried = zero if u > threshold else gu[j]
            gu[j] = lam_m * carried + superspike_prime(u, threshold, beta, gain, one) * gs[j]
            gi[j] = lam_s * gi[j] + leak * carried
    else:
        surrogate_row(code, membrane_row, threshold, beta, gain, sigma, scale_bits)
        for j in range(gu.shape[0]):
            carried = zero if membrane_row[j] > threshold else gu[j]
            gu[j] = lam_m * carried + sigma[j] * gs[j]
            gi[j] = lam_s * gi[j] + leak * carried


@numba.njit(inline="always", **COMPILE)
def add_weighted_rows(out, coefficients, rows) -> None:
    """out[j] += Σ_c coefficients[c] · rows[c, j] (a vector–matrix product as row updates), four rows per
    pass over ``out`` (one load and store of out[j] per four rows; the loop over j vectorises: ~35 GFlop/s
    for 100 × 100 here, against 2 GFlop/s for the dot-product form and 8 GFlop/s with a test for zero
    coefficients inside the block loop)."""
    count, width = coefficients.shape[0], out.shape[0]
    c = 0
    while c + 4 <= count:
        g0, g1, g2, g3 = coefficients[c], coefficients[c + 1], coefficients[c + 2], coefficients[c + 3]
        block = rows[c : c + 4]
        for j in range(width):
            out[j] += g0 * block[0, j] + g1 * block[1, j] + g2 * block[2, j] + g3 * block[3, j]
        c += 4
    while c < count:
        g = coefficients[c]
        for j in range(width):
            out[j] += g * rows[c, j]
        c += 1


@numba.njit(inline="always", **COMPILE)
def small_product(a, b, out, blas: bool) -> None:
    """out = a b for the backward's small products: ``np.dot`` (BLAS) when ``blas`` (:func:`~surrogate_study.kernels.runtime.small_gemm_in_blas`), else
    :func:`~surrogate_study.kernels.tile_product.matrix_product` (``b``'s rows padded to whole vectors; out's width may
    be less than b's)."""
    if blas:
        np.dot(a, b, out)
    else:
        matrix_product(a, b, out)


@numba.njit(inline="always", **COMPILE)
def any_nonzero(values) -> bool:
    """Whether any entry of the 1-D array ``values`` is non-zero."""
    for value in values:
        if value != 0:
            return True
    return False


@numba.njit(inline="always", **COMPILE)
def readout_step(input_row, potential_row, u_out, i_out, lam_s, lam_o, leak_o) -> None:
    """One step n of the leaky readout: U_out[n] into ``potential_row``, then
    U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I[n], I[n+1] = λ_s I[n] + F_out[n] (state ``u_out``, ``i_out``)."""
    for c in range(u_out.shape[0]):
        potential_row[c] = u_out[c]
        u_out[c] = lam_o * u_out[c] + leak_o * i_out[c]
        i_out[c] = lam_s * i_out[c] + input_row[c]


@numba.njit(inline="always", **COMPILE)
def track_peak(potential_row, step: int, peak, peak_step) -> None:
    """The running maximum over time of U_out[n] per class, and its first step (as ``torch.max`` over the
    time dimension: the first maximum; a NaN, once seen, is the maximum)."""
    for c in range(potential_row.shape[0]):
        value, best = potential_row[c], peak[c]
        if step == 0 or value > best or (value != value and best == best):
            peak[c] = value
            peak_step[c] = step


@numba.njit(inline="always", **COMPILE)
def readout_adjoint_step(grad_potential_row, grad_input_row, u_bar, i_bar, lam_s, lam_o, leak_o) -> None:
    """One step n of the readout's adjoint, run backwards: ∂L/∂F_out[n] = ī[n+1] into ``grad_input_row``,
    then ī[n] = (1 − λ_out) ū[n+1] + λ_s ī[n+1], ū[n] = ĝU[n] + λ_out ū[n+1]."""
    for c in range(u_bar.shape[0]):
        grad_input_row[c] = i_bar[c]
        i_bar[c] = leak_o * u_bar[c] + lam_s * i_bar[c]
        u_bar[c] = grad_potential_row[c] + lam_o * u_bar[c]


@numba.njit(inline="always", **COMPILE)
def any_above(row, threshold) -> bool:
    """Whether some row[j] > threshold (an OR over the whole row, no early exit: it vectorises)."""
    found = False
    for j in range(row.shape[0]):
        found |= row[j] > threshold
    return found


@numba.njit(inline="always", **COMPILE)
def spiking_neurons(membrane_row, threshold, out) -> int:
    """Write the indices j with S[j] = Θ(U[j] − ϑ) = 1 to ``out[:m]`` and return m (a compaction without
    branches: every index is written, the position advances only when j spiked)."""
    count = 0
    for j in range(membrane_row.shape[0]):
        out[count] = j
        count += 1 if membrane_row[j] > threshold else 0
    return count


@numba.njit(inline="always", **COMPILE)
def nonzero_entries(row, out) -> int:
    """Write the indices p with row[p] ≠ 0 to ``out[:m]`` and return m (branch-free, as above): a dense
    spike input is scanned once per step, and only its non-zero entries' rows are touched (a branch per entry
    mispredicts on sparse spikes and costs about twice the whole layer update, measured)."""
    count = 0
    for p in range(row.shape[0]):
        out[count] = p
        count += 1 if row[p] != 0 else 0
    return count


@numba.njit(inline="always", **COMPILE)
def recompute_membrane(sample_inputs, has_events, event_first, event_last, event_steps, event_units, event_values, row,
                        weight, store_current, lam_m, lam_s, leak, theta, u, i, membrane, current, active_at) -> None:
    """U[n] (and I[n] when ``store_current``) of one sample of a feed-forward layer into ``membrane``
    (``current``) [T, N]: the recursion of :func:`layer_forward_kernel`, operation for operation,
    U[n+1] = (λ_m U[n] + (1 − λ_m) I[n]) (1 − S[n]), I[n+1] = λ_s I[n] + Σ_{p: X[n,p] ≠ 0} X[n,p] W[p],
    from the events of input row ``row`` (``has_events``) or from the dense inputs X [T, P] of the sample."""
    zero = cast_like(0.0, membrane)
    for j in range(u.shape[0]):
        u[j] = zero
        i[j] = zero
    event, event_end = 0, 0
    if has_events:
        event, event_end = event_first[row], event_last[row]
    for n in range(membrane.shape[0]):
        u_row = membrane[n]
        if store_current:
            i_row = current[n]
            for j in range(u.shape[0]):
                i_row[j] = i[j]
        for j in range(u.shape[0]):
            u_now = u[j]
            u_row[j] = u_now
            u_next = lam_m * u_now + leak * i[j]
            u[j] = zero if u_now > theta else u_next
            i[j] = lam_s * i[j]
        if has_events:
            while event < event_end and event_steps[event] == n:
                x, w = event_values[event], weight[event_units[event]]
                for j in range(u.shape[0]):
                    i[j] += x * w[j]
                event += 1
        else:
            x_row = sample_inputs[n]
            for q in range(nonzero_entries(x_row, active_at)):
                x, w = x_row[active_at[q]], weight[active_at[q]]
                for j in range(u.shape[0]):
                    i[j] += x * w[j]


@numba.njit(inline="always", **COMPILE)
def readout_gradient_step(n, g_pot, sample_grad_peak, has_grad_peak, sample_peak_step, g_out, u_bar, i_bar,
                           lam_s, lam_o, leak_o, gs, readout_weight_t, need_readout_weight, acc_out, fired,
                           u_row, theta, fired_at) -> int:
    """The readout's part of backward step n of one sample: ĝU_out[n] (``g_pot``, given) plus the logits'
    gradient ``sample_grad_peak`` [C] at their peak steps ``sample_peak_step``, the readout's adjoint step
    (∂L/∂F_out[n] = ī[n+1] into ``g_out``, :func:`readout_adjoint_step`), then gS += ∂L/∂F_out[n] W_outᵀ
    (``readout_weight_t`` [C, N]) and, when ``need_readout_weight``, ∂L/∂W_out += S[n]ᵀ ∂L/∂F_out[n] over the
    neurons that spiked (``acc_out`` [N, C]). Returns how many neurons spiked at step n, listed in
    ``fired_at`` (``fired`` if they were listed already, −1 if they were not and did not need to be)."""
    classes = g_out.shape[0]
    if has_grad_peak:
        for c in range(classes):
            if sample_peak_step[c] == n:
                g_pot[c] += sample_grad_peak[c]
    readout_adjoint_step(g_pot, g_out, u_bar, i_bar, lam_s, lam_o, leak_o)
    if any_nonzero(g_out):  # 0 after the last step at which a logit peaked
        add_weighted_rows(gs, g_out, readout_weight_t)
        if need_readout_weight:
            if fired < 0:  # listed only when some neuron spiked (a vector test first)
                fired = spiking_neurons(u_row, theta, fired_at) if any_above(u_row, theta) else 0
            for q in range(fired):
                row = acc_out[fired_at[q]]
                for c in range(classes):
                    row[c] += g_out[c]
    return fired


@numba.njit(inline="always", **COMPILE)
def event_weight_gradient(n, event, first, event_steps, event_units, event_values, acc_w, g) -> int:
    """∂L/∂W += X[n]ᵀ G[n] over the input events of step n of one sample: its events lie in
    ``first``:``event`` sorted by step and are walked backwards from ``event``; ``acc_w`` [P, N], G[n] = ``g``
    [N]. Returns the first event of step n (where the walk goes on at step n − 1)."""
    while event > first and event_steps[event - 1] == n:
        event -= 1
        x, row = event_values[event], acc_w[event_units[event]]
        for j in range(g.shape[0]):
            row[j] += x * g[j]
    return event
