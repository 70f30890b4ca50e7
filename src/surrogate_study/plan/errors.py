"""The one error type of configuration problems: a one-line message naming the key, the value and what is allowed."""

from __future__ import annotations


class ConfigError(ValueError):
    """A run configuration that violates the schema; the message is one line."""
