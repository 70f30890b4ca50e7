"""One LIF layer of K grid cells as an autograd Function over the event-driven compiled kernels
(sample-major [K, B, T, N]), and :func:`lif_layer_cells`, which picks that path or the PyTorch time loop.

The compiled kernels (:mod:`surrogate_study.kernels.layer_forward`, :mod:`~surrogate_study.kernels.layer_backward`)
form the input current from the non-zero inputs, the recurrent current and the readout's input current from
the spikes, and sum the weight gradients over events. They evaluate σ′ by a shape code
(:data:`~surrogate_study.kernels.options.KERNEL_SHAPES`: the built-in shapes). A shape from a plugin (entry
point ``surrogate_study.surrogates``) has no code, so a layer in which any cell uses one runs
:class:`~surrogate_study.fused.time_loop.LIFTimeLoop` on the CPU too, with the plugin's own σ′ function: the
same equations and results (tested), slower; a one-time warning in the log says so. Equations: see
:mod:`surrogate_study.fused.time_loop`.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from surrogate_study.data.spike_data import InputEvents
from surrogate_study.fused.cell_matmul import cell_matmul
from surrogate_study.fused.cell_surrogates import CellSurrogates, has_kernel, kernel_surrogates
from surrogate_study.fused.readout import leaky_readout_sample_major
from surrogate_study.fused.time_loop import LIFTimeLoop
from surrogate_study.kernels.events import compact_events_kernel
from surrogate_study.kernels.layer_backward import layer_backward_kernel
from surrogate_study.kernels.layer_forward import layer_forward_kernel
from surrogate_study.kernels.options import LANES
from surrogate_study.kernels.runtime import match_torch_threads, small_gemm_in_blas
from surrogate_study.kernels.tile_product import padded_columns
from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.surrogates import Surrogate


#: The batch is split into this many fixed chunks for the on-the-fly weight gradients (parallel tasks per
#: cell); a constant, so that the summation order, and the result, does not depend on K or the threads.
WEIGHT_GRADIENT_CHUNKS = 8


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


def weight_gradient_chunks(like: Tensor, cells: int, chunks: int, shape: Sequence[int]) -> Tensor:
    """The [K, J, P, N] per-chunk sums of ∂L/∂W that ``layer_backward_kernel`` writes, uninitialised: each of
    its tasks zeroes its own block first (see there)."""
    return like.new_empty((cells, chunks, *shape))


def padded_transpose(weight: Tensor) -> Tensor:
    """Wᵀ [K, N, P′] of W [K, P, N] for the backward kernels' small products, C-contiguous, each row padded
    with zeros to whole vectors (P′ ≥ P) for the tiled products (P′ = P when BLAS has a small-matrix path)."""
    columns = weight.shape[1]
    pad = 0 if small_gemm_in_blas() else padded_columns(columns, weight.element_size()) - columns
    return torch.nn.functional.pad(weight.detach().transpose(1, 2), (0, pad)).contiguous()


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
    match_torch_threads()
    kernel_events = event_arrays(events, weight.dtype)
    kernel_inputs = inputs.detach() if events is None else weight.new_empty((inputs.shape[0], 1, 1, 1))
    write_spikes = store_spikes and not emit_events
    layer_forward_kernel(
        kernel_inputs.numpy(), steps, *kernel_events, weight.detach().numpy(), v.numpy(), recurrent, params.recurrent_delay, w_out.numpy(),
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
        compact_events_kernel(spike_steps.numpy(), spike_units.numpy(), spike_last.numpy(), room,
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

    The compiled kernels of :mod:`surrogate_study.kernels` (``layer_*``): input current from the
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
        acc_w = weight_gradient_chunks(membrane, cells, chunks, weight.shape[1:]) if need_weight else zeros(cells, chunks, 1, 1)
        acc_v = zeros(cells, chunks, neurons, neurons) if need_recurrent else zeros(1, 1, 1, 1)
        propagates = np.array([p and recurrent for p in ctx.propagate_recurrent], dtype=np.bool_)
        recurrent_t = dummy3
        if propagates.any():
            recurrent_t = padded_transpose(recurrent_weight)
        # gI[n+2] scratch only where something reads it (the kernel then compiles without it: see its docstring)
        later_rows = (np.empty((cells * chunks, LANES, neurons), dtype=membrane.numpy().dtype)
                      if recurrent and params.recurrent_delay == 2 and (need_recurrent or propagates.any()) else None)
        match_torch_threads()
        layer_backward_kernel(  # S is not passed: the kernel takes it from U (S = Θ(U − ϑ))
            membrane.numpy(), current.numpy(),
            grad_spikes.contiguous().numpy() if grad_spikes is not None else dummy,
            grad_membrane.contiguous().numpy() if grad_membrane is not None else dummy,
            grad_spikes is not None, static, grad_membrane is not None,
            grad_counts.contiguous().numpy() if grad_counts is not None else dummy3.numpy(), grad_counts is not None,
            recurrent_t.numpy(), propagates, later_rows,
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
            small_gemm_in_blas(),
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


def event_arrays(events: Optional[InputEvents | LayerEvents], dtype: torch.dtype) -> tuple:
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
