"""A surrogate shape from outside the project: the Gaussian, normalized to peak 1,

    σ′(x; β) = exp(−(βx)²),

registered under the name ``gaussian`` through the entry-point group ``surrogate_study.surrogates``.
"""

import torch


def gaussian(x: torch.Tensor, beta) -> torch.Tensor:
    """σ′(x; β) = exp(−(βx)²); ``beta`` a float or a tensor broadcastable against ``x``."""
    return torch.exp(-((beta * x) ** 2))
