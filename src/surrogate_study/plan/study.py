"""Studies: a figure's experiment as fixed parameters plus axes, expanded into grid cells.

A workflow config holds ``base`` (run-config overrides for every cell), ``datasets``
(per dataset name, keys of the ``dataset`` section for every cell on that dataset),
``job_size`` and ``studies``. A study is

    fixed: {run-config overrides}
    axes:
      surrogate.beta: [1, 10, 100]        # a dotted run-config key and its values
      variant:                            # a named case axis: label -> run-config overrides
        sCtl: {surrogate: {scale: normalized}}
        aDR:  {surrogate: {scale: asymptotic}, model: {detach_reset: false}}
    exclude:                              # optional: points of the product left out
      - {variant: [aDR], surrogate.beta: [1]}   # every point whose labels are all among those listed

Each point of the axes' Cartesian product that no ``exclude`` entry matches is a *cell*: the package
defaults, updated by ``base``, then ``fixed``, then each axis in order, resolved and validated. A cell's id
names its main parameters readably and ends with a hash of its whole resolved config,
so a cell that two studies share is computed once. Cells that share everything but
the per-cell keys of :data:`PER_CELL_KEYS` are packed into
jobs of at most ``job_size`` cells, trained as one batched computation.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from surrogate_study.plan.config import Config, ConfigError, resolve_config, test_every_epoch
from surrogate_study.plan.overrides import deep_merge

#: Config keys in which cells trained together may differ; all other keys must agree.
PER_CELL_KEYS: tuple[tuple[str, ...], ...] = (
    ("seed",),
    ("surrogate",),
    ("regularization",),
    ("training", "lr"),
    ("training", "save_model"),
    ("model", "detach_reset"),
    ("model", "detach_recurrent"),
    ("model", "init_gain"),
    ("model", "recurrent_init_gain"),
)

#: Run keys added after the first published runs, with the value that reproduces those runs. A cell's id hashes
#: its config without them when they hold that value, or when they cannot change its numbers (V's keys in a
#: feed-forward network, Sigmoid′'s normalisation under another shape): earlier results keep their ids.
LATER_KEYS: dict[tuple[str, str], Any] = {
    ("model", "recurrent_init_gain"): None,
    ("model", "recurrent_delay"): 1,
    ("surrogate", "sigmoid_peak"): "one",
}


def identity_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved config that a cell's id and its job's key are hashed over (see ``LATER_KEYS``)."""
    identity = {key: (dict(value) if isinstance(value, Mapping) else value) for key, value in config.items()}
    irrelevant = {("model", "recurrent_init_gain"): not config["model"]["recurrent"],
                  ("model", "recurrent_delay"): not config["model"]["recurrent"],
                  ("surrogate", "sigmoid_peak"): config["surrogate"]["shape"] != "sigmoid"}
    for (section, key), earlier in LATER_KEYS.items():
        if key in identity[section] and (irrelevant[(section, key)] or identity[section][key] == earlier):
            del identity[section][key]
    return identity


def shared_part(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the per-cell keys: what cells trained together must share."""
    shared = {key: (dict(value) if isinstance(value, Mapping) else value) for key, value in config.items()}
    for path in PER_CELL_KEYS:
        if len(path) == 1:
            shared.pop(path[0], None)
        else:
            shared[path[0]].pop(path[1], None)
    return shared


def dotted_override(key: str, value: Any) -> Config:
    """``{"a": {"b": value}}`` for key ``"a.b"``."""
    override: Config = {}
    target = override
    *parents, last = key.split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
    target[last] = copy.deepcopy(value)
    return override


def axis_points(name: str, spec: Any) -> list[tuple[Any, Config]]:
    """(label, override) pairs of one axis: a list of values of a dotted key, or named cases."""
    if isinstance(spec, Mapping):
        return [(label, dict(override or {})) for label, override in spec.items()]
    if isinstance(spec, list) and spec:
        return [(value, dotted_override(name, value)) for value in spec]
    raise ConfigError(f"config error at axis {name}: value {spec!r} is not allowed: "
                      "give a non-empty list of values or a mapping of named cases")


def _format_number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def cell_id(config: Mapping[str, Any]) -> str:
    """A readable, unique id: dataset, architecture, surrogate, η, flags, regularizers, seed, hash."""
    model, surrogate, reg = config["model"], config["surrogate"], config["regularization"]
    recurrent_gain = model.get("recurrent_init_gain")
    parts = [
        config["dataset"]["name"],
        "h" + "x".join(str(h) for h in model["hidden"]) + ("r" if model["recurrent"] else "")
        + ("d1" if model["recurrent"] and model.get("recurrent_delay") == 1 else "")
        + ("" if model.get("init_gain", 1.0) == 1.0 else f"g{_format_number(model['init_gain'])}")
        + ("" if not model["recurrent"] or recurrent_gain is None else f"v{_format_number(recurrent_gain)}"),
        f"{surrogate['shape']}-{surrogate['scale'][0]}{_format_number(surrogate['beta'])}"
        + ("q" if surrogate["shape"] == "sigmoid" and surrogate.get("sigmoid_peak") == "quarter_beta" else ""),
        f"lr{_format_number(config['training']['lr'])}",
        ("ctl" if model["detach_reset"] else "dr") + ("" if not model["recurrent"] else
                                                      "-ctl" if model["detach_recurrent"] else "-prop"),
        f"low{_format_number(reg['lower']['strength'])}-up{_format_number(reg['upper']['strength'])}"
        f"_{_format_number(reg['upper']['threshold'])}",
        f"s{config['seed']}",
    ]
    digest = hashlib.sha256(json.dumps(identity_config(config), sort_keys=True).encode()).hexdigest()[:8]
    return "_".join(parts) + "_" + digest


@dataclass
class StudyPlan:
    """All cells of all studies, the cells of each study with their axis labels, and the jobs."""

    cells: dict[str, Config] = field(default_factory=dict)
    studies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rows: {"cell": id, axis: label}
    axes: dict[str, list[str]] = field(default_factory=dict)
    jobs: dict[str, list[str]] = field(default_factory=dict)

    def study_cells(self, study: str) -> list[str]:
        return [row["cell"] for row in self.studies[study]]


def exclusions(name: str, spec: Mapping[str, Any],
               points: Sequence[list[tuple[Any, Config]]]) -> list[dict[str, list[Any]]]:
    """The study's ``exclude`` entries, checked: each maps axes of the study to labels of theirs (a list each);
    a point is left out when, for every axis an entry names, its label is among the entry's labels."""
    axes = list((spec.get("axes") or {}).keys())
    labels = {axis: [label for label, _ in axis_points_] for axis, axis_points_ in zip(axes, points)}
    entries = []
    for index, entry in enumerate(spec.get("exclude") or []):
        where = f"studies.{name}.exclude.{index}"
        if not isinstance(entry, Mapping) or not entry:
            raise ConfigError(f"config error at {where}: value {entry!r} is not allowed: give a mapping of axes to "
                              "lists of their labels")
        for axis, chosen in entry.items():
            if axis not in labels:
                raise ConfigError(f"config error at {where}: axis {axis!r} is not allowed: not an axis of this "
                                  f"study (its axes: {', '.join(axes) or 'none'})")
            if not isinstance(chosen, list) or not chosen:
                raise ConfigError(f"config error at {where}.{axis}: value {chosen!r} is not allowed: give a "
                                  "non-empty list of the axis's labels")
            unknown = [label for label in chosen if label not in labels[axis]]
            if unknown:
                raise ConfigError(f"config error at {where}.{axis}: label {unknown[0]!r} is not allowed: not a "
                                  f"label of this axis (its labels: {', '.join(map(repr, labels[axis]))})")
        entries.append({axis: list(chosen) for axis, chosen in entry.items()})
    return entries


def excluded(labels: Mapping[str, Any], entries: Sequence[Mapping[str, list[Any]]]) -> bool:
    """Whether a point with these axis labels matches an ``exclude`` entry (see :func:`exclusions`)."""
    return any(all(labels[axis] in chosen for axis, chosen in entry.items()) for entry in entries)


def expand_study(name: str, spec: Mapping[str, Any], base: Mapping[str, Any],
                 dataset_defaults: Mapping[str, Any] | None = None, *,
                 allow_large: bool = False) -> list[tuple[dict, Config]]:
    """(labels, resolved config) for every cell of one study.

    ``dataset_defaults`` (workflow config ``datasets``) maps a dataset name to keys merged
    under the cell's ``dataset`` section once its name is known (e.g. Randman's size).
    """
    axes = spec.get("axes") or {}
    points = [axis_points(axis, axis_spec) for axis, axis_spec in axes.items()]
    leave_out = exclusions(name, spec, points)
    start = deep_merge(base, spec.get("fixed") or {})
    cells = []
    for combination in itertools.product(*points):
        labels = {axis: label for axis, (label, _) in zip(axes, combination)}
        if excluded(labels, leave_out):
            continue
        user_config = start
        for _, override in combination:
            user_config = deep_merge(user_config, override)
        dataset = dict(user_config.get("dataset") or {})
        extra = (dataset_defaults or {}).get(dataset.get("name", "randman"))
        if extra:
            user_config = {**user_config, "dataset": deep_merge(extra, dataset)}
        try:
            resolved = resolve_config(user_config, allow_large=allow_large)
        except ConfigError as error:
            where = ", ".join(f"{axis}={label!r}" for axis, label in labels.items())
            raise ConfigError(f"studies.{name} ({where}): {error}") from None
        cells.append((labels, resolved))
    if not cells:
        raise ConfigError(f"config error at studies.{name}.exclude: the entries leave out every point of the "
                          "study; a study needs at least one cell")
    return cells


def plan_jobs(cells: Mapping[str, Config], job_size: int) -> dict[str, list[str]]:
    """Pack cells that may train together into jobs of at most ``job_size`` cells."""
    groups: dict[str, list[str]] = {}
    for cid in sorted(cells):
        key = hashlib.sha256(json.dumps(shared_part(identity_config(cells[cid])), sort_keys=True).encode()).hexdigest()[:8]
        groups.setdefault(key, []).append(cid)
    jobs = {}
    for key, members in sorted(groups.items()):
        for index in range(0, len(members), job_size):
            jobs[f"{key}-{index // job_size:03d}"] = members[index : index + job_size]
    return jobs


def plan_studies(workflow_config: Mapping[str, Any], only: Sequence[str] | None = None) -> StudyPlan:
    """Expand every study of a workflow config (or those in ``only``) into cells and jobs."""
    plan = StudyPlan()
    base = workflow_config.get("base") or {}
    for name, spec in workflow_config["studies"].items():
        if only is not None and name not in only:
            continue
        plan.axes[name] = list((spec.get("axes") or {}).keys())
        rows = []
        allow_large = str(workflow_config.get("allow_large_runs", False)).lower() == "true"
        cells = expand_study(name, spec, base, workflow_config.get("datasets"), allow_large=allow_large)
        for labels, config in cells:
            cid = cell_id(config)
            plan.cells[cid] = config
            rows.append({"cell": cid, **labels})
        plan.studies[name] = rows
    plan.jobs = plan_jobs(plan.cells, int(workflow_config.get("job_size", 1)))
    return plan


#: Studies whose figure plots the test accuracy of every epoch (Fig. 2b's learning curves).
TEST_CURVE_STUDIES = ("sg_vs_true",)


def check_test_curves(plan: StudyPlan) -> None:
    """Raise :class:`ConfigError` when a cell of a study in :data:`TEST_CURVE_STUDIES` evaluates the test split
    only at its best epoch (``training.test_split: best_epoch``): its figure would have no curve to draw."""
    for study in TEST_CURVE_STUDIES:
        for row in plan.studies.get(study, []):
            if not test_every_epoch(plan.cells[row["cell"]]["training"]):
                raise ConfigError(f"config error at studies.{study}: training.test_split 'best_epoch' is not allowed "
                                  "here: its figure plots the test accuracy of every epoch; give every_epoch "
                                  f"(e.g. studies.{study}.fixed.training.test_split: every_epoch)")

