"""The sensitivity study's plan: which studies decide which claim under which alternative (workflow config key
``sensitivity``; config/sensitivity.yaml), checked before any work."""

from __future__ import annotations

from typing import Any, Mapping

from surrogate_study.plan.errors import ConfigError

#: The claims the sensitivity study re-decides (figures/claims.md's rows of the same name).
SENSITIVITY_CLAIMS: tuple[str, ...] = ("1", "2a", "2b")
ALTERNATIVE_AXIS = "alternative"


def check_sensitivity(config: Mapping[str, Any]) -> None:
    """Every study a claim names exists and has an ``alternative`` axis whose cases are declared alternatives;
    ``default`` is the first alternative. Raises :class:`ConfigError` naming the key."""
    spec = config.get("sensitivity")
    if spec is None:
        return
    alternatives = list(spec["alternatives"])
    if alternatives[0] != "default":
        raise ConfigError(f"config error at sensitivity.alternatives: the first alternative must be 'default', "
                          f"got {alternatives[0]!r}")
    for claim, studies in spec["claims"].items():
        for study in studies:
            where = f"sensitivity.claims.{claim}"
            if study not in config["studies"]:
                raise ConfigError(f"config error at {where}: study {study!r} is not defined "
                                  f"(studies: {', '.join(config['studies'])})")
            axes = config["studies"][study].get("axes") or {}
            cases = axes.get(ALTERNATIVE_AXIS)
            if not isinstance(cases, Mapping):
                raise ConfigError(f"config error at studies.{study}.axes: a sensitivity study needs an "
                                  f"'{ALTERNATIVE_AXIS}' axis of named cases (the alternatives)")
            unknown = [case for case in cases if case not in alternatives]
            if unknown:
                raise ConfigError(f"config error at studies.{study}.axes.{ALTERNATIVE_AXIS}: {', '.join(map(repr, unknown))} "
                                  f"is not in sensitivity.alternatives (allowed: {', '.join(alternatives)})")
