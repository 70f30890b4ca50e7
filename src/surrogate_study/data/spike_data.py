"""Event-based spiking datasets, densified one batch at a time.

A dataset of N samples stores its spikes as compressed rows (CSR): the events of
sample j are ``times[indptr[j]:indptr[j+1]]`` and ``units[...]``. A batch is turned
into a dense tensor X[b, n, u] = number of spikes of unit u at step n in sample b,
so even MNIST-sized datasets stay small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Sequence

import numba
import numpy as np
import torch
from torch import Tensor



@numba.njit(cache=True)
def _add_counts(times, units, indptr, indices, out) -> None:
    """out[r, times[e], units[e]] += 1 for every event e of sample indices[r] (out [R, T, U], zeroed)."""
    for row in range(indices.shape[0]):
        sample = indices[row]
        for event in range(indptr[sample], indptr[sample + 1]):
            out[row, times[event], units[event]] += 1.0


@numba.njit(cache=True)
def _sort_events(times, units, indptr, n_units, out_indptr, out_steps, out_units, out_values) -> int:
    """The events of every sample as rows sorted by (step, unit), repeated (step, unit) pairs merged into one
    event whose value is their count; returns the number of events written (``out_*`` sized for all)."""
    written = 0
    out_indptr[0] = 0
    for row in range(indptr.shape[0] - 1):
        start, stop = indptr[row], indptr[row + 1]
        keys = times[start:stop] * n_units + units[start:stop]
        order = np.argsort(keys, kind="mergesort")
        last = -1
        for position in order:
            key = keys[position]
            if key == last:
                out_values[written - 1] += 1.0
            else:
                out_steps[written], out_units[written] = times[start + position], units[start + position]
                out_values[written] = 1.0
                written += 1
                last = key
        out_indptr[row + 1] = written
    return written


@numba.njit(cache=True)
def _copy_event_rows(indptr, steps, units, values, indices, out_indptr, out_steps, out_units, out_values) -> None:
    """Rows ``indices`` of the event rows (indptr, steps, units, values), one after the other, into ``out_*``."""
    written = 0
    out_indptr[0] = 0
    for row in range(indices.shape[0]):
        sample = indices[row]
        for event in range(indptr[sample], indptr[sample + 1]):
            out_steps[written], out_units[written], out_values[written] = steps[event], units[event], values[event]
            written += 1
        out_indptr[row + 1] = written


class InputEvents(NamedTuple):
    """Input spikes of K (or 1, shared) batches of B samples as events: row r = k·B + b holds the events
    ``indptr[r]:indptr[r+1]`` sorted by (step, unit), each with the spike count ``values`` of that
    (step, unit) — the non-zero entries of the dense X[k, b, n, u], in the order a dense scan meets them."""

    indptr: Tensor  # int64 [K·B + 1]
    steps: Tensor  # int64 [events]
    units: Tensor  # int64 [events]
    values: Tensor  # float32 [events]
    cells: int
    batch: int
    n_steps: int
    n_units: int

    def dense(self, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> Tensor:
        """X[k, b, n, u] (spike counts)."""
        out = torch.zeros(self.cells * self.batch, self.n_steps, self.n_units, dtype=dtype)
        rows = torch.repeat_interleave(torch.arange(self.cells * self.batch), self.indptr.diff())
        out[rows, self.steps, self.units] = self.values.to(dtype)
        return out.view(self.cells, self.batch, self.n_steps, self.n_units).to(device)


@dataclass(frozen=True)
class SpikeDataset:
    """Spike events of N samples with their integer labels."""

    times: Tensor  # int64 [events], time step of each event
    units: Tensor  # int64 [events], input unit of each event
    indptr: Tensor  # int64 [N + 1], event range of each sample
    labels: Tensor  # int64 [N]
    n_steps: int
    n_units: int
    n_classes: int

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.indptr.shape != (n + 1,):
            raise ValueError(f"indptr must have {n + 1} entries, has {tuple(self.indptr.shape)}")
        if self.times.shape != self.units.shape or len(self.times) != int(self.indptr[-1]):
            raise ValueError("times, units and indptr disagree on the number of events")
        if len(self.times) and not (0 <= int(self.times.min()) and int(self.times.max()) < self.n_steps):
            raise ValueError(f"spike times must lie in [0, {self.n_steps})")
        if len(self.units) and not (0 <= int(self.units.min()) and int(self.units.max()) < self.n_units):
            raise ValueError(f"spike units must lie in [0, {self.n_units})")
        if n and not (0 <= int(self.labels.min()) and int(self.labels.max()) < self.n_classes):
            raise ValueError(f"labels must lie in [0, {self.n_classes})")

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def from_event_arrays(
        cls,
        times: np.ndarray,
        units: np.ndarray,
        events_per_sample: np.ndarray,
        labels: np.ndarray,
        n_steps: int,
        n_units: int,
        n_classes: int,
    ) -> "SpikeDataset":
        """Build from flat event arrays (grouped by sample) and the event count of each sample."""
        indptr = np.zeros(len(events_per_sample) + 1, dtype=np.int64)
        np.cumsum(events_per_sample, out=indptr[1:])
        return cls(
            torch.as_tensor(np.asarray(times, dtype=np.int64)),
            torch.as_tensor(np.asarray(units, dtype=np.int64)),
            torch.as_tensor(indptr),
            torch.as_tensor(np.asarray(labels, dtype=np.int64)),
            n_steps,
            n_units,
            n_classes,
        )

    def _event_positions(self, indices: Tensor) -> tuple[Tensor, Tensor]:
        """Positions of all events of ``indices`` in the flat arrays, and their batch row."""
        starts = self.indptr[indices]
        lengths = self.indptr[indices + 1] - starts
        rows = torch.repeat_interleave(torch.arange(len(indices)), lengths)
        offsets = torch.arange(int(lengths.sum())) - torch.repeat_interleave(
            torch.cumsum(lengths, 0) - lengths, lengths
        )
        return torch.repeat_interleave(starts, lengths) + offsets, rows

    def dense(self, indices: Tensor | Sequence[int], device: torch.device | str = "cpu") -> Tensor:
        """Spike counts X[b, n, u] of the samples ``indices``, float32 on ``device``."""
        return self.dense_cells([indices], device)[0]

    def dense_cells(self, batches: Sequence[Tensor | Sequence[int]], device: torch.device | str = "cpu") -> Tensor:
        """X[k, b, n, u]: the spike counts of batch k (index lists of equal length), float32 on ``device``;
        one pass over the events of the batches (compiled), no per-batch tensors."""
        indices = np.stack([np.asarray(torch.as_tensor(b, dtype=torch.int64)) for b in batches])
        if indices.size and not (0 <= indices.min() and indices.max() < len(self)):
            raise IndexError(f"sample indices must lie in [0, {len(self)})")
        out = torch.zeros(indices.shape[0] * indices.shape[1], self.n_steps, self.n_units, dtype=torch.float32)
        _add_counts(self.times.numpy(), self.units.numpy(), self.indptr.numpy(), indices.reshape(-1), out.numpy())
        return out.view(*indices.shape, self.n_steps, self.n_units).to(device)

    @cached_property
    def _sorted_events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The events of every sample sorted by (step, unit), repeats merged into counts (computed once):
        (indptr, steps, units, values), the rows that :meth:`events_cells` copies."""
        indptr = np.empty(len(self) + 1, dtype=np.int64)
        steps, units = np.empty(len(self.times), dtype=np.int64), np.empty(len(self.times), dtype=np.int64)
        values = np.empty(len(self.times), dtype=np.float32)
        n = _sort_events(self.times.numpy(), self.units.numpy(), self.indptr.numpy(), self.n_units,
                         indptr, steps, units, values)
        return indptr, steps[:n].copy(), units[:n].copy(), values[:n].copy()

    def events_cells(self, batches: Sequence[Tensor | Sequence[int]]) -> InputEvents:
        """The spikes of batch k (index lists of equal length) as :class:`InputEvents` (CPU): what
        :meth:`dense_cells` gives, without the mostly-zero dense tensor (rows copied from the sorted events)."""
        indices = np.stack([np.asarray(torch.as_tensor(b, dtype=torch.int64)) for b in batches])
        if indices.size and not (0 <= indices.min() and indices.max() < len(self)):
            raise IndexError(f"sample indices must lie in [0, {len(self)})")
        flat = np.ascontiguousarray(indices.reshape(-1))
        indptr, sorted_steps, sorted_units, sorted_values = self._sorted_events
        size = int((indptr[flat + 1] - indptr[flat]).sum())
        out_indptr = np.empty(flat.shape[0] + 1, dtype=np.int64)
        steps, units = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
        values = np.empty(size, dtype=np.float32)
        _copy_event_rows(indptr, sorted_steps, sorted_units, sorted_values, flat, out_indptr, steps, units, values)
        return InputEvents(torch.from_numpy(out_indptr), torch.from_numpy(steps), torch.from_numpy(units),
                           torch.from_numpy(values), indices.shape[0], indices.shape[1], self.n_steps, self.n_units)

    def subset(self, indices: Tensor | Sequence[int]) -> "SpikeDataset":
        """A new dataset holding the samples ``indices`` in that order."""
        indices = torch.as_tensor(indices, dtype=torch.int64)
        positions, _ = self._event_positions(indices)
        lengths = self.indptr[indices + 1] - self.indptr[indices]
        indptr = torch.zeros(len(indices) + 1, dtype=torch.int64)
        torch.cumsum(lengths, 0, out=indptr[1:])
        return SpikeDataset(
            self.times[positions],
            self.units[positions],
            indptr,
            self.labels[indices],
            self.n_steps,
            self.n_units,
            self.n_classes,
        )


class DatasetSplits(NamedTuple):
    """Train, validation and test splits of one dataset."""

    train: SpikeDataset
    valid: SpikeDataset
    test: SpikeDataset
