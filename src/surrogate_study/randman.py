"""Randman: classification of smooth random manifolds, encoded as spike times.

Each class is one random manifold of dimension D embedded in E = ``units`` dimensions.
Embedding coordinate e of a point x ∈ [0, 1)^D is a product of random Fourier series,

    f_e(x) = Π_d Σ_k a_{edk} w_k sin(2π (f_k b_{edk} x_d + c_{edk})),   a, b, c ~ U(0, 1),

with K = min(⌈precision^(−1/α)⌉, max_terms) terms and a spectrum that decays with the
smoothness α. Two spectra are offered (STUDY.md leaves the choice open):

    ``reference``  f_k = k, w_k = (1 + k)^(−α), k = 0 … K−1, a_{ed0} = 0
                   (the authors' published generator, fzenke/randman; the default)
    ``printed``    f_k = k, w_k = k^(−α),        k = 1 … K   (the formula as printed)

Samples of a class are x ~ U(0, 1)^D. Each coordinate is min-max standardized over the
class's samples and becomes the spike time of its unit, t = ⌊y · W⌋ with the window
W = ⌊steps · step_frac⌋ steps, so every unit fires exactly once per manifold inside
[0, W). With ``spikes_per_unit`` = s, each class has s independent manifolds over the
same x and every unit fires s times.

All randomness comes from a local ``numpy.random.Generator`` seeded by ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .spike_data import DatasetSplits, SpikeDataset, split_sizes

SPECTRA: tuple[str, ...] = ("reference", "printed")


@dataclass(frozen=True)
class RandmanSpec:
    """Parameters of one Randman task (see the module docstring)."""

    classes: int = 10
    units: int = 20
    steps: int = 100
    step_frac: float = 0.5
    manifold_dim: int = 1
    spikes_per_unit: int = 1
    alpha: float = 1.0
    spectrum: str = "reference"
    max_terms: int = 1000
    precision: float = 1e-3
    samples_per_class: int = 1000
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 1

    @property
    def window(self) -> int:
        """W = ⌊steps · step_frac⌋, the number of steps in which input spikes fall."""
        return max(1, int(math.floor(self.steps * self.step_frac + 1e-9)))

    @property
    def n_terms(self) -> int:
        """K = min(⌈precision^(−1/α)⌉, max_terms)."""
        return int(min(math.ceil(self.precision ** (-1.0 / self.alpha)), self.max_terms))


def fourier_frequencies_and_weights(spectrum: str, n_terms: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies f_k and spectral weights w_k of the named spectrum."""
    if spectrum == "reference":
        k = np.arange(n_terms, dtype=np.float64)
        return k, (1.0 + k) ** (-alpha)
    if spectrum == "printed":
        k = np.arange(1, n_terms + 1, dtype=np.float64)
        return k, k ** (-alpha)
    raise ValueError(f"unknown randman spectrum {spectrum!r}; allowed: {', '.join(SPECTRA)}")


@dataclass(frozen=True)
class RandomManifold:
    """Coefficients a, b, c [E, D, K] of one random manifold and its spectrum."""

    amplitudes: np.ndarray
    frequency_scales: np.ndarray
    phases: np.ndarray
    frequencies: np.ndarray
    weights: np.ndarray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, embedding_dim: int, manifold_dim: int, spectrum: str, n_terms: int, alpha: float
    ) -> "RandomManifold":
        a, b, c = rng.random((3, embedding_dim, manifold_dim, n_terms))
        if spectrum == "reference":
            a[:, :, 0] = 0.0  # the reference generator drops the constant k = 0 term
        frequencies, weights = fourier_frequencies_and_weights(spectrum, n_terms, alpha)
        return cls(a, b, c, frequencies, weights)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Embedding f(x) [N, E] of points x [N, D]."""
        embedding_dim, manifold_dim, _ = self.amplitudes.shape
        out = np.ones((len(x), embedding_dim))
        for e in range(embedding_dim):
            for d in range(manifold_dim):
                phase = 2.0 * np.pi * (
                    np.outer(x[:, d], self.frequencies * self.frequency_scales[e, d]) + self.phases[e, d]
                )
                out[:, e] *= np.sin(phase) @ (self.amplitudes[e, d] * self.weights)
        return out


def min_max_standardize(y: np.ndarray) -> np.ndarray:
    """(y − min) / (max − min) per column; constant columns map to 0."""
    low, high = y.min(axis=0), y.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return (y - low) / span


def manifold_points(rng: np.random.Generator, samples: int, manifold_dim: int) -> np.ndarray:
    """x ~ U(0, 1)^D for ``samples`` points."""
    return rng.random((samples, manifold_dim))


def make_randman(spec: RandmanSpec) -> SpikeDataset:
    """All samples of the task, shuffled with the task's seed."""
    class_seeds = np.random.SeedSequence(spec.seed).spawn(spec.classes + 1)
    window = spec.window
    times_per_class: list[np.ndarray] = []
    for seed_sequence in class_seeds[: spec.classes]:
        rng = np.random.default_rng(seed_sequence)
        x = manifold_points(rng, spec.samples_per_class, spec.manifold_dim)
        spike_times = []
        for _ in range(spec.spikes_per_unit):
            manifold = RandomManifold.draw(
                rng, spec.units, spec.manifold_dim, spec.spectrum, spec.n_terms, spec.alpha
            )
            y = min_max_standardize(manifold(x))
            spike_times.append(np.minimum(np.floor(y * window), window - 1).astype(np.int64))
        times_per_class.append(np.concatenate(spike_times, axis=1))  # [samples, units * spikes]
    times = np.concatenate(times_per_class, axis=0)
    labels = np.repeat(np.arange(spec.classes), spec.samples_per_class)
    order = np.random.default_rng(class_seeds[-1]).permutation(len(labels))
    times, labels = times[order], labels[order]
    events_per_sample = spec.units * spec.spikes_per_unit
    units = np.tile(np.arange(spec.units), spec.spikes_per_unit)
    return SpikeDataset.from_event_arrays(
        times.reshape(-1),
        np.tile(units, len(labels)),
        np.full(len(labels), events_per_sample),
        labels,
        n_steps=spec.steps,
        n_units=spec.units,
        n_classes=spec.classes,
    )


def randman_splits(spec: RandmanSpec) -> DatasetSplits:
    """Train / validation / test splits of the (already shuffled) Randman task."""
    data = make_randman(spec)
    n_train, n_valid, n_test = split_sizes(len(data), spec.split)
    boundaries = np.cumsum([0, n_train, n_valid, n_test])
    return DatasetSplits(
        *(data.subset(np.arange(lo, hi)) for lo, hi in zip(boundaries[:-1], boundaries[1:]))
    )
