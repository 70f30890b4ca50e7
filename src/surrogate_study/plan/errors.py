"""The one error type of configuration problems: a one-line message naming the key, the value and what is allowed;
and the one-line message of a run that does not fit in memory (the sizes of its config that decide it)."""

from __future__ import annotations

from typing import Any, Mapping


class ConfigError(ValueError):
    """A run configuration that violates the schema; the message is one line."""


def is_allocation_failure(error: BaseException) -> bool:
    """Whether ``error`` is a failed memory allocation (Python's MemoryError, torch's allocator RuntimeError)."""
    if isinstance(error, MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(
        phrase in text for phrase in ("can't allocate memory", "out of memory", "failed to allocate",
                                      "defaultcpuallocator", "not enough memory"))


def allocation_message(config: Mapping[str, Any]) -> str:
    """One line: the run did not fit in memory, with the sizes that decide it."""
    keys = ("model.hidden", "training.batch_size", "dataset.samples_per_class", "dataset.steps")
    values = []
    for key in keys:
        section, name = key.split(".")
        value = (config.get(section) or {}).get(name)
        if value is not None:
            values.append(f"{key}={value}")
    sizes = ", ".join(values)
    return f"out of memory: the run does not fit in this machine's memory ({sizes}); make them smaller"
