"""Surrogate-gradient learning in spiking neural networks (Zenke & Vogels 2021), reproduced.

Modules, one job each:
``surrogates`` (σ′ shapes, spike autograd Function), ``shapes`` (shape names and plugins, light),
``snntorch_compat`` (shapes as snnTorch ``spike_grad``), ``lif`` (LIF and readout dynamics),
``network`` (layers and classifier), ``regularizers`` (activity bounds),
``randman`` and ``spike_data`` / ``datasets`` (tasks), ``dataset_catalog`` (names, raw files; light),
``config`` (defaults, schema), ``study`` / ``cost`` (planning; light),
``fused_lif`` / ``lif_kernels`` / ``cell_matmul`` (the fast core),
``training`` (one run), ``atomic`` (safe outputs), ``cli`` (command line).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("surrogate-study")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
