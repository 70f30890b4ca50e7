"""Randman task generation: spike counts, windows, seeds, splits."""

import numpy as np
import pytest
import torch

from surrogate_study.data.randman import (
    RandmanSpec,
    RandomManifold,
    class_manifolds,
    fourier_frequencies_and_weights,
    make_randman,
    randman_splits,
)

SMALL = RandmanSpec(classes=3, units=12, steps=40, step_frac=0.5, samples_per_class=30, max_terms=50, seed=7)


@pytest.mark.parametrize("spikes_per_unit", [1, 3])
def test_every_unit_fires_its_spike_count_inside_the_window(spikes_per_unit):
    spec = RandmanSpec(**{**SMALL.__dict__, "spikes_per_unit": spikes_per_unit})
    data = make_randman(spec)
    dense = data.dense(torch.arange(len(data)))
    assert dense.shape == (spec.classes * spec.samples_per_class, spec.steps, spec.units)
    assert torch.all(dense.sum(dim=1) == spikes_per_unit)
    assert spec.window == 20
    assert dense[:, spec.window :].sum() == 0
    assert dense[:, : spec.window].sum() == dense.sum()
    # min-max standardization puts some spike at the first and some at the last step of the window
    assert dense[:, 0].sum() > 0 and dense[:, spec.window - 1].sum() > 0


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_randman(SMALL), make_randman(SMALL)
    c = make_randman(RandmanSpec(**{**SMALL.__dict__, "seed": 8}))
    assert torch.equal(a.times, b.times) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.times, c.times)


def test_generation_does_not_touch_global_rngs():
    np.random.seed(123)
    torch.manual_seed(123)
    make_randman(SMALL)
    assert np.random.rand() == np.random.RandomState(123).rand()
    assert torch.rand(1).item() == torch.rand(1, generator=torch.Generator().manual_seed(123)).item()


def test_balanced_classes_and_disjoint_splits():
    spec = RandmanSpec(**{**SMALL.__dict__, "samples_per_class": 100})
    splits = randman_splits(spec)
    assert [len(s) for s in splits] == [240, 30, 30]
    all_labels = torch.cat([s.labels for s in splits])
    assert torch.bincount(all_labels).tolist() == [100, 100, 100]
    # the splits partition the one shuffled dataset, in order, without overlap or loss
    whole = make_randman(spec)
    assert torch.equal(torch.cat([s.times for s in splits]), whole.times)
    assert torch.equal(all_labels, whole.labels)


def test_classes_differ_in_spike_times():
    data = make_randman(RandmanSpec(**{**SMALL.__dict__, "samples_per_class": 200}))
    times = data.times.view(len(data), -1).double()
    means = torch.stack([times[data.labels == k].mean(dim=0) for k in range(3)])
    spread = torch.stack([times[data.labels == k].std(dim=0) for k in range(3)]).mean()
    # class-mean spike-time patterns differ by more than the typical within-class spread
    assert torch.cdist(means, means)[~torch.eye(3, dtype=bool)].min() > spread


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_spectra_term_by_term(alpha):
    i = np.arange(7)
    f, w = fourier_frequencies_and_weights("reference", 7, alpha)
    assert f.tolist() == i.tolist()
    assert w == pytest.approx([1.0 / ((k + 1) ** alpha + 1.0) for k in i], rel=1e-15)  # TorchRandman.init_spect
    f, w = fourier_frequencies_and_weights("numpy", 7, alpha)
    assert f.tolist() == i.tolist()
    assert w == pytest.approx([1.0 / (k + 1) ** alpha for k in i], rel=1e-15)  # NumpyRandman
    f, w = fourier_frequencies_and_weights("printed", 3, 2.0)
    assert f.tolist() == [1, 2, 3] and w.tolist() == pytest.approx([1, 1 / 4, 1 / 9])
    assert RandmanSpec(alpha=1.0, precision=1e-3).n_terms == 1000
    assert RandmanSpec(alpha=2.0, precision=1e-3).n_terms == 32


def _authors_randman(params: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
    """fzenke/randman TorchRandman.eval_manifold, transcribed loop by loop (params [E, D, 3, K])."""
    embedding, manifold_dim, _, cutoff = params.shape
    spect = 1.0 / ((np.arange(cutoff) + 1.0) ** alpha + 1.0)
    out = np.zeros((len(x), embedding))
    for e in range(embedding):
        value = np.ones(len(x))
        for d in range(manifold_dim):
            theta = params[e, d]
            one_d = np.zeros(len(x))
            for i in range(cutoff):
                one_d += theta[0, i] * spect[i] * np.sin(2 * np.pi * (i * x[:, d] * theta[1, i] + theta[2, i]))
            value *= one_d
        out[:, e] = value
    return out


@pytest.mark.parametrize("manifold_dim", [1, 2])
def test_manifold_equals_the_authors_formula(manifold_dim):
    manifold = RandomManifold.draw(np.random.default_rng(3), 4, manifold_dim, "reference", 25, 1.0)
    params = np.stack([manifold.amplitudes, manifold.frequency_scales, manifold.phases], axis=2)  # [E, D, 3, K]
    assert np.all(params[:, :, 0, 0] == 0.0)  # use_bias=False: no constant term
    x = np.random.default_rng(4).random((50, manifold_dim))
    np.testing.assert_allclose(manifold(x), _authors_randman(params, x, 1.0), rtol=1e-12, atol=1e-12)


def test_manifolds_do_not_depend_on_the_number_of_samples():
    few = RandmanSpec(**{**SMALL.__dict__, "samples_per_class": 300})
    many = RandmanSpec(**{**SMALL.__dict__, "samples_per_class": 1000, "split": (0.5, 0.25, 0.25)})
    for class_few, class_many in zip(class_manifolds(few), class_manifolds(many), strict=True):
        for a, b in zip(class_few, class_many, strict=True):
            assert np.array_equal(a.amplitudes, b.amplitudes)
            assert np.array_equal(a.frequency_scales, b.frequency_scales)
            assert np.array_equal(a.phases, b.phases)
    other_task = class_manifolds(RandmanSpec(**{**SMALL.__dict__, "seed": SMALL.seed + 1}))
    assert not np.array_equal(other_task[0][0].amplitudes, class_manifolds(few)[0][0].amplitudes)


def test_spike_times_are_the_standardised_coordinates():
    spec = RandmanSpec(**{**SMALL.__dict__, "classes": 1})
    data = make_randman(spec)
    manifold = class_manifolds(spec)[0][0]
    # undo the shuffle: the points' order is lost, so compare the sorted spike times per unit
    x = np.random.default_rng(np.random.SeedSequence([spec.seed, 1]).spawn(2)[0]).random((spec.samples_per_class, 1))
    y = manifold(x)
    expected = np.floor((y - y.min(0)) / (y.max(0) - y.min(0) + 1e-7) * spec.steps * spec.step_frac)
    times = data.times.view(len(data), spec.units).numpy()
    np.testing.assert_array_equal(np.sort(times, axis=0), np.sort(expected, axis=0).astype(np.int64))


def test_smoothness_controls_roughness():
    x = np.linspace(0, 1, 2001)[:, None]

    def roughness(alpha):
        manifold = RandomManifold.draw(np.random.default_rng(1), 3, 1, "reference", 200, alpha)
        return np.abs(np.diff(manifold(x), n=2, axis=0)).mean()

    assert roughness(0.5) > 3 * roughness(2.0)
