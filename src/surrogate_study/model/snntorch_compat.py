"""This project's surrogate shapes as snnTorch ``spike_grad`` functions (snnTorch itself is not imported).

snnTorch neurons call ``spike_grad(mem − threshold)`` and expect Θ forward with a surrogate
derivative backward; :func:`spike_grad` returns exactly that for any registered shape (built-in or
plugin), in either scale form::

    import snntorch as snn
    from surrogate_study.model.snntorch_compat import spike_grad
    lif = snn.Synaptic(alpha=0.8187, beta=0.9048, spike_grad=spike_grad("superspike", beta=10),
                       reset_mechanism="zero")

``spike_grad("superspike", β)`` has the same derivative as snnTorch's ``surrogate.fast_sigmoid(slope=β)``.

The same network in both libraries (tested in tests/test_snntorch_compat.py). This project's layer

    S[n] = Θ(U[n] − ϑ),  U[n+1] = (λ_m U[n] + (1 − λ_m) I[n]) (1 − S[n]),  I[n+1] = λ_s I[n] + F[n]

is snnTorch's ``Synaptic(alpha=λ_s, beta=λ_m, threshold=ϑ, reset_mechanism="zero")`` (its reset is
detached, as ``model.detach_reset: true`` here) driven by (1 − λ_m) F[t]: its membrane at step t
is U[t + 2], so its spikes are this project's delayed by two steps (U[0] = U[1] = 0 here). The
leaky readout U_out is ``Synaptic(alpha=λ_s, beta=λ_out, reset_mechanism="none")`` driven by
(1 − λ_out) F_out, again two steps ahead. Weights W [in, out] here are ``Linear`` weights
(1 − λ) Wᵀ there.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from surrogate_study.model.surrogates import Surrogate


def spike_grad(shape: str = "superspike", beta: float = 10.0, scale: str = "normalized") -> Callable[[Tensor], Tensor]:
    """``x ↦ Θ(x)`` with σ′(x; β) of ``shape`` (``scale`` form) in the backward pass, for snnTorch's ``spike_grad``.

    Bad arguments fail here, in one line naming the value and what is allowed.
    """
    return Surrogate(shape, float(beta), scale).spike
