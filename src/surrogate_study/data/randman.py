"""Randman: classification of smooth random manifolds, encoded as spike times.

Each class is one random manifold of dimension D embedded in E = ``units`` dimensions.
Embedding coordinate e of a point x ∈ [0, 1)^D is a product of random Fourier series,

    f_e(x) = Π_d Σ_{i=0}^{K−1} a_{edi} s_i sin(2π (f_i b_{edi} x_d + c_{edi})),   a, b, c ~ U(0, 1),

with K = min(⌈precision^(−1/α)⌉, max_terms) terms and a spectrum s_i that decays with the
smoothness α. The spectra, by name (fzenke/randman, the authors' generator):

    ``reference``  f_i = i, s_i = 1 / ((i + 1)^α + 1), i = 0 … K−1, a_{ed0} = 0
                   (``randman.Randman`` = ``TorchRandman``, the package default since 2020; the default here)
    ``numpy``      f_i = i, s_i = 1 / (i + 1)^α,       i = 0 … K−1, a_{ed0} = 0
                   (``NumpyRandman``: a smoother, easier task)
    ``printed``    f_i = i, s_i = i^(−α),              i = 1 … K    (the formula as printed)

Spiking data as the authors' ``make_spiking_dataset``: every class has its own manifold(s),
whose coefficients come from the task ``seed`` and the class alone (so the number of samples
or the split never changes the manifolds); its samples are points x ~ U(0, 1)^D from a
separate stream. Each embedding coordinate is min–max standardised per unit over the class's
samples, y = (f − min) / (max − min + ε), ε = 10⁻⁷, and becomes the spike time of its unit,
t = y · steps · step_frac, binned to the step ⌊t⌋ (inside the window W = ⌊steps · step_frac⌋).
With ``spikes_per_unit`` = s, each class has s independent manifolds over the same x and
every unit fires s times.

All randomness comes from local ``numpy.random.Generator`` objects seeded by ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from surrogate_study.plan.dataset_catalog import split_sizes
from surrogate_study.data.spike_data import DatasetSplits, SpikeDataset

SPECTRA: tuple[str, ...] = ("reference", "numpy", "printed")
STANDARDIZE_EPS = 1e-7  # ε of the authors' ``standardize``


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
    """Frequencies f_i and spectral weights s_i of the named spectrum (module docstring)."""
    if spectrum == "reference":
        i = np.arange(n_terms, dtype=np.float64)
        return i, 1.0 / ((1.0 + i) ** alpha + 1.0)
    if spectrum == "numpy":
        i = np.arange(n_terms, dtype=np.float64)
        return i, (1.0 + i) ** (-alpha)
    if spectrum == "printed":
        i = np.arange(1, n_terms + 1, dtype=np.float64)
        return i, i ** (-alpha)
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
        if spectrum in ("reference", "numpy"):
            a[:, :, 0] = 0.0  # the authors' generators drop the constant i = 0 term (use_bias=False)
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


def min_max_standardize(y: np.ndarray, eps: float = STANDARDIZE_EPS) -> np.ndarray:
    """(y − min) / (max − min + ε) per column, as the authors' ``standardize``: values in [0, 1)."""
    low, high = y.min(axis=0), y.max(axis=0)
    return (y - low) / (high - low + eps)


def manifold_points(rng: np.random.Generator, samples: int, manifold_dim: int) -> np.ndarray:
    """x ~ U(0, 1)^D for ``samples`` points."""
    return rng.random((samples, manifold_dim))


def class_manifolds(spec: RandmanSpec) -> list[list[RandomManifold]]:
    """The ``spikes_per_unit`` manifolds of every class: a function of the task seed and the class alone."""
    manifolds = []
    for class_sequence in np.random.SeedSequence([spec.seed, 0]).spawn(spec.classes):
        rng = np.random.default_rng(class_sequence)
        manifolds.append([
            RandomManifold.draw(rng, spec.units, spec.manifold_dim, spec.spectrum, spec.n_terms, spec.alpha)
            for _ in range(spec.spikes_per_unit)
        ])
    return manifolds


def spike_steps(y: np.ndarray, spec: RandmanSpec) -> np.ndarray:
    """Time step ⌊y · steps · step_frac⌋ of standardised coordinates y ∈ [0, 1), inside the window."""
    return np.minimum(np.floor(y * spec.steps * spec.step_frac), spec.window - 1).astype(np.int64)


def make_randman(spec: RandmanSpec) -> SpikeDataset:
    """All samples of the task, shuffled with the task's seed."""
    sample_sequences = np.random.SeedSequence([spec.seed, 1]).spawn(spec.classes + 1)
    times_per_class: list[np.ndarray] = []
    for manifolds, sample_sequence in zip(class_manifolds(spec), sample_sequences):
        x = manifold_points(np.random.default_rng(sample_sequence), spec.samples_per_class, spec.manifold_dim)
        spike_times = [spike_steps(min_max_standardize(manifold(x)), spec) for manifold in manifolds]
        times_per_class.append(np.concatenate(spike_times, axis=1))  # [samples, units * spikes]
    times = np.concatenate(times_per_class, axis=0)
    labels = np.repeat(np.arange(spec.classes), spec.samples_per_class)
    order = np.random.default_rng(sample_sequences[-1]).permutation(len(labels))
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
