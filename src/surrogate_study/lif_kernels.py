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
from numba.extending import overload

from surrogate_study.borrowed_arrays import borrowed, keep_alive
from surrogate_study.prefetch import prefetch
from surrogate_study.tile_product import matrix_product

# numba's default OpenMP thread pool keeps its workers spinning after every parallel kernel; they then
# compete with PyTorch's own threads for the cores (measured: loss and Adam 5–10× slower between the
# kernels, backward 2×). The workqueue pool's workers sleep. Set before the first parallel kernel runs.
if numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"


def _scipy_blas():
    """SciPy's OpenBLAS, which numba's ``np.dot`` calls, and numpy's bundled one (same prefix), as a threadpoolctl
    selection (loaded first)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library that numba's np.dot calls)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(prefix="libscipy_openblas")


_SCIPY_BLAS = _scipy_blas()
# One thread for that BLAS, called from inside the kernels' parallel tasks (the inputs' gradient, one
# [T, N] × [N, P] product per sample): the kernels already run one task per thread, and OpenBLAS would otherwise
# start threads of its own for products above its threshold (T·N·P > 262 144) in every task. torch uses MKL and
# is not affected.
_SCIPY_BLAS.limit(limits=1)

#: Compile options of every kernel. ``error_model="numpy"``: a float division is a plain division (numba's
#: default Python error model tests every divisor for zero and raises, a branch that kept σ′'s loops scalar);
#: ``contract``: a·b + c may be one fused multiply-add (rounded once). No reassociation, no finite-math
#: assumption: NaN and inf still propagate (divergence detection relies on it).
_COMPILE = dict(error_model="numpy", fastmath={"contract"})

KERNEL_SHAPES: dict[str, int] = {"superspike": 0, "sigmoid": 1, "esser": 2, "constant": 3, "true": 4}
BLOCK = 1024  # neurons per block: contiguous runs in memory for every time step
#: Samples of a recurrent layer whose gradient propagates through V walked in lockstep by the backward kernel:
#: the term gI[n+1] Vᵀ of all of them is then one [LANES, N] × [N, N] GEMM per step (V read once for all),
#: ~4× faster per sample than LANES separate vector–matrix products (measured: 254 against 1030 ns for
#: N = 100, float32, one thread).
LANES = 8


def _blas_has_small_gemm() -> bool:
    """Whether the BLAS that numba's ``np.dot`` calls has a small-matrix GEMM path for this CPU: OpenBLAS's
    ``sgemm_small_kernel`` exists for its SkylakeX-family cores (AVX-512) only. Elsewhere (e.g. AMD Zen, served
    by the Haswell kernels) every product first packs both operands (``sgemm_itcopy``/``oncopy``), and the
    kernels take :func:`~surrogate_study.tile_product.matrix_product` instead (measured on an AMD EPYC, Zen 3,
    ``benchmarks/small_gemm.py``: [8, 100] × [100, 100] in 2.0–2.1 against 8.1–8.5 µs, [100, 100] × [100, 100]
    in 25.3–26.4 against 30.2–31.0 µs). Read once from the library's reported core (threadpoolctl), so the choice, and with it the
    float32 sums, is fixed per machine."""
    cores = {str(info.get("architecture", "")).lower() for info in _SCIPY_BLAS.info()}
    return bool(cores) and cores <= {"skylakex", "cooperlake", "sapphirerapids"}


#: ``np.dot`` (BLAS) for the kernels' small products (the recurrent term's [lanes, N] × [N, N] per step, ∂L/∂X's
#: [T, N] × [N, P] per sample), else :func:`~surrogate_study.tile_product.matrix_product`.
SMALL_GEMM_IN_BLAS = _blas_has_small_gemm()


def _as(value: float, like: np.ndarray):
    """``value`` in the dtype of ``like``: float32 arrays are then computed on in float32 (SIMD). In compiled
    code a cast (the overload below), so that it costs nothing inside a loop (an earlier version boxed the value
    in a one-element array: a heap allocation per call, ~30 ns, three per σ′ row)."""
    return like.dtype.type(value)


@overload(_as, inline="always")
def _as_compiled(value, like):
    dtype = like.dtype

    def cast(value, like):
        return dtype(value)

    return cast


#: Below this argument the vectorised float32 exp returns 0 (e⁻⁶⁴ ≈ 1.6e−28): smaller values only make
#: denormal products downstream (σ′ · gS, then decayed: ~100× slower arithmetic on x86; measured: a K = 9
#: Sigmoid′ step at β = 100 took 0.87 s instead of 0.2 s) and lie far below the float32 resolution of every
#: gradient they are added to. (Float32 4 s(1 − s) is exactly 0 already from x ≈ +17 on.)
EXP_CUTOFF = -64.0


@numba.njit(inline="always", **_COMPILE)
def _exp_nonpositive_row(z, out, scale_bits) -> None:
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


@numba.njit(inline="always", **_COMPILE)
def _superspike_prime(u, threshold, beta, gain, one):
    """SuperSpike's scaled surrogate derivative at one membrane value: gain / (β|u − ϑ| + 1)² (one place for
    the formula; inlined into the loops of :func:`_surrogate_row` and :func:`_adjoint_step`, which vectorise).
    ``one`` is 1 in the dtype of the rows (float32 stays float32)."""
    d = beta * abs(u - threshold) + one
    return gain / (d * d)


@numba.njit(inline="always", **_COMPILE)
def _surrogate_row(code: int, membrane_row, threshold, beta, gain, out, scale_bits) -> None:
    """out[j] = gain · σ′(U[j] − ϑ) over one time step of one block; the shape branch is outside the loop.
    ``scale_bits`` is int32 scratch of the row's length (the vectorised exp of float32 Sigmoid′)."""
    one, zero, four = _as(1.0, out), _as(0.0, out), _as(4.0, out)
    if code == 0:  # SuperSpike: 1 / (β|x| + 1)²
        for j in range(out.shape[0]):
            out[j] = _superspike_prime(membrane_row[j], threshold, beta, gain, one)
    elif code == 1 and out.itemsize == 4:  # sigmoid′ in float32: 4 e / (1 + e)², e = exp(−β|x|) (= 4 s(1 − s))
        for j in range(out.shape[0]):
            out[j] = -beta * abs(membrane_row[j] - threshold)
        _exp_nonpositive_row(out, out, scale_bits)
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


@numba.njit(inline="always", **_COMPILE)
def _adjoint_step(code: int, membrane_row, threshold, beta, gain, sigma, scale_bits, gs, gu, gi, lam_m, lam_s,
                  leak) -> None:
    """One backward step n of one sample: with c = (1 − S[n]) gU[n+1], S[n] = Θ(U[n] − ϑ) (from U: the spikes
    are not read),

        gU[n] = λ_m c + σ′(U[n] − ϑ) gS[n],  gI[n] = λ_s gI[n+1] + (1 − λ_m) c   (``gu``, ``gi`` in place).

    SuperSpike's σ′ (:func:`_superspike_prime`) is formed in the same pass over the neurons (one pass instead
    of two, the same operations: the same numbers); other shapes take it from :func:`_surrogate_row` into ``sigma`` first."""
    zero, one = _as(0.0, gu), _as(1.0, gu)
    if code == 0:
        for j in range(gu.shape[0]):
            u = membrane_row[j]
            carried = zero if u > threshold else gu[j]
            gu[j] = lam_m * carried + _superspike_prime(u, threshold, beta, gain, one) * gs[j]
            gi[j] = lam_s * gi[j] + leak * carried
    else:
        _surrogate_row(code, membrane_row, threshold, beta, gain, sigma, scale_bits)
        for j in range(gu.shape[0]):
            carried = zero if membrane_row[j] > threshold else gu[j]
            gu[j] = lam_m * carried + sigma[j] * gs[j]
            gi[j] = lam_s * gi[j] + leak * carried


@numba.njit(inline="always", **_COMPILE)
def _add_weighted_rows(out, coefficients, rows) -> None:
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


@numba.njit(inline="always", **_COMPILE)
def _small_product(a, b, out, blas: bool) -> None:
    """out = a b for the backward's small products: ``np.dot`` (BLAS) when ``blas`` (``SMALL_GEMM_IN_BLAS``), else
    :func:`~surrogate_study.tile_product.matrix_product` (``b``'s rows padded to whole vectors; out's width may
    be less than b's)."""
    if blas:
        np.dot(a, b, out)
    else:
        matrix_product(a, b, out)


@numba.njit(inline="always", **_COMPILE)
def _any_nonzero(values) -> bool:
    """Whether any entry of the 1-D array ``values`` is non-zero."""
    for value in values:
        if value != 0:
            return True
    return False


@numba.njit(inline="always", **_COMPILE)
def _readout_step(input_row, potential_row, u_out, i_out, lam_s, lam_o, leak_o) -> None:
    """One step n of the leaky readout: U_out[n] into ``potential_row``, then
    U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I[n], I[n+1] = λ_s I[n] + F_out[n] (state ``u_out``, ``i_out``)."""
    for c in range(u_out.shape[0]):
        potential_row[c] = u_out[c]
        u_out[c] = lam_o * u_out[c] + leak_o * i_out[c]
        i_out[c] = lam_s * i_out[c] + input_row[c]


@numba.njit(inline="always", **_COMPILE)
def _track_peak(potential_row, step: int, peak, peak_step) -> None:
    """The running maximum over time of U_out[n] per class, and its first step (as ``torch.max`` over the
    time dimension: the first maximum; a NaN, once seen, is the maximum)."""
    for c in range(potential_row.shape[0]):
        value, best = potential_row[c], peak[c]
        if step == 0 or value > best or (value != value and best == best):
            peak[c] = value
            peak_step[c] = step


@numba.njit(inline="always", **_COMPILE)
def _readout_adjoint_step(grad_potential_row, grad_input_row, u_bar, i_bar, lam_s, lam_o, leak_o) -> None:
    """One step n of the readout's adjoint, run backwards: ∂L/∂F_out[n] = ī[n+1] into ``grad_input_row``,
    then ī[n] = (1 − λ_out) ū[n+1] + λ_s ī[n+1], ū[n] = ĝU[n] + λ_out ū[n+1]."""
    for c in range(u_bar.shape[0]):
        grad_input_row[c] = i_bar[c]
        i_bar[c] = leak_o * u_bar[c] + lam_s * i_bar[c]
        u_bar[c] = grad_potential_row[c] + lam_o * u_bar[c]


@numba.njit(inline="always", **_COMPILE)
def _any_above(row, threshold) -> bool:
    """Whether some row[j] > threshold (an OR over the whole row, no early exit: it vectorises)."""
    found = False
    for j in range(row.shape[0]):
        found |= row[j] > threshold
    return found


@numba.njit(inline="always", **_COMPILE)
def _spiking_neurons(membrane_row, threshold, out) -> int:
    """Write the indices j with S[j] = Θ(U[j] − ϑ) = 1 to ``out[:m]`` and return m (a compaction without
    branches: every index is written, the position advances only when j spiked)."""
    count = 0
    for j in range(membrane_row.shape[0]):
        out[count] = j
        count += 1 if membrane_row[j] > threshold else 0
    return count


@numba.njit(inline="always", **_COMPILE)
def _nonzero_entries(row, out) -> int:
    """Write the indices p with row[p] ≠ 0 to ``out[:m]`` and return m (branch-free, as above): a dense
    spike input is scanned once per step, and only its non-zero entries' rows are touched (a branch per entry
    mispredicts on sparse spikes and costs about twice the whole layer update, measured)."""
    count = 0
    for p in range(row.shape[0]):
        out[count] = p
        count += 1 if row[p] != 0 else 0
    return count


@numba.njit(inline="always", **_COMPILE)
def _recompute_membrane(sample_inputs, has_events, event_first, event_last, event_steps, event_units, event_values, row,
                        weight, store_current, lam_m, lam_s, leak, theta, u, i, membrane, current, active_at) -> None:
    """U[n] (and I[n] when ``store_current``) of one sample of a feed-forward layer into ``membrane``
    (``current``) [T, N]: the recursion of :func:`layer_forward_kernel`, operation for operation,
    U[n+1] = (λ_m U[n] + (1 − λ_m) I[n]) (1 − S[n]), I[n+1] = λ_s I[n] + Σ_{p: X[n,p] ≠ 0} X[n,p] W[p],
    from the events of input row ``row`` (``has_events``) or from the dense inputs X [T, P] of the sample."""
    zero = _as(0.0, membrane)
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
            for q in range(_nonzero_entries(x_row, active_at)):
                x, w = x_row[active_at[q]], weight[active_at[q]]
                for j in range(u.shape[0]):
                    i[j] += x * w[j]


@numba.njit(inline="always", **_COMPILE)
def _readout_gradient_step(n, g_pot, sample_grad_peak, has_grad_peak, sample_peak_step, g_out, u_bar, i_bar,
                           lam_s, lam_o, leak_o, gs, readout_weight_t, need_readout_weight, acc_out, fired,
                           u_row, theta, fired_at) -> int:
    """The readout's part of backward step n of one sample: ĝU_out[n] (``g_pot``, given) plus the logits'
    gradient ``sample_grad_peak`` [C] at their peak steps ``sample_peak_step``, the readout's adjoint step
    (∂L/∂F_out[n] = ī[n+1] into ``g_out``, :func:`_readout_adjoint_step`), then gS += ∂L/∂F_out[n] W_outᵀ
    (``readout_weight_t`` [C, N]) and, when ``need_readout_weight``, ∂L/∂W_out += S[n]ᵀ ∂L/∂F_out[n] over the
    neurons that spiked (``acc_out`` [N, C]). Returns how many neurons spiked at step n, listed in
    ``fired_at`` (``fired`` if they were listed already, −1 if they were not and did not need to be)."""
    classes = g_out.shape[0]
    if has_grad_peak:
        for c in range(classes):
            if sample_peak_step[c] == n:
                g_pot[c] += sample_grad_peak[c]
    _readout_adjoint_step(g_pot, g_out, u_bar, i_bar, lam_s, lam_o, leak_o)
    if _any_nonzero(g_out):  # 0 after the last step at which a logit peaked
        _add_weighted_rows(gs, g_out, readout_weight_t)
        if need_readout_weight:
            if fired < 0:  # listed only when some neuron spiked (a vector test first)
                fired = _spiking_neurons(u_row, theta, fired_at) if _any_above(u_row, theta) else 0
            for q in range(fired):
                row = acc_out[fired_at[q]]
                for c in range(classes):
                    row[c] += g_out[c]
    return fired


@numba.njit(inline="always", **_COMPILE)
def _event_weight_gradient(n, event, first, event_steps, event_units, event_values, acc_w, g) -> int:
    """∂L/∂W += X[n]ᵀ G[n] over the input events of step n of one sample: its events lie in
    ``first``:``event`` sorted by step and are walked backwards from ``event``; ``acc_w`` [P, N], G[n] = ``g``
    [N]. Returns the first event of step n (where the walk goes on at step n − 1)."""
    while event > first and event_steps[event - 1] == n:
        event -= 1
        x, row = event_values[event], acc_w[event_units[event]]
        for j in range(g.shape[0]):
            row[j] += x * g[j]
    return event


@numba.njit(inline="always", **_COMPILE)
def _block(task: int, blocks: int, size: int) -> tuple[int, int, int]:
    """Cell, first column and width of parallel task ``task`` (``blocks`` blocks per cell)."""
    start = (task % blocks) * BLOCK
    return task // blocks, start, min(BLOCK, size - start)


@numba.njit(parallel=True, cache=True, **_COMPILE)
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


@numba.njit(parallel=True, cache=True, **_COMPILE)
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
        scale_bits = np.empty(width, dtype=np.int32)
        for n in range(steps - 1, -1, -1):
            u_row, i_row, s_row = membrane[cell, n, start:stop], current[cell, n, start:stop], spikes[cell, n, start:stop]
            out = grad_feedforward[cell, n, start:stop]
            _surrogate_row(code, u_row, theta, beta, gain, sigma, scale_bits)
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
# form S[n] V densely. The backward kernel walks the samples of a recurrent layer whose gradient
# propagates through V in lockstep groups (``LANES``) and adds the recurrent term gI[n+1] Vᵀ of the
# spikes' gradient for the whole group as one small GEMM per step (BLAS).


@numba.njit(parallel=True, cache=True, **_COMPILE)
def layer_forward_kernel(inputs, steps, has_events, event_first, event_last, event_steps, event_units, event_values,
                         weight, recurrent_weight, recurrent, readout_weight, has_readout, store_current,
                         store_membrane, store_spikes, decay_mem, decay_syn, threshold, decay_out, membrane, current, spikes,
                         counts, readout_potential, peak, peak_step, emit_events, spike_steps, spike_units, spike_last):
    """Fill U[n], (I[n] when ``store_current``), S[n] [K, B, T, N] (T = ``steps``) and the spike counts ζ = Σ_n S[n]
    [K, B, N] of a LIF layer driven by inputs X [K or 1, B, T, P] through W [K, P, N], with recurrent
    weights V [K, N, N] when ``recurrent``; when ``has_readout`` also the potential U_out [K, B, T, C] of the
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
    lam_m, lam_s, theta = _as(decay_mem, membrane), _as(decay_syn, membrane), _as(threshold, membrane)
    leak, one, zero = _as(1.0 - decay_mem, membrane), _as(1.0, membrane), _as(0.0, membrane)
    lam_o, leak_o = _as(decay_out, membrane), _as(1.0 - decay_out, membrane)
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
            fired = _spiking_neurons(u_row, theta, fired_at) if (has_readout or recurrent or emit_events) and spiking else 0
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
                for q in range(_nonzero_entries(x_row, active_at)):
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
                _readout_step(f_out, potential_row, u_out, i_out, lam_s, lam_o, leak_o)
                _track_peak(potential_row, n, peak[cell, sample], peak_step[cell, sample])
            if recurrent:
                for q in range(fired):
                    v = recurrent_weight[cell, fired_at[q]]
                    for j in range(neurons):
                        i[j] += v[j]
        count_row = counts[cell, sample]
        for j in range(neurons):
            count_row[j] = count[j]
        if emit_events:
            spike_last[task] = emitted
        keep_alive(u_owned, i_owned, count_owned, f_out_owned, u_out_owned, i_out_owned, fired_at_owned, u_kept_owned, active_at_owned)


@numba.njit(parallel=True, cache=True, **_COMPILE)
def layer_backward_kernel(membrane, current, grad_spikes, grad_membrane, has_grad_spikes,
                          static_grad_spikes, has_grad_membrane, grad_counts, has_grad_counts,
                          recurrent_weight_t, propagates,
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
    GEMM (``np.dot``, BLAS, when ``blas_small_gemm``, else :func:`~surrogate_study.tile_product.matrix_product`
    on Wᵀ [K, N, P′], P′ ≥ P columns, those past P zero) while it is in cache; G is never written to a [K, B, T, N] array. Cell k: surrogate codes[k], betas[k],
    gains[k], differentiable reset resets[k], and when ``propagates[k]`` the recurrent term
    gS[n] += gI[n+1] Vᵀ (``recurrent_weight_t`` = Vᵀ [K, N, N′], N′ ≥ N columns, those past N zero). One parallel task per cell and fixed chunk
    of the batch walks the steps n = T − 1 … 0 of each of its samples from gU[T] = gI[T] = 0; a cell whose
    gradient propagates through V walks ``LANES`` samples of its chunk in lockstep (the last group of a chunk
    may hold fewer; the groups depend only on the batch, not on K or the threads), and gI[n+1] Vᵀ of the
    group is one [lanes, N] × [N, N] product per step (V is read once for the group): ``np.dot`` (BLAS) when
    ``blas_small_gemm`` (``SMALL_GEMM_IN_BLAS``), else :func:`~surrogate_study.tile_product.matrix_product`.
    ĝS[n] is ``grad_spikes`` [K, B, T, N], or [K, B, 1, N] the same at every step when
    ``static_grad_spikes``, plus ∂L/∂ζ (``grad_counts`` [K, B, N], the spike counts' gradient) when
    ``has_grad_counts``, plus ∂L/∂F_out[n] W_outᵀ when ``has_readout`` (W_outᵀ = ``readout_weight_t``
    [K, C, N]). ∂L/∂F_out comes from ĝU_out[n] by the adjoint of the readout recursion
    (:func:`readout_backward_kernel`), run along in the same loop over steps; ĝU_out[n] is
    ``grad_readout_potential`` [K, B, T, C] (when ``has_grad_readout_potential``) plus, at the step
    ``peak_step`` [K, B, C] of each logit, the logits' gradient ``grad_peak`` [K, B, C] (when ``has_grad_peak``).

    Weight gradients are summed on the fly over events, per cell and per chunk of samples
    (added to ``grad_weight`` [K, J, P, N], ``grad_recurrent`` [K, J, N, N], ``grad_readout_weight``
    [K, J, N, C]; the caller zeroes them and sums the J chunks, a fixed split of the batch, so the sums do not
    depend on K or the threads): ∂L/∂W += X[n]ᵀ G[n] over non-zero inputs X [K or 1, B, T, P] (or over the
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
    lam_m, lam_s, theta = _as(decay_mem, membrane), _as(decay_syn, membrane), _as(threshold, membrane)
    leak, zero = _as(1.0 - decay_mem, membrane), _as(0.0, membrane)
    lam_o, leak_o = _as(decay_out, membrane), _as(1.0 - decay_out, membrane)
    line = max(1, 64 // membrane.itemsize)  # entries per 64-byte cache line
    for task in numba.prange(cells * chunks):
        cell, chunk = task // chunks, task % chunks
        source = 0 if shared else cell
        code, reset, propagate = codes[cell], resets[cell], propagates[cell]
        beta, gain = _as(betas[cell], membrane), _as(gains[cell], membrane)
        lanes = LANES if propagate else 1  # samples walked in lockstep (see the docstring)
        acc_w = grad_weight[cell, chunk]
        acc_v = grad_recurrent[cell if need_recurrent else 0, chunk if need_recurrent else 0]  # else a dummy
        gs_owned = np.empty(neurons, dtype=membrane.dtype)
        gs = borrowed(gs_owned)
        gu_owned = np.empty((lanes, neurons), dtype=membrane.dtype)  # gU[n+1] of each lane's sample
        gu = borrowed(gu_owned)
        gi_owned = np.empty((lanes, neurons), dtype=membrane.dtype)  # gI[n+1]
        gi = borrowed(gi_owned)
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
                _recompute_membrane(inputs[source, 0 if has_events else group], has_events, event_first, event_last,
                                    event_steps, event_units, event_values, source * batch + group, weight[cell],
                                    reset, lam_m, lam_s, leak, theta, u_state, i_state, u_buffer, i_buffer, active_at)
            for lane in range(count):
                for j in range(neurons):  # gU[T] = gI[T] = 0
                    gu[lane, j] = zero
                    gi[lane, j] = zero
                for c in range(classes):
                    u_bar[lane, c] = zero
                    i_bar[lane, c] = zero
                if has_events and need_weight:
                    event_start[lane] = event_first[source * batch + group + lane]
                    event_next[lane] = event_last[source * batch + group + lane]
            for n in range(steps - 1, -1, -1):
                if propagate:  # gI[n+1] Vᵀ of all lanes at once: V read once for them all
                    _small_product(gi[:count], recurrent_weight_t[cell], prop[:count], blas_small_gemm)
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
                    fired = _spiking_neurons(u_row, theta, fired_at) if need_recurrent else -1
                    if has_readout:
                        if has_grad_readout_potential:
                            g_pot[:] = grad_readout_potential[cell, sample, n]
                        else:
                            g_pot[:] = zero
                        fired = _readout_gradient_step(n, g_pot, grad_peak[cell, sample], has_grad_peak,
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
                        event_next[lane] = _event_weight_gradient(n, event_next[lane], event_start[lane], event_steps,
                                                                  event_units, event_values, acc_w, gi_lane)
                    elif need_weight:
                        x_row = inputs[source, sample, n]
                        for q in range(_nonzero_entries(x_row, active_at)):
                            x, row = x_row[active_at[q]], acc_w[active_at[q]]
                            for j in range(neurons):
                                row[j] += x * gi_lane[j]
                    if need_recurrent:  # over the neurons that spiked at step n: S[n, p] = Θ(U[n, p] − ϑ) = 1
                        for q in range(fired):
                            row = acc_v[fired_at[q]]
                            for j in range(neurons):
                                row[j] += gi_lane[j]
                    if need_inputs:
                        out = g_buffer[lane, n]
                        for j in range(neurons):
                            out[j] = gi_lane[j]
                    _adjoint_step(code, u_row, theta, beta, gain, sigma, scale_bits, gs, gu_lane, gi_lane, lam_m, lam_s, leak)
                    if has_grad_membrane:
                        gu_row = grad_membrane[cell, sample, n]
                        for j in range(neurons):
                            gu_lane[j] += gu_row[j]
            if need_inputs:  # ∂L/∂X of each sample = G Wᵀ, [T, N] × [N, P]
                for lane in range(count):
                    _small_product(g_buffer[lane], weight_t[cell], grad_inputs[cell, group + lane], blas_small_gemm)
        keep_alive(gs_owned, gu_owned, gi_owned, prop_owned, sigma_owned, scale_bits_owned, u_bar_owned, i_bar_owned, g_out_owned, g_pot_owned, fired_at_owned, active_at_owned, u_buffer_owned, i_buffer_owned, u_state_owned, i_state_owned, g_buffer_owned, event_start_owned, event_next_owned)


@numba.njit(parallel=True, cache=True, **_COMPILE)
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
    lam_m, lam_s, theta = _as(decay_mem, dtype_like), _as(decay_syn, dtype_like), _as(threshold, dtype_like)
    leak, zero = _as(1.0 - decay_mem, dtype_like), _as(0.0, dtype_like)
    lam_o, leak_o = _as(decay_out, dtype_like), _as(1.0 - decay_out, dtype_like)
    for task in numba.prange(cells * chunks):
        cell, chunk = task // chunks, task % chunks
        code, reset = codes[cell], resets[cell]
        beta, gain = _as(betas[cell], dtype_like), _as(gains[cell], dtype_like)
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
                _recompute_membrane(u_buffer, True, ev_first, ev_last, ev_steps, ev_units, ev_values, row,
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
                        _readout_gradient_step(n, g_pot, grad_peak[cell, sample], has_grad_peak, peak_step[cell, sample],
                                               g_out, u_bar, i_bar, lam_s, lam_o, leak_o, gs, readout_weight_t[cell],
                                               need_readout_weight, acc_out, -1, u_row, theta, fired_at)
                    if reset:
                        i_row = i_buffer[n]
                        for j in range(neurons):
                            gs[j] -= (lam_m * u_row[j] + leak * i_row[j]) * gu[j]
                    if need_weight[layer]:
                        event = _event_weight_gradient(n, event, event_start, ev_steps, ev_units, ev_values, acc_w, gi)
                    if layer > 0:
                        out = g_buffer[n]
                        for j in range(neurons):
                            out[j] = gi[j]
                    _adjoint_step(code, u_row, theta, beta, gain, sigma, scale_bits, gs, gu, gi, lam_m, lam_s, leak)
                if layer > 0:  # ∂L/∂X = G Wᵀ [T, N] × [N, P], ĝS of the layer below: the buffers change roles
                    _small_product(g_buffer, borrowed(weights_t[layer])[cell], below, blas_small_gemm)
                    above, below = below, above
        keep_alive(gs_owned, gu_owned, gi_owned, sigma_owned, scale_bits_owned, u_bar_owned, i_bar_owned, g_out_owned,
                   g_pot_owned, fired_at_owned, active_at_owned, u_buffer_owned, i_buffer_owned, u_state_owned,
                   i_state_owned, g_buffer_owned, above_owned, below_owned)


@numba.njit(parallel=True, cache=True, **_COMPILE)
def compact_events_kernel(spike_steps, spike_units, spike_last, room, indptr, steps, units) -> None:
    """Copy the events that :func:`layer_forward_kernel` listed for row r at positions r·``room`` …
    ``spike_last[r]`` of ``spike_steps``, ``spike_units`` to positions indptr[r] … indptr[r + 1] of ``steps``,
    ``units`` (one array for all rows, as ``spike_data.InputEvents``)."""
    for row in numba.prange(indptr.shape[0] - 1):
        source, target = row * room, indptr[row]
        for e in range(indptr[row + 1] - target):
            steps[target + e] = spike_steps[source + e]
            units[target + e] = spike_units[source + e]


# --- Leaky readout, [R, T, C] (R = cells × samples) ---------------------------------------------------


@numba.njit(parallel=True, cache=True, **_COMPILE)
def readout_forward_kernel(input_current, decay_syn, decay_out, membrane):
    """U_out [R, T, C] of the leaky readout from its input current F_out [R, T, C], by the recursion

        U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I[n],  I[n+1] = λ_s I[n] + F_out[n],  U_out[0] = I[0] = 0

    (the update of :func:`surrogate_study.lif.leaky_readout_dynamics`): O(T·C) per row instead of the
    [T, T] filter matrix product (O(T²·C))."""
    rows, steps, classes = input_current.shape
    lam_s, lam_o = _as(decay_syn, membrane), _as(decay_out, membrane)
    leak = _as(1.0 - decay_out, membrane)
    for r in numba.prange(rows):
        u = np.zeros(classes, dtype=membrane.dtype)
        i = np.zeros(classes, dtype=membrane.dtype)
        for n in range(steps):
            _readout_step(input_current[r, n], membrane[r, n], u, i, lam_s, lam_o, leak)


@numba.njit(parallel=True, cache=True, **_COMPILE)
def readout_backward_kernel(grad_membrane, decay_syn, decay_out, grad_input_current):
    """∂L/∂F_out [R, T, C] from ∂L/∂U_out [R, T, C]: the adjoint of the recursion above, run backwards,

        ū[n] = ĝU[n] + λ_out ū[n+1],  ī[n] = (1 − λ_out) ū[n+1] + λ_s ī[n+1],  ∂L/∂F_out[n] = ī[n+1],

    with ū[T] = ī[T] = 0."""
    rows, steps, classes = grad_membrane.shape
    lam_s, lam_o = _as(decay_syn, grad_membrane), _as(decay_out, grad_membrane)
    leak = _as(1.0 - decay_out, grad_membrane)
    for r in numba.prange(rows):
        u_bar = np.zeros(classes, dtype=grad_membrane.dtype)
        i_bar = np.zeros(classes, dtype=grad_membrane.dtype)
        for n in range(steps - 1, -1, -1):
            _readout_adjoint_step(grad_membrane[r, n], grad_input_current[r, n], u_bar, i_bar, lam_s, lam_o, leak)
