"""Event compaction: the per-row spike lists of the forward kernel into one CSR-like list."""

from __future__ import annotations

import numba

from surrogate_study.kernels.options import COMPILE


@numba.njit(parallel=True, cache=True, **COMPILE)
def compact_events_kernel(spike_steps, spike_units, spike_last, room, indptr, steps, units) -> None:
    """Copy the events that :func:`layer_forward_kernel` listed for row r at positions r·``room`` …
    ``spike_last[r]`` of ``spike_steps``, ``spike_units`` to positions indptr[r] … indptr[r + 1] of ``steps``,
    ``units`` (one array for all rows, as ``spike_data.InputEvents``)."""
    for row in numba.prange(indptr.shape[0] - 1):
        source, target = row * room, indptr[row]
        for e in range(indptr[row + 1] - target):
            steps[target + e] = spike_steps[source + e]
            units[target + e] = spike_units[source + e]
