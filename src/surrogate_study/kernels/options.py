"""Compile options and constants shared by every kernel of :mod:`surrogate_study.kernels`."""

from __future__ import annotations


#: Compile options of every kernel. ``error_model="numpy"``: a float division is a plain division (numba's
#: default Python error model tests every divisor for zero and raises, a branch that kept σ′'s loops scalar);
#: ``contract``: a·b + c may be one fused multiply-add (rounded once). No reassociation, no finite-math
#: assumption: NaN and inf still propagate (divergence detection relies on it).
COMPILE = dict(error_model="numpy", fastmath={"contract"})

KERNEL_SHAPES: dict[str, int] = {"superspike": 0, "sigmoid": 1, "esser": 2, "constant": 3, "true": 4}
#: Samples of a recurrent layer whose gradient propagates through V walked in lockstep by the backward kernel:
#: the term gI[n+1] Vᵀ of all of them is then one [LANES, N] × [N, N] GEMM per step (V read once for all),
#: ~4× faster per sample than LANES separate vector–matrix products (measured: 254 against 1030 ns for
#: N = 100, float32, one thread).
LANES = 8
