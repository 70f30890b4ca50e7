"""The recurrent timing, step by step: one input spike drives neuron 0, which feeds neuron 1 through V only.

Expected step counts, by hand from the update order. The project's order (``model.lif``):
S[n] = Θ(U[n] − ϑ) is read from U[n]; U[n+1] integrates I[n]; I[n+1] = λ_s I[n] + F[n] + V·S[n+1−d].
Let neuron 0 cross threshold at step n (S₀[n] = 1).

- d = 1 (``model.recurrent_delay: 1``): V·S[n] enters I₁[n+1]; U₁[n+2] = (1 − λ_m) I₁[n+1] ≠ 0 is the
  first step at which neuron 1's membrane moves: **2 steps**.
- d = 2 (the default; the authors' order): fzenke/spytorch's recurrent tutorial computes, in the loop
  iteration of step t, ``h1 = h1_from_input[:, t] + out @ v1`` with ``out`` still the spikes of step t − 1,
  then ``new_syn = alpha * syn + h1`` (I[t+1]) and ``out = spike_fn(mem - 1)`` (S[t] from U[t]); fmi-basel/stork's
  ``RecurrentSpikingModel`` adds the previous step's output to the input of the current step likewise. So
  S₀[n] enters h1 of iteration n + 1, i.e. I₁[n+2], and U₁[n+3] is the first to move: **3 steps**.

The reference loop, the compiled kernel and the PyTorch time loop (CUDA and plug-in shapes) are each checked.
"""

import pytest
import torch

from surrogate_study.fused.layer import lif_layer_cells
from surrogate_study.model.lif import LIFParameters, lif_layer_dynamics
from surrogate_study.model.surrogates import Surrogate

STEPS = 20


def pair(delay: int):
    """Input current F [1, T, 2] (one strong pulse into neuron 0 at step 0) and V [2, 2] (0 → 1 only)."""
    f = torch.zeros(1, STEPS, 2, dtype=torch.float64)
    f[0, 0, 0] = 50.0  # U₀[2] = (1 − λ_m) · 50 > ϑ: neuron 0 spikes at step 2
    v = torch.zeros(2, 2, dtype=torch.float64)
    v[0, 1] = 0.3  # too weak to make neuron 1 spike: only its first move is read
    return f, v, LIFParameters(recurrent_delay=delay)


def steps_to_first_move(spikes: torch.Tensor, membrane: torch.Tensor) -> tuple[int, int]:
    """(step at which neuron 0 first spikes, steps from there to neuron 1's first non-zero membrane)."""
    fired = int(torch.nonzero(spikes[:, 0])[0])
    moved = int(torch.nonzero(membrane[:, 1])[0])
    return fired, moved - fired


@pytest.mark.parametrize("delay, expected", [(1, 2), (2, 3)])
@pytest.mark.parametrize("path", ["reference", "kernel", "torch-loop"])
def test_a_spike_reaches_its_recurrent_target_after_the_authors_number_of_steps(delay, expected, path):
    f, v, params = pair(delay)
    surrogate = Surrogate()
    if path == "reference":
        trace = lif_layer_dynamics(f, params, surrogate, recurrent_weight=v)
        spikes, membrane = trace.spikes[0], trace.membrane[0]
    else:
        identity = torch.eye(2, dtype=torch.float64).unsqueeze(0)  # the layer's input is F itself: W = 1
        out = lif_layer_cells(f.unsqueeze(0), identity, params, [surrogate], v.unsqueeze(0),
                              use_kernel=path == "kernel")
        spikes, membrane = out.spikes[0, 0], out.membrane[0, 0]
    fired, delay_steps = steps_to_first_move(spikes, membrane)
    assert fired == 2
    assert spikes[:, 1].sum() == 0
    assert delay_steps == expected
