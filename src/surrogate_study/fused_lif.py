"""Fast LIF dynamics: hand-written BPTT over the whole time loop, for K grid cells at once.

K independent networks (grid cells) may differ in surrogate shape, β, scale and detach flags,
each on its own batch of B inputs. The model is that of :mod:`surrogate_study.lif`, written for
speed: no autograd graph inside the time loop. Two paths:

- :func:`lif_layer_cells` / :class:`EventLIFLayer` (what the network uses on the CPU): sample-major
  tensors [K, B, T, N]; the compiled event-driven kernels of :mod:`surrogate_study.lif_kernels`
  form the input current from the non-zero inputs, the recurrent current and the readout's input
  current from the spikes, and sum the weight gradients over events;
- :func:`fused_lif_cells` for a given input current F [K, T, B, N] (cell-major): the compiled
  feed-forward kernels, or the PyTorch time loop :class:`LIFTimeLoop`, which also serves CUDA
  and surrogate shapes without a kernel code.

The compiled kernels evaluate σ′ by a shape code (``lif_kernels.KERNEL_SHAPES``: the built-in
shapes). A shape from a plugin (entry point ``surrogate_study.surrogates``) has no code, so a layer
in which any cell uses one runs the PyTorch path on the CPU too, with the plugin's own σ′ function:
the same equations and results (tested), slower; a one-time warning in the log says so.

Forward, with U[0] = I[0] = 0:

    S[n] = Θ(U[n] − ϑ),  m[n] = λ_mem U[n] + (1 − λ_mem) I[n],  U[n+1] = m[n] (1 − S[n]),
    I[n+1] = λ_syn I[n] + F[n] (+ S[n] V for recurrent layers).

Backward, from gU[T] = gI[T] = 0 down to n = 0, with σ′[n] = σ′(U[n] − ϑ) of each cell,
ρ = 1 for a differentiable reset (0 when detached), π = 1 when recurrent gradients
propagate (0 when detached), and the incoming gradients ĝS[n], ĝU[n] of the outputs:

    gS[n] = ĝS[n] − ρ m[n] gU[n+1] + π gI[n+1] Vᵀ
    gU[n] = ĝU[n] + λ_mem (1 − S[n]) gU[n+1] + σ′[n] gS[n]
    gI[n] = λ_syn gI[n+1] + (1 − λ_mem)(1 − S[n]) gU[n+1]
    ∂L/∂F[n] = gI[n+1],   ∂L/∂V = Σ_n S[n]ᵀ gI[n+1]  (V's direct term, always).

The leaky readout is linear, so it is one matmul over time: I[n] = Σ_{m<n} λ^(n−1−m) F[m]
is I = K_λ F, and U_out = K_out F_out with K_out = (1 − λ_out) K_{λ_out} K_{λ_syn}.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from . import lif_kernels, tile_product
from .cell_matmul import cell_matmul
from .lif import LIFParameters
from .spike_data import InputEvents
from .surrogates import Surrogate, surrogate_derivative


logger = logging.getLogger(__name__)
_NOTED_WITHOUT_KERNEL: set[str] = set()


def has_kernel(surrogates: Sequence[Surrogate]) -> bool:
    """Whether every shape has a code in the compiled kernels; if not, note once per shape in the log
    that its layers use the PyTorch time loop."""
    missing = sorted({s.shape for s in surrogates} - set(lif_kernels.KERNEL_SHAPES))
    for shape in missing:
        if shape not in _NOTED_WITHOUT_KERNEL:
            _NOTED_WITHOUT_KERNEL.add(shape)
            logger.warning("surrogate shape %r has no compiled kernel (built-in: %s); its layers run the PyTorch "
                           "time loop (same results, slower)", shape, ", ".join(lif_kernels.KERNEL_SHAPES))
    return not missing


@lru_cache(maxsize=64)
def _filter_matrix_cpu(steps: int, decay: float) -> Tensor:
    n = torch.arange(steps, dtype=torch.float64)
    lag = n[:, None] - 1.0 - n[None, :]
    return torch.where(lag >= 0, decay ** lag.clamp(min=0.0), torch.zeros(()))


def filter_matrix(steps: int, decay: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """K_λ [time, time]: I = K_λ F solves I[n+1] = λ I[n] + F[n], I[0] = 0."""
    return _filter_matrix_cpu(steps, decay).to(dtype=dtype, device=device)


@lru_cache(maxsize=64)
def _readout_matrix_cpu(steps: int, decay_syn: float, decay_out: float) -> Tensor:
    return (1.0 - decay_out) * _filter_matrix_cpu(steps, decay_out) @ _filter_matrix_cpu(steps, decay_syn)


def leaky_readout_cells(input_current: Tensor, params: LIFParameters) -> Tensor:
    """U_out [K, T, ...] of the leaky readout for input current F_out [K, T, ...]: one matmul over time."""
    cells, steps = input_current.shape[:2]
    kernel = _readout_matrix_cpu(steps, params.decay_syn, params.decay_readout)
    kernel = kernel.to(dtype=input_current.dtype, device=input_current.device)
    return torch.matmul(kernel, input_current.reshape(cells, steps, -1)).view(input_current.shape)


class LeakyReadout(torch.autograd.Function):
    """U_out [..., T, C] of the leaky readout from F_out [..., T, C] on the CPU: the O(T) recursion of
    :func:`lif_kernels.readout_forward_kernel` and its adjoint (``readout_backward_kernel``)."""

    @staticmethod
    def forward(ctx, input_current: Tensor, decay_syn: float, decay_out: float) -> Tensor:  # type: ignore[override]
        rows = input_current.detach().contiguous()
        flat = rows.view(-1, *rows.shape[-2:])
        membrane = torch.empty_like(flat)
        _numba_threads()
        lif_kernels.readout_forward_kernel(flat.numpy(), decay_syn, decay_out, membrane.numpy())
        ctx.decays = (decay_syn, decay_out)
        return membrane.view(rows.shape)

    @staticmethod
    def backward(ctx, grad_membrane: Tensor):  # type: ignore[override]
        grad = grad_membrane.contiguous()
        flat = grad.view(-1, *grad.shape[-2:])
        grad_input = torch.empty_like(flat)
        _numba_threads()
        lif_kernels.readout_backward_kernel(flat.numpy(), *ctx.decays, grad_input.numpy())
        return grad_input.view(grad.shape), None, None


def leaky_readout_sample_major(input_current: Tensor, params: LIFParameters) -> Tensor:
    """U_out [K, B, T, C] of the leaky readout for F_out [K, B, T, C]: U_out[k, b] = K_out F_out[k, b]
    (on the CPU by the recursion of :class:`LeakyReadout`, elsewhere by the [T, T] filter matrix)."""
    if input_current.device.type == "cpu" and input_current.dtype in (torch.float32, torch.float64):
        return LeakyReadout.apply(input_current, params.decay_syn, params.decay_readout)
    steps = input_current.shape[2]
    kernel = _readout_matrix_cpu(steps, params.decay_syn, params.decay_readout)
    return torch.matmul(kernel.to(dtype=input_current.dtype, device=input_current.device), input_current)


@dataclass(frozen=True)
class CellSurrogates:
    """The surrogates of K cells, evaluated on [K, ...] tensors in as few calls as possible."""

    surrogates: tuple[Surrogate, ...]

    def derivative(self, x: Tensor, beta: Optional[Tensor]) -> Tensor:
        """σ′(x) with cell k's surrogate on x[k]; ``beta`` from :meth:`beta_tensor` when uniform."""
        if beta is not None:
            first = self.surrogates[0]
            return surrogate_derivative(x, first.shape, beta, first.scale)
        return torch.stack([s.derivative(x[k]) for k, s in enumerate(self.surrogates)])

    def beta_tensor(self, like: Tensor) -> Optional[Tensor]:
        """β of every cell as [K, 1, …] when all cells share shape and scale, else None."""
        if len({(s.shape, s.scale) for s in self.surrogates}) > 1:
            return None
        beta = torch.tensor([s.beta for s in self.surrogates], dtype=like.dtype, device=like.device)
        return beta.view(-1, *([1] * (like.dim() - 1)))


def _cell_mask(flags: Sequence[bool], like: Tensor) -> Optional[Tensor]:
    """[K, 1, …] float mask of the cells whose flag is set; None when no cell has it."""
    if not any(flags):
        return None
    return torch.tensor(flags, dtype=like.dtype, device=like.device).view(-1, *([1] * (like.dim() - 1)))


class LIFTimeLoop(torch.autograd.Function):
    """Spikes and membrane [K, T, B, N] of LIF neurons with input current F, optional V [K, N, N]."""

    @staticmethod
    def forward(ctx, feedforward: Tensor, recurrent_weight: Optional[Tensor], params: LIFParameters,
                surrogates: CellSurrogates, differentiable_reset: tuple[bool, ...],
                propagate_recurrent: tuple[bool, ...]):  # type: ignore[override]
        decay_mem, decay_syn, threshold = params.decay_mem, params.decay_syn, params.threshold
        steps = feedforward.shape[1]
        membrane_cells = feedforward.new_empty(feedforward.shape)
        current_cells = feedforward.new_empty(feedforward.shape)
        spiking_cells = torch.empty(feedforward.shape, dtype=torch.bool, device=feedforward.device)
        spikes_cells = feedforward.new_empty(feedforward.shape) if recurrent_weight is not None else None
        # time-major views [T, K, B, N] of the cell-major [K, T, B, N] storage
        membrane_all, current_all = membrane_cells.transpose(0, 1), current_cells.transpose(0, 1)
        spiking_all, feedforward = spiking_cells.transpose(0, 1), feedforward.transpose(0, 1)
        spikes_all = spikes_cells.transpose(0, 1) if spikes_cells is not None else None
        membrane_all[0].zero_()
        current_all[0].zero_()
        for n in range(steps):
            membrane, current = membrane_all[n], current_all[n]
            torch.gt(membrane, threshold, out=spiking_all[n])
            if n + 1 == steps:
                break
            torch.add(decay_mem * membrane, current, alpha=1.0 - decay_mem, out=membrane_all[n + 1])
            membrane_all[n + 1].masked_fill_(spiking_all[n], 0.0)
            next_current = torch.add(feedforward[n], current, alpha=decay_syn, out=current_all[n + 1])
            if recurrent_weight is not None:
                spikes_all[n] = spiking_all[n]
                next_current.baddbmm_(spikes_all[n], recurrent_weight)
        if spikes_all is not None:
            spikes_all[steps - 1] = spiking_all[steps - 1]
        spikes = spiking_cells.to(feedforward.dtype) if spikes_cells is None else spikes_cells
        ctx.save_for_backward(recurrent_weight, membrane_cells, current_cells, spiking_cells)
        ctx.params, ctx.surrogates = params, surrogates
        ctx.differentiable_reset, ctx.propagate_recurrent = differentiable_reset, propagate_recurrent
        ctx.set_materialize_grads(False)
        return spikes, membrane_cells

    @staticmethod
    def backward(ctx, grad_spikes: Optional[Tensor], grad_membrane: Optional[Tensor]):  # type: ignore[override]
        recurrent_weight, membrane_cells, current_cells, spiking_cells = ctx.saved_tensors
        time_major = lambda t: None if t is None else t.transpose(0, 1)  # noqa: E731
        membrane_all, current_all, spiking_all = map(time_major, (membrane_cells, current_cells, spiking_cells))
        grad_spikes, grad_membrane = time_major(grad_spikes), time_major(grad_membrane)
        params: LIFParameters = ctx.params
        surrogates: CellSurrogates = ctx.surrogates
        decay_mem, decay_syn, threshold = params.decay_mem, params.decay_syn, params.threshold
        steps = membrane_all.shape[0]
        beta = surrogates.beta_tensor(membrane_all[0])
        reset_mask = _cell_mask(ctx.differentiable_reset, membrane_all[0])
        propagate_mask = _cell_mask(ctx.propagate_recurrent, membrane_all[0])
        if recurrent_weight is None:
            propagate_mask = None
        weight_t = recurrent_weight.transpose(1, 2) if recurrent_weight is not None else None
        grad_feedforward_cells = torch.empty_like(membrane_cells)
        grad_feedforward = grad_feedforward_cells.transpose(0, 1)
        grad_u = torch.zeros_like(membrane_all[0])  # gU[n+1]
        grad_i = torch.zeros_like(grad_u)  # gI[n+1]
        for n in range(steps - 1, -1, -1):
            grad_feedforward[n] = grad_i
            membrane = membrane_all[n]
            sigma = surrogates.derivative(membrane - threshold, beta)
            grad_s = grad_spikes[n] if grad_spikes is not None else torch.zeros_like(grad_u)
            if reset_mask is not None:
                leak_input = torch.add(decay_mem * membrane, current_all[n], alpha=1.0 - decay_mem)
                grad_s = grad_s - reset_mask * leak_input * grad_u
            if propagate_mask is not None:
                grad_s = grad_s + propagate_mask * torch.bmm(grad_i, weight_t)
            carried = grad_u.masked_fill(spiking_all[n], 0.0)  # (1 − S[n]) gU[n+1]
            new_grad_u = torch.addcmul(decay_mem * carried, sigma, grad_s)
            if grad_membrane is not None:
                new_grad_u += grad_membrane[n]
            grad_i = torch.add(decay_syn * grad_i, carried, alpha=1.0 - decay_mem)
            grad_u = new_grad_u
        grad_weight = None
        if recurrent_weight is not None and ctx.needs_input_grad[1]:
            cells, neurons = membrane_cells.shape[0], membrane_cells.shape[-1]
            spikes = spiking_cells.to(membrane_cells.dtype).reshape(cells, -1, neurons)
            grad_weight = torch.bmm(spikes.transpose(1, 2), grad_feedforward_cells.reshape(cells, -1, neurons))
        return grad_feedforward_cells, grad_weight, None, None, None, None


class FeedForwardLIFKernel(torch.autograd.Function):
    """:class:`LIFTimeLoop` for feed-forward layers on the CPU, with the compiled kernels of ``lif_kernels``."""

    @staticmethod
    def forward(ctx, feedforward: Tensor, params: LIFParameters, surrogates: CellSurrogates,
                differentiable_reset: tuple[bool, ...]):  # type: ignore[override]
        cells, steps = feedforward.shape[:2]
        membrane, current, spikes = (torch.empty_like(feedforward) for _ in range(3))
        flat = lambda t: t.view(cells, steps, -1).numpy()  # noqa: E731
        lif_kernels.lif_forward_kernel(
            flat(feedforward.detach()), params.decay_mem, params.decay_syn, params.threshold,
            flat(membrane), flat(current), flat(spikes),
        )
        ctx.save_for_backward(membrane, current, spikes)
        ctx.params, ctx.surrogates, ctx.differentiable_reset = params, surrogates, differentiable_reset
        ctx.set_materialize_grads(False)
        return spikes, membrane

    @staticmethod
    def backward(ctx, grad_spikes: Optional[Tensor], grad_membrane: Optional[Tensor]):  # type: ignore[override]
        membrane, current, spikes = ctx.saved_tensors
        params: LIFParameters = ctx.params
        cells_surrogates = ctx.surrogates.surrogates
        cells, steps = membrane.shape[:2]
        flat = lambda t: t.contiguous().view(cells, steps, -1).numpy()  # noqa: E731
        dummy = np.zeros((1, 1, 1), dtype=membrane.numpy().dtype)
        grad_feedforward = torch.empty_like(membrane)
        lif_kernels.lif_backward_kernel(
            flat(membrane), flat(current), flat(spikes),
            flat(grad_spikes) if grad_spikes is not None else dummy,
            flat(grad_membrane) if grad_membrane is not None else dummy,
            grad_spikes is not None, grad_membrane is not None,
            np.array([lif_kernels.KERNEL_SHAPES[s.shape] for s in cells_surrogates], dtype=np.int64),
            np.array([s.beta for s in cells_surrogates], dtype=np.float64),
            np.array([s.beta if s.scale == "asymptotic" else 1.0 for s in cells_surrogates], dtype=np.float64),
            np.array(ctx.differentiable_reset, dtype=np.bool_),
            params.decay_mem, params.decay_syn, params.threshold,
            flat(grad_feedforward),
        )
        return grad_feedforward, None, None, None


def kernel_applies(feedforward: Tensor, surrogates: Sequence[Surrogate], recurrent: bool) -> bool:
    """Whether the compiled feed-forward kernel can run this layer (CPU, float, known shapes)."""
    return (
        not recurrent
        and feedforward.device.type == "cpu"
        and feedforward.dtype in (torch.float32, torch.float64)
        and has_kernel(surrogates)
    )


def fused_lif_cells(
    feedforward: Tensor,
    params: LIFParameters,
    surrogates: Sequence[Surrogate],
    recurrent_weight: Optional[Tensor] = None,
    detach_reset: Sequence[bool] | bool = True,
    detach_recurrent: Sequence[bool] | bool = False,
    use_kernel: bool = True,
) -> tuple[Tensor, Tensor]:
    """Spikes and membrane [K, T, B, N] for input current F [K, T, B, N] (and V [K, N, N]).

    ``surrogates``, ``detach_reset`` and ``detach_recurrent`` give one value per cell
    (a single value applies to all cells). Feed-forward layers on the CPU use the compiled
    kernels of :mod:`surrogate_study.lif_kernels` unless ``use_kernel`` is False.
    """
    cells = feedforward.shape[0]
    per_cell = lambda value: [value] * cells if isinstance(value, bool) else list(value)  # noqa: E731
    surrogates = list(surrogates)
    cell_surrogates = CellSurrogates(tuple(surrogates if len(surrogates) == cells else surrogates * cells))
    differentiable_reset = tuple(not d for d in per_cell(detach_reset))
    propagate = tuple(not d for d in per_cell(detach_recurrent))
    if use_kernel and kernel_applies(feedforward, cell_surrogates.surrogates, recurrent_weight is not None):
        return FeedForwardLIFKernel.apply(feedforward.contiguous(), params, cell_surrogates, differentiable_reset)
    return LIFTimeLoop.apply(feedforward.contiguous(), recurrent_weight, params, cell_surrogates,
                             differentiable_reset, propagate)


#: The batch is split into this many fixed chunks for the on-the-fly weight gradients (parallel tasks per
#: cell); a constant, so that the summation order, and the result, does not depend on K or the threads.
WEIGHT_GRADIENT_CHUNKS = 8


def _numba_threads() -> None:
    """Run the compiled kernels on as many threads as torch (the job's ``threads``)."""
    lif_kernels.numba.set_num_threads(max(1, min(torch.get_num_threads(), lif_kernels.numba.config.NUMBA_NUM_THREADS)))


class LayerEvents(NamedTuple):
    """The spikes of a layer as input events for the next one (listed by ``layer_forward_kernel`` with
    ``emit_events``): row r = k·B + b holds the events ``indptr[r]:indptr[r+1]`` of ``steps``, ``units``,
    ``values`` (1), sorted by (step, unit) as a scan of S[k, b] meets them (as :class:`InputEvents`).
    ``carrier`` is a placeholder of S's shape [K, B, T, N] (zero strides, no memory of its own) that links the
    layers in autograd: the next layer returns ∂L/∂S as its gradient."""

    indptr: Tensor  # int64 [K·B + 1]
    steps: Tensor  # int64 [events]
    units: Tensor  # int64 [events]
    values: Tensor  # [events], ones in the layer's dtype
    carrier: Tensor  # [K, B, T, N]


#: Scratch for the spike lists of ``layer_forward_kernel`` (``emit_events``): room for T·N events per row, of
#: which a row touches a few pages; kept between calls (grown, never shrunk) so that those pages are not
#: page-faulted anew every step. Read only inside :meth:`EventLIFLayer.forward`, which copies the events out.
_EVENT_SCRATCH: dict[str, Tensor] = {}


def _event_scratch(size: int) -> tuple[Tensor, Tensor]:
    """Two int64 scratch arrays (steps, units) of at least ``size`` elements."""
    if _EVENT_SCRATCH.get("steps", torch.empty(0)).numel() < size:
        _EVENT_SCRATCH.update(steps=torch.empty(size, dtype=torch.int64), units=torch.empty(size, dtype=torch.int64))
    return _EVENT_SCRATCH["steps"], _EVENT_SCRATCH["units"]


def padded_transpose(weight: Tensor) -> Tensor:
    """Wᵀ [K, N, P′] of W [K, P, N] for the backward kernels' small products, C-contiguous, each row padded
    with zeros to whole vectors (P′ ≥ P) for the tiled products (P′ = P when BLAS has a small-matrix path)."""
    columns = weight.shape[1]
    pad = 0 if lif_kernels.SMALL_GEMM_IN_BLAS else tile_product.padded_columns(columns, weight.element_size()) - columns
    return torch.nn.functional.pad(weight.detach().transpose(1, 2), (0, pad)).contiguous()


def kernel_surrogates(surrogates: Sequence[Surrogate]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward kernels' per-cell surrogate arguments: shape codes (``lif_kernels.KERNEL_SHAPES``), β,
    and the gain (β for the asymptotic scale, else 1)."""
    return (np.array([lif_kernels.KERNEL_SHAPES[s.shape] for s in surrogates], dtype=np.int64),
            np.array([s.beta for s in surrogates], dtype=np.float64),
            np.array([s.beta if s.scale == "asymptotic" else 1.0 for s in surrogates], dtype=np.float64))


class LayerForward(NamedTuple):
    """What :func:`layer_forward` returns: the outputs of :class:`EventLIFLayer` (S or its placeholder, U,
    U_out, ζ, the logits, the events listed when ``emit_events``) and what its backward pass reads (the
    kernel's inputs, I, the logits' steps, the kernel's event arguments, B and T)."""

    spikes: Tensor
    membrane: Tensor
    readout: Tensor
    counts: Tensor
    peak: Tensor
    indptr: Tensor
    event_steps: Tensor
    event_units: Tensor
    event_values: Tensor
    kernel_inputs: Tensor
    current: Tensor
    peak_step: Tensor
    kernel_events: tuple
    batch_steps: tuple[int, int]


def layer_forward(inputs: Tensor, weight: Tensor, recurrent_weight: Optional[Tensor], readout_weight: Optional[Tensor],
                  params: LIFParameters, differentiable_reset: tuple[bool, ...],
                  events: Optional[InputEvents | LayerEvents], store_membrane: bool, store_spikes: bool,
                  emit_events: bool) -> LayerForward:
    """The forward pass of one LIF layer by ``layer_forward_kernel`` (arguments as :class:`EventLIFLayer`'s)."""
    cells, neurons = weight.shape[0], weight.shape[2]
    batch, steps = inputs.shape[1:3] if isinstance(events, LayerEvents) or events is None else (events.batch, events.n_steps)
    shape = (cells, batch, steps, neurons)
    nothing = weight.new_empty((1, 1, 1, 1))
    membrane = weight.new_empty(shape) if store_membrane else nothing
    spikes = weight.new_empty(shape) if store_spikes and not emit_events else weight.new_empty((0,))
    room = steps * neurons  # events a row can hold
    spike_steps, spike_units = _event_scratch(cells * batch * room if emit_events else 1)
    spike_last = torch.empty(cells * batch if emit_events else 1, dtype=torch.int64)
    store_current = store_membrane and any(differentiable_reset)
    current = weight.new_empty(shape) if store_current else nothing
    recurrent, has_readout = recurrent_weight is not None, readout_weight is not None
    v = recurrent_weight.detach() if recurrent else weight.new_empty((1, 1, 1))
    w_out = readout_weight.detach() if has_readout else weight.new_empty((1, 1, 1))
    readout_potential = (weight.new_empty((cells, batch, steps, w_out.shape[2])) if has_readout
                         else weight.new_empty((1, 1, 1, 1)))
    peak = weight.new_empty((cells, batch, w_out.shape[2]) if has_readout else (1, 1, 1))
    peak_step = torch.empty(peak.shape, dtype=torch.int64)
    counts = weight.new_empty((cells, batch, neurons))
    _numba_threads()
    kernel_events = _event_arrays(events, weight.dtype)
    kernel_inputs = inputs.detach() if events is None else weight.new_empty((inputs.shape[0], 1, 1, 1))
    write_spikes = store_spikes and not emit_events
    lif_kernels.layer_forward_kernel(
        kernel_inputs.numpy(), steps, *kernel_events, weight.detach().numpy(), v.numpy(), recurrent, w_out.numpy(),
        has_readout, store_current, store_membrane, write_spikes, params.decay_mem, params.decay_syn, params.threshold, params.decay_readout,
        membrane.numpy(), current.numpy(), spikes.numpy() if write_spikes else nothing.numpy(), counts.numpy(),
        readout_potential.numpy(), peak.numpy(), peak_step.numpy(),
        emit_events, spike_steps.numpy(), spike_units.numpy(), spike_last.numpy(),
    )
    indptr = torch.zeros(cells * batch + 1 if emit_events else 1, dtype=torch.int64)
    if emit_events:  # the lists out of the scratch; S is a placeholder, its gradient ∂L/∂S comes back to it
        first = torch.arange(cells * batch, dtype=torch.int64) * room
        torch.cumsum(spike_last - first, 0, out=indptr[1:])
        event_steps, event_units = (torch.empty(int(indptr[-1]), dtype=torch.int64) for _ in range(2))
        lif_kernels.compact_events_kernel(spike_steps.numpy(), spike_units.numpy(), spike_last.numpy(), room,
                                          indptr.numpy(), event_steps.numpy(), event_units.numpy())
        event_values = weight.new_ones(event_steps.shape)
        spikes = weight.new_zeros(()).expand(shape)
    else:
        event_steps = event_units = torch.empty(0, dtype=torch.int64)
        event_values = weight.new_empty(0)
    return LayerForward(spikes, membrane, readout_potential, counts, peak, indptr, event_steps, event_units,
                        event_values, kernel_inputs, current, peak_step, kernel_events, (batch, steps))


class EventLIFLayer(torch.autograd.Function):
    """Spikes and membrane [K, B, T, N] of a LIF layer with inputs X [K or 1, B, T, P], W [K, P, N], V,
    (given W_out [K, N, C]) the potential U_out [K, B, T, C] of the leaky readout driven by F_out = S W_out
    (else None), the spike counts ζ [K, B, N] and (given W_out) the logits max_n U_out[n] [K, B, C] (else None).

    The compiled kernels of :mod:`surrogate_study.lif_kernels` (``layer_*``): input current from the
    non-zero inputs only, recurrent and readout current from the spikes only. Backward, with
    G = ∂L/∂F (per sample, inside ``layer_backward_kernel``) (equations of :class:`LIFTimeLoop`, with
    ĝS += ∂L/∂F_out W_outᵀ (∂L/∂F_out from ∂L/∂U_out by the readout's adjoint recursion in the same loop),
    the recurrent term gI[n+1] Vᵀ of propagating cells and the spike counts' gradient ∂L/∂ζ formed inside
    the kernel):

        ∂L/∂W_k = Σ X_kᵀ G_k (over non-zero X),  ∂L/∂V_k = Σ S_kᵀ G_k,  ∂L/∂W_out,k = Σ S_kᵀ ∂L/∂F_out,k
        (both over spikes),  ∂L/∂X_k = G_k W_kᵀ (one small GEMM per sample inside the kernel, when X needs it).

    ``store_membrane`` False (no backward pass to come, or U recomputed there) leaves U out, ``store_spikes`` False leaves S out (the
    backward pass takes S = Θ(U − ϑ) from U); those outputs are then empty tensors. ``emit_events``: S is
    listed as events instead (the last four outputs: indptr, steps, units, values of :class:`LayerEvents`; else
    empty) and the spikes output is a placeholder of S's shape with zero strides (see :class:`LayerEvents`). ``events`` may
    be a lower layer's :class:`LayerEvents`; ``inputs`` is then its carrier. ``recompute_membrane``
    (feed-forward layers; with ``store_membrane`` False): the backward pass forms U (and I) again per sample
    from X and W instead of reading them (see ``layer_backward_kernel``).
    """

    @staticmethod
    def forward(ctx, inputs: Tensor, weight: Tensor, recurrent_weight: Optional[Tensor],
                readout_weight: Optional[Tensor], params: LIFParameters, surrogates: CellSurrogates,
                differentiable_reset: tuple[bool, ...], propagate_recurrent: tuple[bool, ...],
                events: Optional[InputEvents | LayerEvents] = None, store_membrane: bool = True,
                store_spikes: bool = True, recompute_membrane: bool = False,
                emit_events: bool = False):  # type: ignore[override]
        if recompute_membrane and (store_membrane or recurrent_weight is not None):
            raise ValueError("EventLIFLayer: recompute_membrane needs store_membrane=False and no recurrent weights")
        out = layer_forward(inputs, weight, recurrent_weight, readout_weight, params, differentiable_reset, events,
                            store_membrane, store_spikes, emit_events)
        spikes, membrane, readout_potential, counts, peak = out.spikes, out.membrane, out.readout, out.counts, out.peak
        indptr, event_steps, event_units, event_values = out.indptr, out.event_steps, out.event_units, out.event_values
        kernel_inputs, current, peak_step = out.kernel_inputs, out.current, out.peak_step
        ctx.events = out.kernel_events
        has_readout = readout_weight is not None
        batch, steps = out.batch_steps
        ctx.mark_non_differentiable(indptr, event_steps, event_units, event_values)
        ctx.save_for_backward(kernel_inputs, weight, recurrent_weight, readout_weight, membrane, current, peak_step)
        ctx.params, ctx.surrogates, ctx.stored_membrane = params, surrogates, store_membrane
        ctx.recompute_membrane, ctx.batch_steps = recompute_membrane, (batch, steps)
        ctx.differentiable_reset, ctx.propagate_recurrent = differentiable_reset, propagate_recurrent
        ctx.set_materialize_grads(False)
        if not store_membrane:
            membrane = weight.new_empty((0,))
        return (spikes, membrane, (readout_potential if has_readout else None), counts, (peak if has_readout else None),
                indptr, event_steps, event_units, event_values)

    @staticmethod
    def backward(ctx, grad_spikes: Optional[Tensor], grad_membrane: Optional[Tensor],
                 grad_readout_potential: Optional[Tensor], grad_counts: Optional[Tensor],
                 grad_peak: Optional[Tensor], *grad_events: Optional[Tensor]):  # type: ignore[override]
        inputs, weight, recurrent_weight, readout_weight, membrane, current, peak_step = ctx.saved_tensors
        if not ctx.stored_membrane and not ctx.recompute_membrane:
            raise RuntimeError("EventLIFLayer: backward of a forward pass run with store_membrane=False")
        params: LIFParameters = ctx.params
        cell_surrogates = ctx.surrogates.surrogates
        recurrent = recurrent_weight is not None
        has_readout = readout_weight is not None and (grad_readout_potential is not None or grad_peak is not None)
        dummy = np.zeros((1, 1, 1, 1), dtype=membrane.numpy().dtype)
        dummy3 = membrane.new_empty((1, 1, 1))
        dummy_t = membrane.new_empty((1, 1, 1, 1))
        readout_t = readout_weight.detach().transpose(1, 2).contiguous() if has_readout else dummy3
        static = False
        if grad_spikes is not None and grad_spikes.shape[2] > 1 and grad_spikes.stride(2) == 0:
            grad_spikes, static = grad_spikes[:, :, :1], True  # a spike count's gradient: same at every step
        cells, neurons = weight.shape[0], weight.shape[2]
        batch, steps = ctx.batch_steps
        need_inputs = ctx.needs_input_grad[0]
        need_weight = ctx.needs_input_grad[1]
        need_recurrent = recurrent and ctx.needs_input_grad[2]
        need_readout = readout_weight is not None and ctx.needs_input_grad[3]
        chunks = min(WEIGHT_GRADIENT_CHUNKS, batch)
        zeros = lambda *shape: membrane.new_zeros(shape)  # noqa: E731
        # C-contiguous (numba's np.dot writes into ``out`` only then)
        grad_inputs = membrane.new_empty((cells, batch, steps, weight.shape[1])) if need_inputs else dummy_t
        weight_t = padded_transpose(weight) if need_inputs else dummy3
        acc_out = (zeros(cells, chunks, *readout_weight.shape[1:]) if need_readout and has_readout
                   else zeros(1, 1, 1, 1))
        acc_w = zeros(cells, chunks, *weight.shape[1:]) if need_weight else zeros(cells, chunks, 1, 1)
        acc_v = zeros(cells, chunks, neurons, neurons) if need_recurrent else zeros(1, 1, 1, 1)
        propagates = np.array([p and recurrent for p in ctx.propagate_recurrent], dtype=np.bool_)
        recurrent_t = dummy3
        if propagates.any():
            recurrent_t = padded_transpose(recurrent_weight)
        _numba_threads()
        lif_kernels.layer_backward_kernel(  # S is not passed: the kernel takes it from U (S = Θ(U − ϑ))
            membrane.numpy(), current.numpy(),
            grad_spikes.contiguous().numpy() if grad_spikes is not None else dummy,
            grad_membrane.contiguous().numpy() if grad_membrane is not None else dummy,
            grad_spikes is not None, static, grad_membrane is not None,
            grad_counts.contiguous().numpy() if grad_counts is not None else dummy3.numpy(), grad_counts is not None,
            recurrent_t.numpy(), propagates,
            grad_readout_potential.contiguous().numpy() if grad_readout_potential is not None else dummy,
            grad_readout_potential is not None,
            grad_peak.contiguous().numpy() if grad_peak is not None else dummy3.numpy(), grad_peak is not None,
            peak_step.numpy(), readout_t.numpy(), has_readout,
            params.decay_readout, acc_out.numpy(), need_readout and has_readout,
            *kernel_surrogates(cell_surrogates),
            np.array(ctx.differentiable_reset, dtype=np.bool_),
            params.decay_mem, params.decay_syn, params.threshold,
            inputs.detach().numpy(), *ctx.events, acc_w.numpy(), need_weight, acc_v.numpy(), need_recurrent,
            grad_inputs.numpy(), weight_t.numpy(), need_inputs, ctx.recompute_membrane, weight.detach().numpy(), batch, steps,
            lif_kernels.SMALL_GEMM_IN_BLAS,
        )
        grad_weight = grad_recurrent = grad_readout = None
        if not need_inputs:
            grad_inputs = None
        elif inputs.shape[0] == 1 and cells > 1:
            grad_inputs = grad_inputs.sum(0, keepdim=True)
        if need_weight:
            grad_weight = acc_w.sum(1)
        if need_recurrent:
            grad_recurrent = acc_v.sum(1)
        if need_readout:
            if has_readout:
                grad_readout = acc_out.sum(1)
            else:
                grad_readout = torch.zeros_like(readout_weight)
        return grad_inputs, grad_weight, grad_recurrent, grad_readout, None, None, None, None, None, None, None, None, None


def _event_arrays(events: Optional[InputEvents | LayerEvents], dtype: torch.dtype) -> tuple:
    """The kernels' event arguments: (has_events, first, last, steps, units, values in ``dtype``); row r's
    events are first[r]:last[r] (of an :class:`InputEvents`, indptr[r]:indptr[r + 1])."""
    if events is None:
        empty = np.zeros(1, dtype=np.int64)
        return False, empty, empty, empty, empty, np.zeros(1, dtype=torch.empty(0, dtype=dtype).numpy().dtype)
    indptr = events.indptr.numpy()
    return (True, indptr[:-1], indptr[1:], events.steps.numpy(), events.units.numpy(), events.values.to(dtype).numpy())


class LayerOutput(NamedTuple):
    """What :func:`lif_layer_cells` returns: spikes S and membrane U [K, B, T, N] (None when not kept), the
    readout potential U_out [K, B, T, C] when a readout weight was given (else None), the spike counts
    ζ = Σ_n S[n] [K, B, N], and with U_out the logits max_n U_out[n] [K, B, C] (``torch.max`` over time: its
    values and gradient)."""

    spikes: Optional[Tensor]
    membrane: Optional[Tensor]
    readout: Optional[Tensor]
    counts: Tensor
    peak: Optional[Tensor] = None
    events: Optional[LayerEvents] = None  # the spikes as events for the next layer (``emit_events``)


def lif_layer_cells(
    inputs: Tensor | InputEvents | LayerEvents,
    weight: Tensor,
    params: LIFParameters,
    surrogates: Sequence[Surrogate],
    recurrent_weight: Optional[Tensor] = None,
    detach_reset: Sequence[bool] | bool = True,
    detach_recurrent: Sequence[bool] | bool = False,
    use_kernel: bool = True,
    readout_weight: Optional[Tensor] = None,
    keep_spikes: bool = True,
    keep_membrane: bool = True,
    emit_events: bool = False,
) -> LayerOutput:
    """Spikes and membrane [K, B, T, N] of a LIF layer with inputs X [K or 1, B, T, P] (spikes or counts,
    shared by all cells when the first size is 1), weights W [K, P, N] and optional V [K, N, N], and the
    spike counts [K, B, N]; with ``readout_weight`` W_out [K, N, C] also the potential U_out [K, B, T, C] of
    the leaky readout driven by S W_out (else None).

    On the CPU with known surrogate shapes: :class:`EventLIFLayer` (event-driven compiled kernels, the
    readout and the counts formed in the same pass); elsewhere (CUDA, or ``use_kernel`` False) F = X W by one
    GEMM per cell, :class:`LIFTimeLoop`, S W_out by a GEMM, the readout filter and a sum over time.
    ``keep_spikes``/``keep_membrane`` False: S/U are returned as None, and the kernels do not write them (U
    is still formed when a backward pass needs it). A layer whose spikes feed no other layer (the readout
    and the counts are formed inside) and an evaluation pass keep neither: that is most of the memory traffic.
    ``emit_events`` (with ``keep_spikes`` False; a layer that feeds another): on the kernel path the spikes
    are returned as :class:`LayerEvents` (``events``) for the next layer's call, instead of S [K, B, T, N]
    (spikes ~1 % dense: the next layer reads a list, not a scan of S per step); elsewhere S is returned.
    """
    cells = weight.shape[0]
    per_cell = lambda value: [value] * cells if isinstance(value, bool) else list(value)  # noqa: E731
    surrogates = list(surrogates)
    cell_surrogates = CellSurrogates(tuple(surrogates if len(surrogates) == cells else surrogates * cells))
    differentiable_reset = tuple(not d for d in per_cell(detach_reset))
    propagate = tuple(not d for d in per_cell(detach_recurrent))
    kernel = (use_kernel and weight.device.type == "cpu" and weight.dtype in (torch.float32, torch.float64)
              and has_kernel(cell_surrogates.surrogates))
    if kernel:
        tensors = [t for t in (inputs, weight, recurrent_weight, readout_weight) if isinstance(t, Tensor)]
        backward = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
        events = inputs if isinstance(inputs, (InputEvents, LayerEvents)) else None
        # with events, the kernels read them; the tensor only tells them the number of input rows (or, a lower
        # layer's carrier, links the layers in autograd)
        if isinstance(inputs, LayerEvents):
            dense = inputs.carrier
            backward = backward or (torch.is_grad_enabled() and dense.requires_grad)
        elif events is not None:
            dense = weight.new_empty((inputs.cells, 1, 1, 1))
        else:
            dense = inputs.to(weight.dtype).contiguous()
        # a feed-forward layer on input events whose U is not wanted forms it again in the backward pass (cheaper
        # than storing it; measured: not so for dense inputs, whose non-zero entries are listed again per step)
        recompute = backward and not keep_membrane and recurrent_weight is None and events is not None
        emit = emit_events and not keep_spikes
        spikes, membrane, readout, counts, peak, *listed = EventLIFLayer.apply(
            dense, weight, recurrent_weight, readout_weight, params, cell_surrogates, differentiable_reset, propagate,
            events, keep_membrane or (backward and not recompute), keep_spikes, recompute, emit)
        if emit:
            layer_events = LayerEvents(*listed, spikes)
            return LayerOutput(None, membrane if keep_membrane else None, readout, counts, peak, layer_events)
        return LayerOutput(spikes if keep_spikes else None, membrane if keep_membrane else None, readout, counts, peak)
    if isinstance(inputs, LayerEvents):
        raise ValueError("lif_layer_cells: LayerEvents are read by the CPU kernels only")
    if isinstance(inputs, InputEvents):
        inputs = inputs.dense(weight.dtype, weight.device)
    inputs = inputs.to(weight.dtype)

    batch, steps = inputs.shape[1:3]
    rows = inputs.transpose(1, 2).reshape(inputs.shape[0], steps * batch, -1)  # [K or 1, T·B, P]
    feedforward = cell_matmul(rows, weight).view(cells, steps, batch, -1)
    spikes, membrane = LIFTimeLoop.apply(feedforward.contiguous(), recurrent_weight, params, cell_surrogates,
                                         differentiable_reset, propagate)
    spikes, membrane = spikes.transpose(1, 2), membrane.transpose(1, 2)
    readout = None
    if readout_weight is not None:
        readout_current = cell_matmul(spikes.reshape(cells, batch * steps, -1), readout_weight)
        readout = leaky_readout_sample_major(readout_current.view(cells, batch, steps, -1), params)
    return LayerOutput(spikes if keep_spikes or emit_events else None, membrane if keep_membrane else None, readout,
                       spikes.sum(dim=2), None if readout is None else readout.max(dim=2).values)
