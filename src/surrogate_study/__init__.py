"""Surrogate-gradient learning in spiking neural networks (Zenke & Vogels 2021), reproduced.

The package's folders are its layers, each depending only on those above it in this list:

- ``plan`` — run configs, studies → cells → jobs, dataset catalog, shape names, cost (light: what the Snakefile
  imports; no torch, numba, pandas or h5py);
- ``storage``, ``provenance`` — atomic writes; provenance stamps;
- ``kernels`` — numba code only: the event-driven LIF layer kernels, their BPTT backward, the readout;
- ``model`` — surrogate shapes, reference LIF dynamics, the network of K grid cells, regularizers;
- ``fused`` — autograd Functions over the kernels (the fast core the network runs on the CPU);
- ``data`` — Randman and the real datasets as spike trains;
- ``training`` — training runs of K cells at once, checkpoints, divergence handling;
- ``analysis``, ``figures`` — study tables, seed statistics, the paper's claims, Table 1; figure helpers;
- ``cli`` — the ``surrogate-study`` command.

The names below are the Python API; each is imported on first use, so ``import surrogate_study`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("surrogate-study")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: public name -> module that defines it
_API: dict[str, str] = {
    "resolve_config": "surrogate_study.plan.config",
    "load_config": "surrogate_study.plan.config",
    "ConfigError": "surrogate_study.plan.errors",
    "plan_studies": "surrogate_study.plan.study",
    "surrogate_names": "surrogate_study.plan.shapes",
    "register_surrogate": "surrogate_study.model.surrogates",
    "Surrogate": "surrogate_study.model.surrogates",
    "SpikingNetwork": "surrogate_study.model.network",
    "LIFParameters": "surrogate_study.model.lif",
    "spike_grad": "surrogate_study.model.snntorch_compat",
    "train": "surrogate_study.training.trainer",
    "train_cells": "surrogate_study.training.trainer",
    "configure_runtime": "surrogate_study.kernels.runtime",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    if name not in _API:
        raise AttributeError(f"module 'surrogate_study' has no attribute {name!r}")
    value = getattr(import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
