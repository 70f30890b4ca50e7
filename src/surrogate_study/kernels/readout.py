"""The leaky readout as an O(T) recursion and its adjoint, [R, T, C] (R = cells × samples):

    I[n+1] = λ_syn I[n] + F[n],   U[n+1] = λ_out U[n] + (1 − λ_out) I[n],   U[0] = I[0] = 0.
"""

from __future__ import annotations

import numba
import numpy as np

from surrogate_study.kernels.options import COMPILE
from surrogate_study.kernels.steps import cast_like, readout_adjoint_step, readout_step


@numba.njit(parallel=True, cache=True, **COMPILE)
def readout_forward_kernel(input_current, decay_syn, decay_out, membrane):
    """U_out [R, T, C] of the leaky readout from its input current F_out [R, T, C], by the recursion

        U_out[n+1] = λ_out U_out[n] + (1 − λ_out) I[n],  I[n+1] = λ_s I[n] + F_out[n],  U_out[0] = I[0] = 0

    (the update of :func:`surrogate_study.model.lif.leaky_readout_dynamics`): O(T·C) per row instead of the
    [T, T] filter matrix product (O(T²·C))."""
    rows, steps, classes = input_current.shape
    lam_s, lam_o = cast_like(decay_syn, membrane), cast_like(decay_out, membrane)
    leak = cast_like(1.0 - decay_out, membrane)
    for r in numba.prange(rows):
        u = np.zeros(classes, dtype=membrane.dtype)
        i = np.zeros(classes, dtype=membrane.dtype)
        for n in range(steps):
            readout_step(input_current[r, n], membrane[r, n], u, i, lam_s, lam_o, leak)


@numba.njit(parallel=True, cache=True, **COMPILE)
def readout_backward_kernel(grad_membrane, decay_syn, decay_out, grad_input_current):
    """∂L/∂F_out [R, T, C] from ∂L/∂U_out [R, T, C]: the adjoint of the recursion above, run backwards,

        ū[n] = ĝU[n] + λ_out ū[n+1],  ī[n] = (1 − λ_out) ū[n+1] + λ_s ī[n+1],  ∂L/∂F_out[n] = ī[n+1],

    with ū[T] = ī[T] = 0."""
    rows, steps, classes = grad_membrane.shape
    lam_s, lam_o = cast_like(decay_syn, grad_membrane), cast_like(decay_out, grad_membrane)
    leak = cast_like(1.0 - decay_out, grad_membrane)
    for r in numba.prange(rows):
        u_bar = np.zeros(classes, dtype=grad_membrane.dtype)
        i_bar = np.zeros(classes, dtype=grad_membrane.dtype)
        for n in range(steps - 1, -1, -1):
            readout_adjoint_step(grad_membrane[r, n], grad_input_current[r, n], u_bar, i_bar, lam_s, lam_o, leak)
