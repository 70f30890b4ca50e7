"""Tables behind the figure panels that do not come from the grid: Randman examples, network traces."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from surrogate_study.data.splits import load_splits
from surrogate_study.data.randman import RandmanSpec, RandomManifold
from surrogate_study.training.trainer import build_network


def manifold_table(alphas: Sequence[float], points: int = 400, seed: int = 0, spectrum: str = "reference",
                   max_terms: int = 1000, precision: float = 1e-3) -> pd.DataFrame:
    """Fig. 1a: one 1-D random manifold embedded in 3-D per smoothness α (columns alpha, x, e1, e2, e3)."""
    x = np.linspace(0.0, 1.0, points)[:, None]
    frames = []
    for alpha in alphas:
        n_terms = RandmanSpec(alpha=alpha, precision=precision, max_terms=max_terms).n_terms
        manifold = RandomManifold.draw(np.random.default_rng(seed), 3, 1, spectrum, n_terms, alpha)
        y = manifold(x)
        frames.append(pd.DataFrame({"alpha": alpha, "x": x[:, 0], "e1": y[:, 0], "e2": y[:, 1], "e3": y[:, 2]}))
    return pd.concat(frames, ignore_index=True)


def raster_table(dataset_config: Mapping[str, Any], classes: int = 3, samples_per_class: int = 2) -> pd.DataFrame:
    """Fig. 1b: input spikes of example samples of the first classes (columns label, sample, time, unit)."""
    data = load_splits(dataset_config).test
    rows = []
    for label in range(classes):
        indices = torch.nonzero(data.labels == label).flatten()[:samples_per_class]
        for sample_number, index in enumerate(indices.tolist()):
            dense = data.dense([index])[0]
            times, units = torch.nonzero(dense, as_tuple=True)
            rows += [{"label": label, "sample": sample_number, "time": int(t), "unit": int(u)}
                     for t, u in zip(times, units)]
    return pd.DataFrame(rows, columns=["label", "sample", "time", "unit"])


@torch.no_grad()
def network_trace_table(config: Mapping[str, Any], trained_state: Mapping[str, torch.Tensor],
                        batch_size: int = 256) -> pd.DataFrame:
    """Fig. 2c: hidden spikes and readout potentials for one test input, before and after training.

    The input is the first test sample that the trained network classifies correctly
    (predicted class = argmax_k max_t U_out,k[t], the network's logit); if there is none, the
    first test sample. Columns: phase (before | after), kind (spike | readout), time, index
    (neuron or class), value (1 for a spike, the potential for a readout), sample (the input's
    index in the test split), label (its class), predicted (the trained network's class for it), correct (predicted == label).
    """
    splits = load_splits(config["dataset"])
    test = splits.test
    trained = build_network([config], test.n_units, test.n_classes)
    trained.load_state_dict({name: w.unsqueeze(0) for name, w in trained_state.items()})
    sample, predicted = 0, None
    for start in range(0, len(test.labels), batch_size):
        indices = list(range(start, min(start + batch_size, len(test.labels))))
        guesses = trained(test.dense(indices)).logits[0].argmax(dim=1)
        hits = torch.nonzero(guesses == test.labels[indices], as_tuple=True)[0]
        if start == 0:
            predicted = int(guesses[0])
        if len(hits):
            sample, predicted = indices[int(hits[0])], int(guesses[hits[0]])
            break
    x = test.dense([sample])
    label = int(test.labels[sample])
    rows = []
    for phase in ("before", "after"):
        network = build_network([config], test.n_units, test.n_classes) if phase == "before" else trained
        output = network(x)
        spikes = output.hidden[0].spikes[0, 0]  # [T, N]
        times, neurons = torch.nonzero(spikes, as_tuple=True)
        rows += [{"phase": phase, "kind": "spike", "time": int(t), "index": int(n), "value": 1.0}
                 for t, n in zip(times, neurons)]
        readout = output.readout[0, 0]  # [T, C]
        for c in range(readout.shape[1]):
            rows += [{"phase": phase, "kind": "readout", "time": t, "index": c, "value": float(readout[t, c])}
                     for t in range(readout.shape[0])]
    table = pd.DataFrame(rows)
    table["sample"] = sample
    table["label"] = label
    table["predicted"] = predicted
    table["correct"] = predicted == label
    return table
