"""Run configurations: defaults, merging, and validation against a JSON schema.

A user config (YAML or a mapping) is deep-merged onto ``defaults.yaml``; the
``dataset`` section is merged onto the defaults of the dataset it names. The result
is validated against ``schemas/run.schema.yaml`` before any work starts, and any
violation raises :class:`ConfigError` with a one-line message that names the key,
the bad value and what is allowed. Every number must be finite and within float32 range
(|x| ≤ 3.4e38, the precision the network computes in); the learning rate η must lie in
(0, ``LR_MAX``] (Adam moves each weight by about η per step, so η > 1 is never meaningful).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import jsonschema
import yaml

from surrogate_study.plan.dataset_catalog import dataset_names
from surrogate_study.plan.errors import ConfigError
from surrogate_study.plan.overrides import apply_overrides, deep_merge
from surrogate_study.plan.shapes import surrogate_names

Config = dict[str, Any]

#: Largest learning rate the schema accepts (documented in schemas/run.schema.yaml and the README's "One training run").
LR_MAX = 1.0
#: Largest magnitude of any number in a config: float32's largest finite value.
FLOAT32_MAX = 3.4028234663852886e38


def test_every_epoch(training: Mapping[str, Any]) -> bool:
    """Whether a run with this ``training`` section evaluates the test split after every epoch: its optional
    ``test_split`` is every_epoch or absent (runs written before the key existed), not best_epoch."""
    return training.get("test_split", "every_epoch") == "every_epoch"


#: Largest sizes a run config may ask for unless the user confirms (``--allow-large``; workflow config
#: ``allow_large_runs: true``): far beyond the paper's runs (50 epochs, 100-256 hidden units, batch 250,
#: 1000 samples per class, 100 steps), they catch a typo (``epochs: 1e20``, ``hidden: [1e11]``) before it trains
#: for ever or fails allocating. Dotted key -> maximum (a list's every item).
SIZE_LIMITS: dict[str, int] = {
    "training.epochs": 10_000,
    "training.batch_size": 100_000,
    "training.eval_batch_size": 100_000,
    "model.hidden": 10_000,
    "dataset.samples_per_class": 1_000_000,
    "dataset.steps": 10_000,
}


def check_size_limits(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first key of :data:`SIZE_LIMITS` beyond its maximum."""
    for key, limit in SIZE_LIMITS.items():
        value: Any = config
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if isinstance(item, (int, float)) and not isinstance(item, bool) and item > limit:
                where = key if index is None else f"{key}.{index}"
                raise ConfigError(f"config error at {where}: value {item!r} is not allowed: more than {limit:,}; "
                                  "to run it knowingly, pass --allow-large (workflow config: allow_large_runs: true)")


def _package_yaml(name: str) -> Any:
    return yaml.safe_load(resources.files(__package__).joinpath(name).read_text())


@lru_cache(maxsize=1)
def _defaults() -> Config:
    return _package_yaml("defaults.yaml")


def default_config() -> Config:
    """The resolved default run: the paper's default Randman network."""
    return resolve_config({})


def _schema() -> dict[str, Any]:
    """The run schema with the registries' names as of now (a plugin installed later is seen)."""
    return _schema_for(surrogate_names(), dataset_names())


@lru_cache(maxsize=8)
def _schema_for(shapes: tuple[str, ...], datasets: tuple[str, ...]) -> dict[str, Any]:
    schema = _package_yaml("schemas/run.schema.yaml")
    schema["properties"]["surrogate"]["properties"]["shape"]["enum"] = list(shapes)
    schema["properties"]["dataset"]["properties"]["name"]["enum"] = list(datasets)
    return schema


def run_schema() -> dict[str, Any]:
    """The JSON schema of a resolved run config, with the registries' names filled in."""
    return copy.deepcopy(_schema())


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def _bad_numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    """(key path, value) of every float in ``value`` that is non-finite or beyond float32 range."""
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= FLOAT32_MAX):
        return [(path or "<top level>", value)]
    if isinstance(value, Mapping):
        return [bad for key, item in value.items() for bad in _bad_numbers(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, (list, tuple)):
        return [bad for i, item in enumerate(value) for bad in _bad_numbers(item, f"{path}.{i}")]
    return []


def check_numbers(config: Mapping[str, Any], prefix: str = "") -> None:
    """Raise :class:`ConfigError` naming the first non-finite or out-of-float32-range number."""
    bad = _bad_numbers(config, prefix)
    if bad:
        where, value = bad[0]
        raise ConfigError(f"config error at {where}: value {value!r} is not allowed: numbers must be finite "
                          f"and at most {FLOAT32_MAX:.4g} in magnitude")


def describe_yaml_error(path: str | Path, exc: yaml.YAMLError) -> str:
    """One line: the file, the line and column (1-based) and what the YAML parser found wrong."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = " ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
    return f"config error: {path}{where}: not valid YAML: {problem or exc}".replace("\n", " ")


def check_yaml_file(path: str | Path) -> None:
    """Raise :class:`ConfigError` (one line, with line and column) unless ``path`` is readable YAML."""
    try:
        yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"config error: {path} cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(describe_yaml_error(path, exc)) from None


#: Keys of YAML templates (yte, which Snakemake applies to a config file holding ``__use_yte__``).
TEMPLATE_KEYS = ("__use_yte__", "__definitions__", "__variables__")


def expression_key(value: Any, path: str = "") -> str | None:
    """The dotted key of the first template or expression in a loaded config: a yte key (``__use_yte__``, ...)
    or a key or string value starting with ``?`` (yte's ``?expr``, ``?if``, ``?for``); None for plain data."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in TEMPLATE_KEYS or (isinstance(key, str) and key.lstrip().startswith("?")):
                return where
            found = expression_key(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = expression_key(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    elif isinstance(value, str) and value.lstrip().startswith("?"):
        return path or "<top level>"
    return None


def check_workflow_config_file(path: str | Path) -> None:
    """Raise :class:`ConfigError` (one line) unless ``path`` is readable YAML holding a mapping of plain data:
    no YAML error, not empty, no yte template key or ``?``-expression (configs are data, never code)."""
    check_yaml_file(path)
    data = yaml.safe_load(Path(path).read_text())
    if data is None:
        raise ConfigError(f"config error: {path} is empty (no keys); give a workflow config such as "
                          "config/config.yaml")
    key = expression_key(data)
    if key is not None:
        raise ConfigError(f"config error at {key}: {path} holds a template or expression (yte `__use_yte__`, "
                          "`?...`); workflow configs are plain data: write the value itself")


def validate_workflow_config(config: Mapping[str, Any], schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` (one line naming the key and the bad value) unless ``config``
    satisfies the workflow schema at ``schema_path`` and holds only finite numbers."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        where = _key_path(error)
        if error.validator in ("additionalProperties", "required"):
            raise ConfigError(f"config error at {where}: {error.message} (schema: {schema_path})")
        value = repr(error.instance)
        value = value if len(value) <= 80 else value[:77] + "..."
        message = " ".join(error.message.split())
        message = message if len(message) <= 160 else f"{error.validator} {error.validator_value!r}"
        raise ConfigError(f"config error at {where}: value {value} is not allowed: {message} "
                          f"(schema: {schema_path})")
    check_numbers(config)


@lru_cache(maxsize=8)
def _split_validators(shapes: tuple[str, ...], datasets: tuple[str, ...]) -> tuple[Any, dict[str, Any]]:
    """A validator of the top level with every section accepted as is, and one validator per section."""
    schema = _schema_for(shapes, datasets)
    top = {**schema, "properties": dict(schema["properties"])}
    sections = {}
    for name, node in schema["properties"].items():
        if node.get("type") == "object":
            top["properties"][name] = {"type": "object"}
            sections[name] = jsonschema.Draft202012Validator({**node, "$defs": schema.get("$defs", {})})
    return jsonschema.Draft202012Validator(top), sections


#: (section name, canonical JSON) of the sections found valid: a grid's cells share most of their sections,
#: so that planning N cells validates each distinct section once (linear in N, with a small constant).
_VALID_SECTIONS: set[tuple[str, str]] = set()


def _known_valid(config: Mapping[str, Any]) -> bool:
    """True when the top level and every section of ``config`` are valid (sections: cached by content)."""
    top, sections = _split_validators(surrogate_names(), dataset_names())
    if not top.is_valid(config):
        return False
    for name, validator in sections.items():
        key = (name, json.dumps(config[name], sort_keys=True))
        if key not in _VALID_SECTIONS:
            if not validator.is_valid(config[name]):
                return False
            if len(_VALID_SECTIONS) > 100_000:
                _VALID_SECTIONS.clear()
            _VALID_SECTIONS.add(key)
    return True


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` unless ``config`` is a complete, valid run config."""
    check_numbers(config)
    if _known_valid(config):
        _check_split(config)
        return
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        where = _key_path(error)
        if error.validator in ("additionalProperties", "required"):
            raise ConfigError(f"config error at {where}: {error.message}")
        raise ConfigError(f"config error at {where}: value {error.instance!r} is not allowed: {error.message}")
    _check_split(config)


def _check_split(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` unless the dataset split fractions (when given) sum to 1."""
    split = config["dataset"].get("split")
    if split is not None and abs(sum(split.values()) - 1.0) > 1e-6:
        raise ConfigError(
            f"config error at dataset.split: value {split!r} is not allowed: fractions must sum to 1"
        )


def resolve_config(user_config: Mapping[str, Any] | None, *, allow_large: bool = False) -> Config:
    """Merge ``user_config`` onto the defaults and validate the result (sizes beyond :data:`SIZE_LIMITS`
    only with ``allow_large``)."""
    user_config = dict(user_config or {})
    if not isinstance(user_config.get("dataset", {}), Mapping):
        raise ConfigError(f"config error at dataset: value {user_config['dataset']!r} is not allowed: must be a mapping")
    defaults = _defaults()
    merged = deep_merge({k: v for k, v in defaults.items() if k != "datasets"}, user_config)
    dataset_defaults = defaults["datasets"].get(merged["dataset"].get("name"), {})
    merged["dataset"] = deep_merge(dataset_defaults, merged["dataset"])
    validate_config(merged)
    if not allow_large:
        check_size_limits(merged)
    return merged


def load_config(path: str | Path | None, overrides: Sequence[str] = (), *, allow_large: bool = False) -> Config:
    """Read a YAML/JSON run config from ``path`` (or none), apply the dotted ``KEY=VALUE``
    ``overrides`` (:mod:`surrogate_study.plan.overrides`) and resolve it.

    A missing file, a directory, an empty file (no keys) and a YAML syntax error (with its line
    and column) are one-line :class:`ConfigError` s.
    """
    if path is None:
        return resolve_config(apply_overrides({}, overrides), allow_large=allow_large)
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"config error: {path} is a directory; --config takes a YAML/JSON file")
    if not file.is_file():
        raise ConfigError(f"config error: {path} does not exist (or is not a regular file)")
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config error: {path} cannot be read: {exc}") from None
    try:
        user_config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(describe_yaml_error(path, exc)) from None
    if user_config is None:
        raise ConfigError(f"config error: {path} is empty (no keys); to train the default network, "
                          "leave out --config")
    if not isinstance(user_config, Mapping):
        raise ConfigError(f"config error: {path} must hold a mapping, found {type(user_config).__name__}")
    return resolve_config(apply_overrides(user_config, overrides), allow_large=allow_large)


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON form of ``config`` (identifies a run's checkpoint)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
