"""Registry of datasets by name: each loader turns a dataset config into splits.

A new dataset is one loader ``fn(dataset_config) -> DatasetSplits`` plus
``@register_dataset("name")`` and a schema block for its keys.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from surrogate_study.data.randman import RandmanSpec, randman_splits
from surrogate_study.data.spike_data import DatasetSplits

DatasetLoader = Callable[[Mapping[str, Any]], DatasetSplits]

_DATASETS: dict[str, DatasetLoader] = {}


def register_dataset(name: str) -> Callable[[DatasetLoader], DatasetLoader]:
    """Register ``loader`` for the dataset called ``name``."""

    def decorator(loader: DatasetLoader) -> DatasetLoader:
        if name in _DATASETS:
            raise ValueError(f"dataset {name!r} is already registered")
        _DATASETS[name] = loader
        return loader

    return decorator


def dataset_names() -> tuple[str, ...]:
    """Names of all registered datasets."""
    return tuple(_DATASETS)


def load_splits(dataset_config: Mapping[str, Any]) -> DatasetSplits:
    """Train / validation / test splits of the dataset that ``dataset_config`` names."""
    name = dataset_config["name"]
    try:
        loader = _DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(dataset_names())}") from None
    return loader(dataset_config)


@register_dataset("randman")
def load_randman(dataset_config: Mapping[str, Any]) -> DatasetSplits:
    """Generate the Randman task described by ``dataset_config``."""
    keys = {k: v for k, v in dataset_config.items() if k != "name"}
    split = keys.pop("split")
    return randman_splits(RandmanSpec(**keys, split=(split["train"], split["valid"], split["test"])))


def _register_real_datasets() -> None:
    from surrogate_study.data.real_datasets import load_processed
    from surrogate_study.plan.dataset_catalog import REAL_DATASETS

    for name in REAL_DATASETS:
        register_dataset(name)(load_processed)


_register_real_datasets()
