"""Dotted ``KEY=VALUE`` overrides of a run config from the command line (``--set surrogate.beta=100``).

``a.b.c=v`` becomes ``{"a": {"b": {"c": v}}}``, deep-merged onto the config file's mapping in the
order given (a later override of the same key wins) before the defaults are merged and the result is
validated, so a bad key or value gets the same one-line :class:`~surrogate_study.plan.config.ConfigError`
as in a file. The value is read as YAML (``100``, ``0.5``, ``true``, ``esser``, ``[100, 100]``); a
plain string that reads as a number (``1e-3``, which YAML 1.1 leaves a string) becomes that float.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Mapping, Sequence

import yaml

from surrogate_study.plan.errors import ConfigError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``; nested mappings merge, everything else is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_value(text: str, key: str) -> Any:
    """The YAML value of ``text`` (numbers in exponent notation included)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"config error at {key}: value {text!r} is not valid YAML ({problem})") from None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_override(text: str) -> dict[str, Any]:
    """``"a.b=v"`` as the nested mapping ``{"a": {"b": v}}``; :class:`ConfigError` for a malformed one."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not _KEY.fullmatch(key):
        raise ConfigError(f"config error: override {text!r} is not KEY=VALUE with a dotted key "
                          "(e.g. surrogate.beta=100)")
    nested: Any = parse_value(raw, key)
    for part in reversed(key.split(".")):
        nested = {part: nested}
    return nested


def apply_overrides(config: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``config`` with every override merged on, in order."""
    merged = dict(config)
    for text in overrides:
        merged = deep_merge(merged, parse_override(text))
    return merged
