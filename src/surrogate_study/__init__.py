"""Surrogate-gradient learning in spiking neural networks (Zenke & Vogels 2021), reproduced.

Modules, one job each:
``surrogates`` (σ′ shapes, spike autograd Function), ``lif`` (LIF and readout dynamics),
``network`` (layers and classifier), ``regularizers`` (activity bounds),
``randman`` and ``spike_data`` / ``datasets`` (tasks), ``config`` (defaults, schema),
``fused_lif`` / ``lif_kernels`` / ``cell_matmul`` (the fast core),
``training`` (one run), ``atomic`` (safe outputs), ``cli`` (command line).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("surrogate-study")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
