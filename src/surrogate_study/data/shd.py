"""Spiking Heidelberg Digits: read the official HDF5 layout and bin spikes to time steps.

The file holds ``spikes/times`` and ``spikes/units`` (one variable-length array per sample;
times in seconds) and ``labels``. A spike at time t falls in step n = ⌊t / Δ⌋ with
Δ = max_time / steps; spikes at t ≥ max_time are dropped, so the binned counts equal the
spikes inside the window exactly.
"""

from __future__ import annotations

from typing import IO, Union

import h5py
import numpy as np


def bin_spikes(times: np.ndarray, units: np.ndarray, steps: int, max_time: float) -> tuple[np.ndarray, np.ndarray]:
    """(step, unit) of the spikes inside [0, max_time)."""
    times = np.asarray(times, dtype=np.float64)
    inside = (times >= 0) & (times < max_time)
    step = np.minimum(np.floor(times[inside] / (max_time / steps)), steps - 1).astype(np.int64)
    return step, np.asarray(units)[inside].astype(np.int64)


def read_shd(source: Union[str, IO[bytes]], steps: int, max_time: float):
    """(times, units, events per sample, labels) of an SHD HDF5 file, binned to ``steps``."""
    all_times, all_units, counts = [], [], []
    with h5py.File(source, "r") as handle:
        labels = np.asarray(handle["labels"], dtype=np.int64)
        spike_times, spike_units = handle["spikes"]["times"], handle["spikes"]["units"]
        for sample in range(len(labels)):
            step, unit = bin_spikes(spike_times[sample], spike_units[sample], steps, max_time)
            all_times.append(step)
            all_units.append(unit)
            counts.append(len(step))
    return (np.concatenate(all_times) if all_times else np.zeros(0, np.int64),
            np.concatenate(all_units) if all_units else np.zeros(0, np.int64),
            np.asarray(counts, dtype=np.int64), labels)


def write_shd(path: str, times: list[np.ndarray], units: list[np.ndarray], labels: np.ndarray) -> None:
    """Write spikes in the official SHD layout (used by the tests to make small files)."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group("spikes")
        group.create_dataset("times", data=np.array(times, dtype=object), dtype=h5py.vlen_dtype(np.float32))
        group.create_dataset("units", data=np.array(units, dtype=object), dtype=h5py.vlen_dtype(np.uint16))
        handle.create_dataset("labels", data=np.asarray(labels, dtype=np.uint8))
