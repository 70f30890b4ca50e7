"""The surrogates of the K grid cells of a layer: evaluated together on [K, ...] tensors, and as the compiled
kernels' per-cell arguments (shape code, β, gain)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from surrogate_study.kernels.options import KERNEL_SHAPES
from surrogate_study.model.surrogates import Surrogate, surrogate_derivative

logger = logging.getLogger(__name__)

_NOTED_WITHOUT_KERNEL: set[str] = set()


def has_kernel(surrogates: Sequence[Surrogate]) -> bool:
    """Whether every shape has a code in the compiled kernels; if not, note once per shape in the log
    that its layers use the PyTorch time loop."""
    missing = sorted({s.shape for s in surrogates} - set(KERNEL_SHAPES))
    for shape in missing:
        if shape not in _NOTED_WITHOUT_KERNEL:
            _NOTED_WITHOUT_KERNEL.add(shape)
            logger.warning("surrogate shape %r has no compiled kernel (built-in: %s); its layers run the PyTorch "
                           "time loop (same results, slower)", shape, ", ".join(KERNEL_SHAPES))
    return not missing


@dataclass(frozen=True)
class CellSurrogates:
    """The surrogates of K cells, evaluated on [K, ...] tensors in as few calls as possible."""

    surrogates: tuple[Surrogate, ...]

    def derivative(self, x: Tensor, beta: Optional[Tensor]) -> Tensor:
        """σ′(x) with cell k's surrogate on x[k]; ``beta`` from :meth:`beta_tensor` when uniform."""
        if beta is not None:
            first = self.surrogates[0]
            return surrogate_derivative(x, first.shape, beta, first.scale, first.sigmoid_peak)
        return torch.stack([s.derivative(x[k]) for k, s in enumerate(self.surrogates)])

    def beta_tensor(self, like: Tensor) -> Optional[Tensor]:
        """β of every cell as [K, 1, …] when all cells share shape, scale and Sigmoid′ peak, else None."""
        if len({(s.shape, s.scale, s.sigmoid_peak) for s in self.surrogates}) > 1:
            return None
        beta = torch.tensor([s.beta for s in self.surrogates], dtype=like.dtype, device=like.device)
        return beta.view(-1, *([1] * (like.dim() - 1)))


def kernel_surrogates(surrogates: Sequence[Surrogate]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward kernels' per-cell surrogate arguments: shape codes (``KERNEL_SHAPES``), β,
    and the gain (:attr:`Surrogate.gain`: β for the asymptotic scale, else 1, times β/4 for Sigmoid′ with
    ``sigmoid_peak: quarter_beta``)."""
    return (np.array([KERNEL_SHAPES[s.shape] for s in surrogates], dtype=np.int64),
            np.array([s.beta for s in surrogates], dtype=np.float64),
            np.array([s.gain for s in surrogates], dtype=np.float64))
