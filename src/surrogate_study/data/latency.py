"""Latency code for images: one spike per pixel, brighter pixels earlier, dark pixels silent.

With intensities x ∈ [0, 1] (pixel / 255), the spike time is that of a leaky integrator
driven by a constant current x to threshold θ (the authors' spytorch tutorial):

    t(x) = τ_eff · ln(x / (x − θ))   for x > θ,   no spike for x ≤ θ,

clipped to t_max, in time steps: n = ⌊t⌋, so n decreases monotonically with brightness.
"""

from __future__ import annotations

import numpy as np


def latency_times(intensity: np.ndarray, tau_eff: float, threshold: float, t_max: int) -> np.ndarray:
    """Spike step of every pixel (float array in [0, 1]); −1 for silent pixels."""
    x = np.asarray(intensity, dtype=np.float64)
    times = np.full(x.shape, -1, dtype=np.int64)
    active = x > threshold
    t = tau_eff * np.log(x[active] / (x[active] - threshold))
    times[active] = np.minimum(np.floor(t), t_max).astype(np.int64)
    return times


def latency_events(images: np.ndarray, tau_eff: float, threshold: float, t_max: int):
    """(times, units, events per sample) of images [N, H·W] with values 0…255."""
    flat = images.reshape(len(images), -1).astype(np.float64) / 255.0
    times = latency_times(flat, tau_eff, threshold, t_max)
    sample, unit = np.nonzero(times >= 0)
    return times[sample, unit], unit, np.bincount(sample, minlength=len(images))
