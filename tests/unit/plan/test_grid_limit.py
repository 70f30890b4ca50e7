"""A grid beyond `max_cells` is refused before planning, naming its size and estimated core-hours, unless
confirmed; the section cache of run-config validation still reports every bad value."""

from pathlib import Path

import pytest
import yaml

from surrogate_study.plan.config import ConfigError, resolve_config
from surrogate_study.plan.grid_limit import DEFAULT_MAX_CELLS, check_grid_size, grid_size
from surrogate_study.plan.real_tasks import add_real_datasets

ROOT = Path(__file__).resolve().parents[3]


def _config(name: str) -> dict:
    config = yaml.safe_load((ROOT / "config" / name).read_text())
    config.update(add_real_datasets(config))
    return config


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the cost model reads benchmarks/cost_rates.csv


def test_the_shipped_configs_are_within_the_default_limit():
    for name in ("paper.yaml", "config.yaml", "smoke.yaml"):
        config = _config(name)
        assert 0 < sum(grid_size(config).values()) <= DEFAULT_MAX_CELLS, name
        check_grid_size(config)


def test_a_huge_grid_is_refused_in_one_line_with_its_size_and_core_hours():
    config = _config("smoke.yaml")
    config["studies"]["shape"]["axes"]["seed"] = list(range(1_000_000))  # 6 million cells: never expanded
    with pytest.raises(ConfigError) as raised:
        check_grid_size(config)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("config error at max_cells: the grid has 6,000,0")
    assert "core-hours" in message and "not estimated" not in message
    assert "largest study: shape" in message and "allow_large_grid=true" in message


def test_the_limit_is_configurable_and_the_flag_confirms():
    config = _config("smoke.yaml")
    size = sum(grid_size(config).values())
    with pytest.raises(ConfigError, match=f"more than max_cells = {size - 1}"):
        check_grid_size({**config, "max_cells": size - 1})
    check_grid_size({**config, "max_cells": size})
    for flag in (True, "true", "True"):  # `--config allow_large_grid=true` passes the string
        check_grid_size({**config, "max_cells": 1, "allow_large_grid": flag})
    with pytest.raises(ConfigError):
        check_grid_size({**config, "max_cells": 1, "allow_large_grid": "false"})


def test_validation_cache_still_names_a_bad_value_after_valid_configs():
    resolve_config({"model": {"hidden": [16]}})  # its sections are now cached as valid
    with pytest.raises(ConfigError, match=r"^config error at model\.hidden\.0: value -3 is not allowed"):
        resolve_config({"model": {"hidden": [-3]}})
    with pytest.raises(ConfigError, match=r"^config error at seed: value -1 is not allowed"):
        resolve_config({"model": {"hidden": [16]}, "seed": -1})
