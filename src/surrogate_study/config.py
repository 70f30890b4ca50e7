"""Run configurations: defaults, merging, and validation against a JSON schema.

A user config (YAML or a mapping) is deep-merged onto ``defaults.yaml``; the
``dataset`` section is merged onto the defaults of the dataset it names. The result
is validated against ``schemas/run.schema.yaml`` before any work starts, and any
violation raises :class:`ConfigError` with a one-line message that names the key,
the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from .datasets import dataset_names
from .surrogates import surrogate_names

Config = dict[str, Any]


class ConfigError(ValueError):
    """A run configuration that violates the schema; the message is one line."""


def _package_yaml(name: str) -> Any:
    return yaml.safe_load(resources.files(__package__).joinpath(name).read_text())


@lru_cache(maxsize=1)
def _defaults() -> Config:
    return _package_yaml("defaults.yaml")


def default_config() -> Config:
    """The resolved default run: the paper's default Randman network."""
    return resolve_config({})


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema = _package_yaml("schemas/run.schema.yaml")
    schema["properties"]["surrogate"]["properties"]["shape"]["enum"] = list(surrogate_names())
    schema["properties"]["dataset"]["properties"]["name"]["enum"] = list(dataset_names())
    return schema


def run_schema() -> dict[str, Any]:
    """The JSON schema of a resolved run config, with the registries' names filled in."""
    return copy.deepcopy(_schema())


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> Config:
    """``base`` updated by ``override``; nested mappings merge, everything else is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` unless ``config`` is a complete, valid run config."""
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        where = _key_path(error)
        if error.validator in ("additionalProperties", "required"):
            raise ConfigError(f"config error at {where}: {error.message}")
        raise ConfigError(f"config error at {where}: value {error.instance!r} is not allowed: {error.message}")
    split = config["dataset"].get("split")
    if split is not None and abs(sum(split.values()) - 1.0) > 1e-6:
        raise ConfigError(
            f"config error at dataset.split: value {split!r} is not allowed: fractions must sum to 1"
        )


def resolve_config(user_config: Mapping[str, Any] | None) -> Config:
    """Merge ``user_config`` onto the defaults and validate the result."""
    user_config = dict(user_config or {})
    if not isinstance(user_config.get("dataset", {}), Mapping):
        raise ConfigError(f"config error at dataset: value {user_config['dataset']!r} is not allowed: must be a mapping")
    defaults = _defaults()
    merged = deep_merge({k: v for k, v in defaults.items() if k != "datasets"}, user_config)
    dataset_defaults = defaults["datasets"].get(merged["dataset"].get("name"), {})
    merged["dataset"] = deep_merge(dataset_defaults, merged["dataset"])
    validate_config(merged)
    return merged


def load_config(path: str | Path | None) -> Config:
    """Read a YAML/JSON run config from ``path`` (or none) and resolve it."""
    if path is None:
        return resolve_config({})
    text = Path(path).read_text()
    try:
        user_config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config error: {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(user_config, Mapping):
        raise ConfigError(f"config error: {path} must hold a mapping, found {type(user_config).__name__}")
    return resolve_config(user_config)


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON form of ``config`` (identifies a run's checkpoint)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
