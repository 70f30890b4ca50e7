"""Refuse an absurdly large grid before planning it: its size and estimated core-hours in one line.

The count is the sum over studies of the product of their axis lengths (an upper bound: a cell that two
studies share is trained once, and points that a study's ``exclude`` leaves out are counted), computed
without expanding anything. Beyond the workflow config's
``max_cells`` the workflow stops before planning, unless ``allow_large_grid: true`` confirms it. The
estimated core-hours come from the cost model (:mod:`surrogate_study.plan.cost`) applied to an evenly spaced
sample of each study's axis points, scaled to the study's size.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from surrogate_study.plan.config import resolve_config
from surrogate_study.plan.cost import DEFAULT_RATES, cell_seconds, read_rates
from surrogate_study.plan.errors import ConfigError
from surrogate_study.plan.overrides import deep_merge
from surrogate_study.plan.study import axis_points

#: Default of the workflow config's ``max_cells`` (config/paper.yaml has 1714 cells).
DEFAULT_MAX_CELLS = 10_000
#: Axis points per study whose cost is computed for the estimate.
SAMPLE_POINTS = 16


def study_points(spec: Mapping[str, Any]) -> list[list[tuple[Any, dict]]]:
    """(label, override) pairs of each axis of one study."""
    return [axis_points(axis, axis_spec) for axis, axis_spec in (spec.get("axes") or {}).items()]


def grid_size(workflow_config: Mapping[str, Any]) -> dict[str, int]:
    """Per study, the number of axis points (cells before shared ones are merged)."""
    return {name: math.prod(len(p) for p in study_points(spec))
            for name, spec in workflow_config["studies"].items()}


def _point(points: list[list[tuple[Any, dict]]], index: int) -> list[tuple[Any, dict]]:
    """The ``index``-th point of the axes' product (mixed radix, last axis fastest, as itertools.product)."""
    chosen = []
    for axis in reversed(points):
        index, digit = divmod(index, len(axis))
        chosen.append(axis[digit])
    return list(reversed(chosen))


def estimated_core_hours(workflow_config: Mapping[str, Any], sizes: Mapping[str, int]) -> float:
    """Estimated CPU-hours of the grid (each study's mean sampled cell cost times its size)."""
    rates = read_rates(workflow_config.get("cost_rates", DEFAULT_RATES))
    threads = int(workflow_config.get("train_threads", 2))
    base, datasets = workflow_config.get("base") or {}, workflow_config.get("datasets") or {}
    seconds = 0.0
    for name, spec in workflow_config["studies"].items():
        points, size = study_points(spec), sizes[name]
        if size == 0:
            continue
        indices = sorted({i * size // min(size, SAMPLE_POINTS) for i in range(min(size, SAMPLE_POINTS))})
        costs = []
        for index in indices:
            user = deep_merge(base, spec.get("fixed") or {})
            for _, override in _point(points, index):
                user = deep_merge(user, override)
            dataset = dict(user.get("dataset") or {})
            extra = datasets.get(dataset.get("name", "randman"))
            if extra:
                user = {**user, "dataset": deep_merge(extra, dataset)}
            costs.append(cell_seconds(resolve_config(user, allow_large=True), rates, threads)[1])
        seconds += sum(costs) / len(costs) * size
    return seconds / 3600


def check_grid_size(workflow_config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` (one line: size, estimated core-hours, how to confirm) when the grid has
    more cells than ``max_cells`` and ``allow_large_grid`` is not true."""
    limit = int(workflow_config.get("max_cells", DEFAULT_MAX_CELLS))
    sizes = grid_size(workflow_config)
    total = sum(sizes.values())
    if total <= limit or str(workflow_config.get("allow_large_grid", False)).lower() == "true":
        return
    try:
        hours = f"about {estimated_core_hours(workflow_config, sizes):,.0f} core-hours"
    except (OSError, KeyError, ValueError, ZeroDivisionError, ConfigError) as error:
        hours = f"core-hours not estimated: {error}"
    largest = max(sizes, key=lambda s: sizes[s])
    raise ConfigError(
        f"config error at max_cells: the grid has {total:,} cells ({hours}; largest study: {largest}, "
        f"{sizes[largest]:,} cells), more than max_cells = {limit:,}; nothing was planned. If this is "
        "intended, rerun with --config allow_large_grid=true (or raise max_cells)"
    )
