"""What planning needs to know about the datasets, without loading any (no numpy, torch or h5py).

Dataset names (Randman, generated in the job, and the datasets read from files), the official
raw files of each with their pinned MD5, the preprocessing constants, the split sizes a processed
file must have, and how a sample count splits into train / validation / test
(:func:`split_sizes`). :mod:`surrogate_study.data.real_datasets` fetches and preprocesses the files
these entries describe; :mod:`surrogate_study.data.splits` registers the loaders under the same names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

#: The generated task (no files); every other dataset is one of :data:`REAL_DATASETS`.
GENERATED_DATASETS: tuple[str, ...] = ("randman",)


@dataclass(frozen=True)
class RemoteFile:
    """One raw file: its name in data/raw/, its official URL(s) and pinned MD5."""

    name: str
    urls: tuple[str, ...]
    md5: str


MNIST_URLS = ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
SHD_URLS = ("https://zenkelab.org/datasets/",)


#: Preprocessing constants (time steps, latency code, SHD window); the workflow config's
#: ``preprocessing`` section overrides them per dataset.
PREPROCESSING: dict[str, dict[str, Any]] = {
    "mnist": {"steps": 100, "tau_eff": 20.0, "threshold": 0.2},
    "fashion_mnist": {"steps": 100, "tau_eff": 20.0, "threshold": 0.2},
    "mnist5k": {"steps": 100, "tau_eff": 20.0, "threshold": 0.2},
    "shd": {"steps": 100, "max_time": 1.4},
}


def _remotes(bases: tuple[str, ...], md5s: Mapping[str, str]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, tuple(base + name for base in bases), md5) for name, md5 in md5s.items())


@dataclass(frozen=True)
class RealDataset:
    """How one dataset is fetched and preprocessed, and the sizes its processed file must have."""

    name: str
    remotes: tuple[RemoteFile, ...]
    n_units: int
    n_classes: int
    train_size: int
    test_size: int


REAL_DATASETS: dict[str, RealDataset] = {
    "mnist": RealDataset("mnist", _remotes(MNIST_URLS, {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}), 784, 10, 60000, 10000),
    "fashion_mnist": RealDataset("fashion_mnist", _remotes(FASHION_URLS, {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}), 784, 10, 60000, 10000),
    "shd": RealDataset("shd", _remotes(SHD_URLS, {
        "shd_train.h5.zip": "f3252aeb598ac776c1b526422d90eecb",
        "shd_test.h5.zip": "1503a5064faa34311c398fb0a1ed0a6f"}), 700, 20, 8156, 2264),
    "mnist5k": RealDataset("mnist5k", (), 784, 10, 4500, 500),
}


def dataset_names() -> tuple[str, ...]:
    """Names of all datasets a config may name: the generated ones, then those read from files."""
    return (*GENERATED_DATASETS, *REAL_DATASETS)


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Sizes of consecutive splits of n samples: ⌊n·f + 10⁻⁹⌋ for all but the last, which takes the rest."""
    sizes = [int(math.floor(n * f + 1e-9)) for f in fractions[:-1]]
    return [*sizes, n - sum(sizes)]


def configured_remotes(name: str, sources: Mapping[str, Any] | None = None) -> tuple[RemoteFile, ...]:
    """The raw files of dataset ``name``: the official ones, or a mirror given in the workflow config.

    ``sources[name] = {base_urls: [url, ...], md5: {file name: md5}}`` replaces the URLs (each file is
    looked up under every base URL, in order) and, per file named in ``md5``, the pinned MD5 (the tests
    serve small files in the official formats, under the official names, from 127.0.0.1).
    """
    official = REAL_DATASETS[name].remotes
    source = (sources or {}).get(name)
    if not source:
        return official
    names = [r.name for r in official]
    unknown = sorted(set(source.get("md5") or {}) - set(names))
    if unknown:
        raise ValueError(f"config error at raw_sources.{name}.md5: {', '.join(map(repr, unknown))} is not a raw "
                         f"file of {name} (allowed: {', '.join(names)})")
    bases = tuple(source.get("base_urls") or ())
    md5s = source.get("md5") or {}
    return tuple(RemoteFile(r.name, tuple(b + r.name for b in bases) or r.urls, md5s.get(r.name, r.md5))
                 for r in official)
