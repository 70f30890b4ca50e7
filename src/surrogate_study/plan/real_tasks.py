"""The real datasets' training protocol (docs/science.md, Table 1) and the workflow config switch that adds them.

Per dataset, the run-config overrides of its task (Table 1; epochs at the lower end of the paper's range):

    MNIST, Fashion-MNIST:  784 → 100 → 10, latency code, batch 128, 30 epochs (docs/science.md: 30–50)
    SHD:                   700 → 128 (recurrent) → 20, batch 128, 50 epochs (docs/science.md: 50–100)

The switch ``real_datasets: [mnist, fashion_mnist, shd]`` (a top-level key of the workflow config) adds,
for each listed dataset, an empty declaration under ``datasets`` (the data steps then fetch and
preprocess it; a file already in ``data/raw/<dataset>/`` with the pinned MD5 is used without network),
a case ``<dataset>-1`` to the ``task`` axis of the ``tasks`` study (Fig. 4), and a case ``<dataset>``
to the ``task`` axis of the ``sparsity`` study (Fig. 6), which gets that axis (its first, with a case
for the study's own dataset that changes nothing) when it has none. A dataset the config already
trains on in a study is left as configured there.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from surrogate_study.plan.config import Config, ConfigError

#: Run-config overrides of each real dataset's task (Table 1).
REAL_TASKS: dict[str, Config] = {
    "mnist": {"dataset": {"name": "mnist"}, "model": {"hidden": [100], "recurrent": False},
              "training": {"batch_size": 128, "epochs": 30}},
    "fashion_mnist": {"dataset": {"name": "fashion_mnist"}, "model": {"hidden": [100], "recurrent": False},
                      "training": {"batch_size": 128, "epochs": 30}},
    "shd": {"dataset": {"name": "shd"}, "model": {"hidden": [128], "recurrent": True},
            "training": {"batch_size": 128, "epochs": 50}},
}

#: Studies the switch extends, and the label of each added case on their ``task`` axis.
SWITCHED_STUDIES: dict[str, str] = {"tasks": "{name}-1", "sparsity": "{name}"}


def _trained_datasets(axis: Mapping[str, Any]) -> set[str]:
    return {(case or {}).get("dataset", {}).get("name", "") for case in axis.values()}


def add_real_datasets(config: Config) -> Config:
    """``config`` with the datasets of its ``real_datasets`` key added to Fig. 4's and Fig. 6's studies.

    Returns a new dict; ``config`` without the key (or with an empty list) comes back unchanged (equal).
    A name that is not in :data:`REAL_TASKS` is a one-line :class:`ConfigError`, raised before any change.
    """
    names = list(config.get("real_datasets") or [])
    unknown = [name for name in names if name not in REAL_TASKS]
    if unknown:
        raise ConfigError(f"config error at real_datasets: {', '.join(map(repr, unknown))} is not allowed "
                          f"(allowed: {', '.join(REAL_TASKS)})")
    new = copy.deepcopy(dict(config))
    if not names:
        return new
    datasets = new.setdefault("datasets", {})
    for name in names:
        datasets.setdefault(name, {})
    base_dataset = ((new.get("base") or {}).get("dataset") or {}).get("name", "randman")
    for study, label in SWITCHED_STUDIES.items():
        spec = (new.get("studies") or {}).get(study)
        if spec is None:
            continue
        axes = spec.setdefault("axes", {}) or {}
        if "task" not in axes:
            own = ((spec.get("fixed") or {}).get("dataset") or {}).get("name", base_dataset)
            axes = {"task": {own: {}}, **axes}
        elif not isinstance(axes["task"], Mapping):
            raise ConfigError(f"config error at studies.{study}.axes.task: real_datasets needs named cases "
                              f"(a mapping), not {axes['task']!r}")
        present = _trained_datasets(axes["task"])
        for name in names:
            if name not in present:
                axes["task"][label.format(name=name)] = copy.deepcopy(REAL_TASKS[name])
        spec["axes"] = axes
    return new
