"""A stack of feed-forward LIF layers on input events as one autograd Function, backward per sample.

Layer by layer, autograd runs the backward pass of the top layer over the whole batch, writes ∂L/∂X of
every sample ([K, B, T, N], 80 MB at K = 8, B = 250, T = N = 100) and reads it back in the backward pass of
the layer below. :class:`EventLIFStack` has the same forward pass as a chain of
:class:`~surrogate_study.fused.layer.EventLIFLayer` (the same kernel calls), and a backward pass
(:func:`~surrogate_study.kernels.stack_backward.stack_backward_kernel`) that walks all layers of one sample in turn, so that ∂L/∂X of a
sample stays in the cache: the same operations in the same order per layer, so the same numbers (tested
against the chain, bit for bit). It serves what training and evaluation use: feed-forward layers of equal
width, input events, hidden traces not kept (the counts are).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from surrogate_study.data.spike_data import InputEvents
from surrogate_study.fused.cell_surrogates import CellSurrogates, has_kernel, kernel_surrogates
from surrogate_study.fused.layer import WEIGHT_GRADIENT_CHUNKS, LayerEvents, layer_forward, padded_transpose
from surrogate_study.kernels.runtime import match_torch_threads, small_gemm_in_blas
from surrogate_study.kernels.stack_backward import stack_backward_kernel
from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.surrogates import Surrogate

#: Whether :class:`~surrogate_study.model.network.SpikingNetwork` uses the stack where it applies (else the chain of
#: per-layer Functions; the tests compare the two).
USE_STACK = True


class StackOutput(NamedTuple):
    """The readout potential U_out [K, B, T, C] of the top layer, the logits max_n U_out[n] [K, B, C] and the
    spike counts ζ [K, B, N] of every layer, bottom first."""

    readout: Tensor
    peak: Tensor
    counts: list[Tensor]


def stack_applies(inputs: object, weights: Sequence[Tensor], surrogates: Sequence[Surrogate], recurrent: bool) -> bool:
    """Whether :func:`lif_stack_cells` serves these layers: at least two feed-forward layers of one width on the
    CPU in float32/float64, input events, built-in surrogate shapes, and a backward pass to come."""
    first = weights[0]
    return (USE_STACK and len(weights) >= 2 and not recurrent and isinstance(inputs, InputEvents)
            and first.device.type == "cpu" and first.dtype in (torch.float32, torch.float64)
            and len({w.shape[2] for w in weights}) == 1
            and all(w.shape[1] == first.shape[2] for w in weights[1:])
            and has_kernel(surrogates) and torch.is_grad_enabled() and any(w.requires_grad for w in weights))


class EventLIFStack(torch.autograd.Function):
    """U_out, the logits and the counts of every layer (see :class:`StackOutput`) of L feed-forward LIF layers
    W_l [K, P_l, N] on input events, the top one driving the readout W_out [K, N, C]; gradients for the
    weights (the input events have none)."""

    @staticmethod
    def forward(ctx, placeholder: Tensor, readout_weight: Tensor, params: LIFParameters, surrogates: CellSurrogates,
                differentiable_reset: tuple[bool, ...], events: InputEvents, *weights: Tensor):  # type: ignore[override]
        layer_events: list[tuple] = []
        counts: list[Tensor] = []
        below: InputEvents | LayerEvents = events
        dense = placeholder
        for layer, weight in enumerate(weights):
            top = layer + 1 == len(weights)
            out = layer_forward(dense, weight, None, readout_weight if top else None, params, differentiable_reset,
                                below, store_membrane=False, store_spikes=False, emit_events=not top)
            layer_events.append(out.kernel_events)
            counts.append(out.counts)
            if not top:
                below = LayerEvents(out.indptr, out.event_steps, out.event_units, out.event_values, out.spikes)
                dense = out.spikes
        ctx.layer_events, ctx.batch_steps, ctx.shared_input = layer_events, out.batch_steps, events.cells == 1
        ctx.params, ctx.surrogates, ctx.differentiable_reset = params, surrogates, differentiable_reset
        ctx.save_for_backward(readout_weight, out.peak_step, *weights)
        ctx.set_materialize_grads(False)
        return (out.readout, out.peak, *counts)

    @staticmethod
    def backward(ctx, grad_readout: Optional[Tensor], grad_peak: Optional[Tensor],
                 *grad_counts: Optional[Tensor]):  # type: ignore[override]
        readout_weight, peak_step, *weights = ctx.saved_tensors
        params: LIFParameters = ctx.params
        batch, steps = ctx.batch_steps
        cells = weights[0].shape[0]
        chunks = min(WEIGHT_GRADIENT_CHUNKS, batch)
        dummy3 = weights[0].new_empty((1, 1, 1))
        dummy4 = weights[0].new_empty((1, 1, 1, 1))
        has_readout = grad_readout is not None or grad_peak is not None
        need_weight = np.array(ctx.needs_input_grad[6:], dtype=np.bool_)
        need_readout = ctx.needs_input_grad[1]
        acc_w = [weights[0].new_zeros((cells, chunks, *w.shape[1:]) if need else (cells, chunks, 1, 1))
                 for w, need in zip(weights, need_weight)]  # [K, J, ·, ·]: the kernel takes J from the first
        acc_out = weights[0].new_zeros((cells, chunks, *readout_weight.shape[1:]) if need_readout and has_readout
                                       else (1, 1, 1, 1))
        readout_t = readout_weight.detach().transpose(1, 2).contiguous() if has_readout else dummy3
        weights_t = [padded_transpose(w) if layer > 0 else dummy3 for layer, w in enumerate(weights)]
        counts_grad = [g.contiguous() if g is not None else dummy3 for g in grad_counts]
        layer_events = ctx.layer_events
        match_torch_threads()
        stack_backward_kernel(
            tuple(g.numpy() for g in counts_grad), np.array([g is not None for g in grad_counts], dtype=np.bool_),
            grad_readout.contiguous().numpy() if grad_readout is not None else dummy4.numpy(), grad_readout is not None,
            grad_peak.contiguous().numpy() if grad_peak is not None else dummy3.numpy(), grad_peak is not None,
            peak_step.numpy(), readout_t.numpy(), has_readout, params.decay_readout, acc_out.numpy(),
            need_readout and has_readout, *kernel_surrogates(ctx.surrogates.surrogates),
            np.array(ctx.differentiable_reset, dtype=np.bool_), params.decay_mem, params.decay_syn, params.threshold,
            ctx.shared_input, *(tuple(e[i] for e in layer_events) for i in range(1, 6)),
            tuple(w.detach().numpy() for w in weights), tuple(w.numpy() for w in weights_t),
            tuple(a.numpy() for a in acc_w), need_weight, batch, steps, small_gemm_in_blas(),
        )
        grad_weights = [a.sum(1) if need else None for a, need in zip(acc_w, need_weight)]
        grad_readout_weight = None
        if need_readout:
            grad_readout_weight = acc_out.sum(1) if has_readout else torch.zeros_like(readout_weight)
        return (None, grad_readout_weight, None, None, None, None, *grad_weights)


def lif_stack_cells(inputs: InputEvents, weights: Sequence[Tensor], readout_weight: Tensor, params: LIFParameters,
                    surrogates: Sequence[Surrogate], detach_reset: Sequence[bool] | bool = True) -> StackOutput:
    """The readout potential, logits and spike counts of feed-forward LIF layers ``weights`` (bottom first) of
    K cells on input events, as :func:`~surrogate_study.fused.layer.lif_layer_cells` layer by layer would give
    them (see :func:`stack_applies` for when this serves)."""
    cells = weights[0].shape[0]
    surrogates = list(surrogates)
    cell_surrogates = CellSurrogates(tuple(surrogates if len(surrogates) == cells else surrogates * cells))
    detach = [detach_reset] * cells if isinstance(detach_reset, bool) else list(detach_reset)
    placeholder = weights[0].new_empty((inputs.cells, 1, 1, 1))
    readout, peak, *counts = EventLIFStack.apply(placeholder, readout_weight, params, cell_surrogates,
                                                 tuple(not d for d in detach), inputs, *weights)
    return StackOutput(readout, peak, counts)
