"""The event-driven layer kernels (EventLIFLayer) equal the plain autograd reference in float64:
spikes, and the gradients of inputs X, weights W and recurrent weights V, for every surrogate shape,
scale and detach flag, feed-forward and recurrent, shared or per-cell inputs, each cell as alone."""

import itertools

import numpy as np

import pytest
import torch

import surrogate_study.fused.layer as fused_layer
import surrogate_study.fused.stack as fused_stack
from surrogate_study.fused.layer import lif_layer_cells
from surrogate_study.model.lif import LIFParameters, leaky_readout_dynamics, lif_layer_dynamics
from surrogate_study.model.surrogates import Surrogate
from surrogate_study.plan.shapes import surrogate_names

PARAMS = LIFParameters()
SHAPES = [s for s in surrogate_names() if not s.startswith("test_")]
DEVICES = [
    pytest.param("cpu"),
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


def layer_inputs(cells=1, shared=False, batch=3, steps=40, n_in=7, neurons=6, seed=0, recurrent=False,
                 device="cpu"):
    g = torch.Generator().manual_seed(seed)
    # sparse spike counts (0, 1 or 2) and weights strong enough that neurons spike and reset often
    x = (torch.rand(1 if shared else cells, batch, steps, n_in, generator=g) < 0.3).double()
    x = x * (1 + (torch.rand(x.shape, generator=g) < 0.2).double())
    w = torch.rand(cells, n_in, neurons, generator=g, dtype=torch.float64) * 1.6 - 0.2
    v = (torch.rand(cells, neurons, neurons, generator=g, dtype=torch.float64) - 0.5) * 0.6
    up_s = torch.randn(cells, batch, steps, neurons, generator=g, dtype=torch.float64)
    up_u = torch.randn(cells, batch, steps, neurons, generator=g, dtype=torch.float64)
    leaves = [t.to(device).requires_grad_(True) for t in (x, w, v)]
    return leaves[0], leaves[1], (leaves[2] if recurrent else None), up_s.to(device), up_u.to(device)


def reference(x, w, v, up_s, up_u, surrogates, detach_reset, detach_recurrent, use_s=True, use_u=True):
    loss, spikes = 0.0, []
    for k in range(w.shape[0]):
        trace = lif_layer_dynamics(x[min(k, x.shape[0] - 1)] @ w[k], PARAMS, surrogates[k],
                                   None if v is None else v[k], detach_reset[k], detach_recurrent[k])
        loss = loss + use_s * (trace.spikes * up_s[k]).sum() + use_u * (trace.membrane * up_u[k]).sum()
        spikes.append(trace.spikes)
    return torch.stack(spikes), loss


def fused(x, w, v, up_s, up_u, surrogates, detach_reset, detach_recurrent, use_s=True, use_u=True, use_kernel=True):
    spikes, membrane, *_ = lif_layer_cells(x, w, PARAMS, surrogates, v, detach_reset, detach_recurrent, use_kernel)
    return spikes, use_s * (spikes * up_s).sum() + use_u * (membrane * up_u).sum()


def grads(run, leaves, *args, **kwargs):
    for t in leaves:
        if t is not None:
            t.grad = None
    spikes, loss = run(*leaves[:3], *args, **kwargs)
    loss.backward()
    return spikes.detach(), [None if t is None else t.grad.clone() for t in leaves]


def assert_equal_to_reference(leaves, up_s, up_u, surrogates, detach_reset, detach_recurrent, **kwargs):
    ref_spikes, ref = grads(reference, leaves, up_s, up_u, surrogates, detach_reset, detach_recurrent,
                            **{k: v for k, v in kwargs.items() if k != "use_kernel"})
    spikes, fast = grads(fused, leaves, up_s, up_u, surrogates, detach_reset, detach_recurrent, **kwargs)
    assert ref_spikes.sum() > 20, "the check needs spikes"
    assert torch.equal(spikes, ref_spikes)
    for a, b in zip(fast, ref):
        if b is not None:
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", ["normalized", "asymptotic"])
@pytest.mark.parametrize(
    "recurrent, detach_reset, detach_recurrent",
    [(False, True, False), (False, False, False), *itertools.product([True], [True, False], [True, False])],
)
def test_layer_gradients_equal_autograd_reference(device, shape, scale, recurrent, detach_reset, detach_recurrent):
    x, w, v, up_s, up_u = layer_inputs(recurrent=recurrent, device=device)
    assert_equal_to_reference([x, w, v], up_s, up_u, [Surrogate(shape, 5.0, scale)], [detach_reset],
                              [detach_recurrent])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("use_s, use_u", [(True, False), (False, True)])
@pytest.mark.parametrize("recurrent", [False, True])
def test_layer_with_gradient_through_spikes_or_membrane_only(device, use_s, use_u, recurrent):
    x, w, v, up_s, up_u = layer_inputs(recurrent=recurrent, seed=1, device=device)
    assert_equal_to_reference([x, w, v], up_s, up_u, [Surrogate("superspike", 5.0)], [False], [False],
                              use_s=use_s, use_u=use_u)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("batch", [3, 90])
def test_batched_cells_with_different_settings_equal_the_reference(device, shared, recurrent, batch):
    """Batch 90: the backward kernel's chunks of 11–12 samples walk the samples of recurrent cells whose
    gradient propagates through V in lockstep groups of ``kernels.options.LANES`` (8) and a remainder (3 or 4)."""
    surrogates = [Surrogate("superspike", 10.0), Surrogate("esser", 2.0, "asymptotic"),
                  Surrogate("sigmoid", 30.0), Surrogate("true", 1.0)]
    x, w, v, up_s, up_u = layer_inputs(cells=4, shared=shared, recurrent=recurrent, seed=2, device=device,
                                       batch=batch)
    assert_equal_to_reference([x, w, v], up_s, up_u, surrogates, [True, False, True, False],
                              [False, True, True, False])


@pytest.mark.parametrize("delay", [1, 2])
@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "torch-loop"])
@pytest.mark.parametrize("batch", [3, 90])
def test_both_recurrent_delays_equal_the_reference(monkeypatch, delay, use_kernel, batch):
    """``model.recurrent_delay`` 1 and 2 (the authors' order, S[n − 1] V entering I[n + 1]): spikes and every
    gradient, cells with and without a propagating recurrent gradient, lockstep groups of 8 (batch 90)."""
    monkeypatch.setitem(globals(), "PARAMS", LIFParameters(recurrent_delay=delay))  # read by reference() and fused()
    surrogates = [Surrogate("superspike", 10.0), Surrogate("esser", 2.0, "asymptotic"), Surrogate("sigmoid", 30.0)]
    x, w, v, up_s, up_u = layer_inputs(cells=3, recurrent=True, seed=8, batch=batch)
    assert_equal_to_reference([x, w, v], up_s, up_u, surrogates, [True, False, True], [False, True, False],
                              use_kernel=use_kernel)


@pytest.mark.parametrize("recurrent, delay, detach_recurrent, expected", [
    (False, 2, False, None),  # feed-forward: the delay is moot, the kernel compiles without the d = 2 code
    (True, 1, False, None),
    (True, 2, False, (3 * 3, 8, 6)),  # [tasks = K · J, LANES, N]
    (True, 2, True, (3 * 3, 8, 6)),  # Ctl: ∂L/∂V still reads gI[n+2]
])
def test_the_backward_passes_the_delay_scratch_only_where_it_is_read(monkeypatch, recurrent, delay,
                                                                     detach_recurrent, expected):
    """The backward kernel gets gI[n+2] scratch for a delay-2 recurrent layer and None otherwise (numba then
    prunes the d = 2 code from the feed-forward kernel); the gradients equal the reference either way."""
    monkeypatch.setitem(globals(), "PARAMS", LIFParameters(recurrent_delay=delay))
    seen = []
    kernel = fused_layer.layer_backward_kernel

    def recording(*args):
        seen.append(args[11])
        return kernel(*args)

    monkeypatch.setattr(fused_layer, "layer_backward_kernel", recording)
    x, w, v, up_s, up_u = layer_inputs(cells=3, recurrent=recurrent, seed=4, batch=3)
    assert_equal_to_reference([x, w, v], up_s, up_u, [Surrogate("superspike", 10.0)] * 3, [True] * 3,
                              [detach_recurrent] * 3)
    assert seen
    assert all((s is None) if expected is None else (s.shape == expected) for s in seen)


@pytest.mark.parametrize("small_gemm_in_blas", [False, True])
@pytest.mark.parametrize("recurrent", [False, True])
def test_small_products_by_blas_or_by_tiles_equal_the_reference(monkeypatch, small_gemm_in_blas, recurrent):
    """The backward's small products by ``np.dot`` or by ``tile_product.matrix_product`` (the machine picks one,
    ``kernels.runtime.small_gemm_in_blas()``; both are tested here): ∂L/∂X = G Wᵀ per sample (7 inputs: a last tile of fewer
    columns) and, recurrent, gI[n+1] Vᵀ of lockstep groups of 8 and remainders of 3 or 4 samples (batch 90)."""
    for module in (fused_layer, fused_stack):
        monkeypatch.setattr(module, "small_gemm_in_blas", lambda: small_gemm_in_blas)
    x, w, v, up_s, up_u = layer_inputs(cells=2, recurrent=recurrent, seed=5, batch=90)
    assert_equal_to_reference([x, w, v], up_s, up_u,
                              [Surrogate("superspike", 10.0), Surrogate("sigmoid", 30.0)], [True, False], [False, False])


def test_torch_loop_fallback_equals_the_kernel():
    """``use_kernel=False`` (the path CUDA takes) gives the kernel's spikes and gradients."""
    x, w, v, up_s, up_u = layer_inputs(cells=2, recurrent=True, seed=3)
    args = (up_s, up_u, [Surrogate("superspike", 5.0), Surrogate("sigmoid", 8.0)], [False, True], [False, True])
    kernel = grads(fused, [x, w, v], *args, use_kernel=True)
    loop = grads(fused, [x, w, v], *args, use_kernel=False)
    assert torch.equal(kernel[0], loop[0])
    for a, b in zip(kernel[1], loop[1]):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("surrogate", [Surrogate("superspike", 5.0), Surrogate("sigmoid", 20.0),
                                       Surrogate("sigmoid", 100.0, "asymptotic")])
def test_float32_layer_tracks_the_float64_reference_as_closely_as_torch_float32(recurrent, surrogate):
    """float32 kernels (Sigmoid′ there takes the vectorised exp) against the float64 autograd loop: the error
    of the gradients, relative to their largest value, is within 1e-4 or 3× that of torch's float32 loop."""
    x, w, v, up_s, up_u = layer_inputs(batch=8, recurrent=recurrent, seed=4)
    exact_spikes, exact = grads(reference, [x, w, v], up_s, up_u, [surrogate], [False], [False])
    leaves = [t.detach().float().requires_grad_(True) if t is not None else None for t in (x, w, v)]
    args = (up_s.float(), up_u.float(), [surrogate], [False], [False])
    _, torch32 = grads(reference, leaves, *args)
    spikes, fast = grads(fused, leaves, *args)
    assert fast[1].dtype == torch.float32
    # float32 sums in another order: a spike may flip in a near-threshold case
    assert (spikes.double() != exact_spikes).float().mean() < 0.01
    if torch.equal(spikes.double(), exact_spikes):
        for a, b, c in zip(fast, torch32, exact):
            if c is not None:
                scale = c.abs().max()
                error, torch_error = (a.double() - c).abs().max() / scale, (b.double() - c).abs().max() / scale
                assert error <= max(1e-4, 3 * torch_error), (float(error), float(torch_error))


def test_dense_cells_equals_the_stacked_dense_batches():
    from surrogate_study.data.spike_data import SpikeDataset

    g = np.random.default_rng(0)
    counts = g.integers(0, 4, size=30)
    data = SpikeDataset.from_event_arrays(g.integers(0, 12, counts.sum()), g.integers(0, 5, counts.sum()), counts,
                                          g.integers(0, 3, 30), 12, 5, 3)
    batches = [torch.as_tensor(g.permutation(30)[:7]) for _ in range(3)]
    stacked = data.dense_cells(batches)
    assert stacked.shape == (3, 7, 12, 5) and stacked.sum() > 0
    events = data.events_cells(batches)
    assert torch.equal(events.dense(), stacked)
    for row in range(len(events.indptr) - 1):  # the kernels walk each row by step: sorted, repeats merged
        keys = (events.steps * 5 + events.units)[events.indptr[row]:events.indptr[row + 1]]
        assert bool((keys.diff() > 0).all())
    for k, batch in enumerate(batches):
        expected = torch.zeros(7, 12, 5)
        for row, j in enumerate(batch.tolist()):
            for e in range(int(data.indptr[j]), int(data.indptr[j + 1])):
                expected[row, data.times[e], data.units[e]] += 1
        assert torch.equal(stacked[k], expected)
        assert torch.equal(data.dense(batch), expected)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("recurrent, detach_reset", [(False, True), (False, False), (True, False)])
@pytest.mark.parametrize("use_kernel", [True, False])
@pytest.mark.parametrize("batch", [3, 90])
def test_layer_with_readout_and_spike_counts_equals_the_reference(device, recurrent, detach_reset, use_kernel, batch):
    """The last layer forms the readout potential U_out (of S W_out) and the spike counts itself; a loss on
    U_out, on the counts and on a sum of the spikes over time (a gradient that is the same at every step)
    gives the reference's values and gradients for X, W, V and W_out — with the kernels and on the path
    CUDA takes (``use_kernel=False``: GEMMs, the PyTorch time loop, the readout filter, a sum). The logits
    max_n U_out[n] the layer forms along are ``torch.max``'s values, and a loss on them its gradient (alone,
    and added to a loss on U_out). Batch 90: recurrent samples walked in lockstep groups by the backward kernel."""
    x, w, v, _, up_u = layer_inputs(cells=2, recurrent=recurrent, seed=7, device=device, batch=batch)
    g = torch.Generator().manual_seed(8)
    w_out = torch.randn(2, 6, 4, generator=g, dtype=torch.float64).to(device).requires_grad_(True)
    up_o = torch.randn(2, batch, 40, 4, generator=g, dtype=torch.float64).to(device)
    up_c = torch.randn(2, batch, 6, generator=g, dtype=torch.float64).to(device)
    surrogates = [Surrogate("superspike", 5.0), Surrogate("esser", 2.0, "asymptotic")]
    leaves = [t for t in (x, w, v, w_out) if t is not None]

    up_p = torch.randn(2, batch, 4, generator=g, dtype=torch.float64).to(device)

    def loss_of(spikes, membrane, readout, counts, logits):
        on_traces = ((readout * up_o).sum() + (counts.square() * up_c).sum() + (spikes.sum(dim=2) * up_c.flip(2)).sum()
                     + 0.1 * (membrane * up_u).sum())
        return [on_traces + (logits * up_p).sum(), (logits * up_p).sum()]

    def gradients(loss):
        return torch.autograd.grad(loss, leaves, retain_graph=True)

    spikes, membrane, readout, counts, logits, _ = lif_layer_cells(x, w, PARAMS, surrogates, v, detach_reset, False,
                                                                use_kernel=use_kernel, readout_weight=w_out)
    fast = [gradients(loss) for loss in loss_of(spikes, membrane, readout, counts, logits)]
    traces = [lif_layer_dynamics(x[0] @ w[k] if x.shape[0] == 1 else x[k] @ w[k], PARAMS, surrogates[k],
                                 None if v is None else v[k], detach_reset, False) for k in range(2)]
    ref_spikes = torch.stack([t.spikes for t in traces])
    ref_readout = torch.stack([leaky_readout_dynamics(f, PARAMS) for f in ref_spikes @ w_out.unsqueeze(1)])
    ref_logits = ref_readout.max(dim=2).values
    ref = [gradients(loss) for loss in loss_of(ref_spikes, torch.stack([t.membrane for t in traces]), ref_readout,
                                               ref_spikes.sum(dim=2), ref_logits)]
    assert ref_spikes.sum() > 20 and torch.equal(spikes.detach(), ref_spikes.detach())
    assert torch.equal(counts.detach(), ref_spikes.detach().sum(dim=2))
    torch.testing.assert_close(readout.detach(), ref_readout.detach(), rtol=1e-9, atol=1e-10)
    assert torch.equal(logits.detach(), readout.detach().max(dim=2).values)
    assert (ref_readout.detach().argmax(dim=2) > 2).any(), "the check needs logits reached after the first steps"
    for fast_grads, ref_grads in zip(fast, ref):
        for a, b in zip(fast_grads, ref_grads):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)
    assert fast[1][-1].abs().sum() > 0, "the logits' gradient reaches W_out"


@pytest.mark.parametrize("use_kernel", [True, False])
@pytest.mark.parametrize("recurrent, detach_reset", [(False, True), (False, False), (True, False)])
def test_layer_that_keeps_no_traces_gives_the_same_readout_counts_and_gradients(recurrent, detach_reset, use_kernel):
    """``keep_spikes``/``keep_membrane`` False (the last hidden layer in training, every layer in evaluation):
    S and U come back as None, and U_out, the counts and every gradient (X, W, V, W_out) are bit for bit those
    of the layer that keeps them, in float32 as in training; with no backward pass to come (no_grad) too."""
    x, w, v, _, _ = layer_inputs(cells=2, recurrent=recurrent, seed=11)
    x, w, v = [None if t is None else t.detach().float().requires_grad_(True) for t in (x, w, v)]
    w_out = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(12)).requires_grad_(True)
    up_o = torch.randn(2, 3, 40, 4, generator=torch.Generator().manual_seed(13))
    surrogates = [Surrogate("superspike", 5.0), Surrogate("sigmoid", 20.0, "asymptotic")]
    leaves = [t for t in (x, w, v, w_out) if t is not None]
    results = []
    for keep in (True, False):
        out = lif_layer_cells(x, w, PARAMS, surrogates, v, detach_reset, False, use_kernel=use_kernel,
                              readout_weight=w_out, keep_spikes=keep, keep_membrane=keep)
        assert (out.spikes is None, out.membrane is None) == (not keep, not keep)
        loss = (out.readout * up_o).sum() + out.peak.sum() + out.counts.square().sum()
        results.append((out.readout.detach(), out.counts.detach(), out.peak.detach(), *torch.autograd.grad(loss, leaves)))
        with torch.no_grad():
            quiet = lif_layer_cells(x, w, PARAMS, surrogates, v, detach_reset, False, use_kernel=use_kernel,
                                    readout_weight=w_out, keep_spikes=keep, keep_membrane=keep)
        assert torch.equal(quiet.readout, out.readout) and torch.equal(quiet.counts, out.counts)
        assert torch.equal(quiet.peak, out.peak)
    assert results[0][1].sum() > 20, "the check needs spikes"
    assert results[0][-1].abs().sum() > 0, "the check needs a readout weight gradient"
    for kept, not_kept in zip(*results):
        assert torch.equal(kept, not_kept)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_input_events_give_exactly_the_dense_inputs_results(dtype, recurrent, shared):
    """The kernels reading input events (repeated spikes merged into counts) give bit for bit the spikes,
    membrane, readout potential, spike counts and weight gradients of the dense input X."""
    from surrogate_study.data.spike_data import SpikeDataset

    g = np.random.default_rng(5)
    counts = g.integers(0, 30, size=40)
    data = SpikeDataset.from_event_arrays(g.integers(0, 50, counts.sum()), g.integers(0, 12, counts.sum()), counts,
                                          g.integers(0, 3, 40), 50, 12, 3)
    batches = [torch.as_tensor(g.permutation(40)[:7]) for _ in range(1 if shared else 3)]
    events, dense = data.events_cells(batches), data.dense_cells(batches).to(dtype)
    assert events.values.max() > 1  # some (step, unit) pairs carry two or more spikes
    torch.manual_seed(0)
    w = (torch.randn(3, 12, 9, dtype=dtype) * 2).requires_grad_(True)
    v = (torch.randn(3, 9, 9, dtype=dtype) * 0.5).requires_grad_(True) if recurrent else None
    w_out = torch.randn(3, 9, 3, dtype=dtype).requires_grad_(True)
    results = []
    for inputs in (events, dense):
        spikes, membrane, readout, counts, logits, _ = lif_layer_cells(
            inputs, w, PARAMS, [Surrogate("superspike", 10.0)], v, [False, True, False], [False, True, False],
            readout_weight=w_out)
        loss = ((spikes * torch.linspace(0, 1, 9, dtype=dtype)).sum() + (readout**2).sum() + 0.1 * membrane.sum()
                + counts.square().sum() + logits.sum())
        leaves = [t for t in (w, v, w_out) if t is not None]
        results.append((spikes, membrane, readout, counts, logits, *torch.autograd.grad(loss, leaves)))
    assert results[0][0].sum() > 50
    for from_events, from_dense in zip(*results):
        assert torch.equal(from_events, from_dense)


def test_vectorised_float32_exp_is_within_one_ulp_of_exp():
    """``steps.exp_nonpositive_row`` (the float32 Sigmoid′'s exp) against float64 exp on
    [EXP_CUTOFF, 0]; 0 below the cutoff (no denormals downstream), NaN stays NaN (divergence detection)."""
    import numba

    from surrogate_study.kernels import steps

    @numba.njit
    def run(z):
        out, bits = np.empty_like(z), np.empty(z.shape[0], np.int32)
        steps.exp_nonpositive_row(z, out, bits)
        return out

    cutoff = steps.EXP_CUTOFF
    z = np.concatenate([np.linspace(cutoff, 0.0, 400_001), [-1e-30, -0.5 * np.log(2.0)]]).astype(np.float32)
    exact = np.exp(z.astype(np.float64))
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(run(z) - exact) / ulp) <= 1.0
    special = run(np.array([np.nan, cutoff - 1e-3, -1000.0, -np.inf, 0.0], np.float32))
    assert np.isnan(special[0]) and list(special[1:]) == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_superspike_adjoint_step_in_one_pass_equals_the_two_pass_form(dtype):
    """``steps.adjoint_step`` forms SuperSpike's σ′ inside its update loop; over 100 steps the result is
    bit for bit that of σ′ first (``_surrogate_row``) and then the update, and the float64 formula
    gU = λ_m c + σ′ gS, gI = λ_s gI + (1 − λ_m) c, c = (1 − Θ(U − ϑ)) gU, σ′ = gain / (β|U − ϑ| + 1)²."""
    import numba

    from surrogate_study.kernels import options, steps

    @numba.njit(**options.COMPILE)
    def walk(one_pass, u, gs, gu, gi, beta, gain, lam_m, lam_s, leak):
        sigma, bits = np.empty_like(gu), np.empty(gu.shape[0], np.int32)
        theta, zero = u.dtype.type(1.0), u.dtype.type(0.0)
        for n in range(u.shape[0] - 1, -1, -1):
            if one_pass:
                steps.adjoint_step(0, u[n], theta, beta, gain, sigma, bits, gs[n], gu, gi, lam_m, lam_s, leak)
            else:
                steps.surrogate_row(0, u[n], theta, beta, gain, sigma, bits)
                for j in range(gu.shape[0]):
                    carried = zero if u[n, j] > theta else gu[j]
                    gu[j] = lam_m * carried + sigma[j] * gs[n, j]
                    gi[j] = lam_s * gi[j] + leak * carried

    rng = np.random.default_rng(3)
    u, gs = rng.normal(0.5, 0.6, (100, 100)).astype(dtype), rng.normal(0.0, 1.0, (100, 100)).astype(dtype)
    constants = [dtype(c) for c in (10.0, 1.0, np.exp(-0.1), np.exp(-0.2), 1.0 - np.exp(-0.1))]
    results = []
    for one_pass in (True, False):
        gu, gi = np.full(100, 0.1, dtype), np.full(100, 0.3, dtype)
        walk(one_pass, u, gs, gu, gi, *constants)
        results.append((gu, gi))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
    beta, gain, lam_m, lam_s, leak = (float(c) for c in constants)
    gu, gi = np.full(100, 0.1), np.full(100, 0.3)
    for n in range(99, -1, -1):
        x = u[n].astype(np.float64)
        carried = np.where(x > 1.0, 0.0, gu)
        gu, gi = lam_m * carried + gain / (beta * np.abs(x - 1.0) + 1.0) ** 2 * gs[n], lam_s * gi + leak * carried
    assert np.abs(gi).max() > 0.01 and np.mean(u > 1.0) > 0.1  # spikes reset some carried gradients
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(results[0][0], gu, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(results[0][1], gi, rtol=tolerance, atol=tolerance)


def test_logits_are_the_first_maximum_over_time_and_a_nan_wins_as_in_torch_max():
    """``steps.track_peak`` (the kernels' logits max_n U_out[n]) against ``torch.max`` over time:
    equal values with ties (the first step), and a NaN, once reached, is the maximum (divergence stays visible)."""
    import numba

    from surrogate_study.kernels import steps

    @numba.njit
    def run(potential):
        peak = np.empty(potential.shape[1], potential.dtype)
        step = np.empty(potential.shape[1], np.int64)
        for n in range(potential.shape[0]):
            steps.track_peak(potential[n], n, peak, step)
        return peak, step

    nan = np.nan
    potential = np.array([[0.0, 0.0, 1.0, -1.0, 0.0], [0.0, 2.0, nan, -2.0, 0.0], [0.0, 2.0, 3.0, -0.5, nan],
                          [nan, 1.0, 5.0, -0.5, 7.0]], dtype=np.float32)
    peak, step = run(potential)
    expected = torch.from_numpy(potential).max(dim=0)
    assert torch.equal(torch.from_numpy(peak).isnan(), expected.values.isnan())
    assert torch.equal(torch.from_numpy(peak).nan_to_num(), expected.values.nan_to_num())
    assert step.tolist() == expected.indices.tolist() == [3, 1, 1, 2, 2]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("detach_reset", [True, False])
@pytest.mark.parametrize("as_events", [True, False])
@pytest.mark.parametrize("shared", [False, True])
def test_membrane_recomputed_in_the_backward_gives_the_stored_membranes_gradients(dtype, detach_reset, as_events,
                                                                                  shared):
    """EventLIFLayer with ``recompute_membrane`` (its backward forms U, and I, again per sample from X and W): the
    gradients of W and W_out (and of dense X) are bit for bit those of the pass that stored U, for input events
    and dense inputs (one batch per cell, or one shared by the cells), with detached and differentiable reset,
    float32 and float64."""
    from surrogate_study.fused.cell_surrogates import CellSurrogates
    from surrogate_study.fused.layer import EventLIFLayer
    from surrogate_study.data.spike_data import SpikeDataset

    g = np.random.default_rng(21)
    counts = g.integers(5, 40, size=30)
    data = SpikeDataset.from_event_arrays(g.integers(0, 60, counts.sum()), g.integers(0, 15, counts.sum()), counts,
                                          g.integers(0, 3, 30), 60, 15, 3)
    batches = [torch.as_tensor(g.permutation(30)[:9]) for _ in range(1 if shared else 3)]
    inputs = data.events_cells(batches) if as_events else data.dense_cells(batches).to(dtype).requires_grad_(True)
    torch.manual_seed(3)
    w = (torch.randn(3, 15, 11, dtype=dtype) * 1.5 + 0.3).requires_grad_(True)
    w_out = torch.randn(3, 11, 4, dtype=dtype).requires_grad_(True)
    surrogates = [Surrogate("superspike", 10.0), Surrogate("sigmoid", 100.0, "asymptotic"), Surrogate("esser", 1.0)]
    leaves = [w, w_out] if as_events else [inputs, w, w_out]
    cell_surrogates = CellSurrogates(tuple(surrogates))
    events = inputs if as_events else None
    placeholder = w.new_empty((inputs.cells, 1, 1, 1)) if as_events else inputs
    results = []
    for recompute in (False, True):
        _, _, readout, counts, peak, *_ = EventLIFLayer.apply(placeholder, w, None, w_out, PARAMS, cell_surrogates,
                                                          (not detach_reset,) * 3, (False,) * 3, events,
                                                          not recompute, False, recompute)
        loss = (readout**2).sum() + peak.sum() + 0.1 * counts.square().sum()
        results.append((counts.detach(), *torch.autograd.grad(loss, leaves)))
    assert results[0][0].sum() > 100, "the check needs spikes"
    for stored, recomputed in zip(*results):
        assert stored.abs().sum() > 0
        assert torch.equal(stored, recomputed)
    # training passes take this path for layers on input events (their U is not kept), not for dense inputs
    out = lif_layer_cells(inputs, w, PARAMS, surrogates, None, detach_reset, False, readout_weight=w_out,
                          keep_spikes=False, keep_membrane=False)
    assert out.counts.grad_fn.recompute_membrane == as_events


def test_backward_of_a_layer_run_without_its_membrane_is_refused():
    """EventLIFLayer called directly with store_membrane=False keeps no U: its backward raises (also for a
    layer of one neuron, whose placeholder has the membrane's last size)."""
    from surrogate_study.fused.cell_surrogates import CellSurrogates
    from surrogate_study.fused.layer import EventLIFLayer

    x = (torch.rand(1, 2, 10, 3, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    w = torch.full((1, 3, 1), 2.0, requires_grad=True)
    w_out = torch.ones(1, 1, 2, requires_grad=True)
    outputs = EventLIFLayer.apply(x, w, None, w_out, PARAMS, CellSurrogates((Surrogate("superspike", 10.0),)),
                                  (False,), (False,), None, False, True)
    assert outputs[1].numel() == 0  # no membrane came back
    with pytest.raises(RuntimeError, match="store_membrane=False"):
        outputs[4].sum().backward()
    with pytest.raises(ValueError, match="recompute_membrane needs store_membrane=False"):
        EventLIFLayer.apply(x, w, None, w_out, PARAMS, CellSurrogates((Surrogate("superspike", 10.0),)),
                            (False,), (False,), None, True, True, True)


def test_layers_off_the_kernel_path_hand_dense_spikes_to_the_next_layer_without_traces(monkeypatch):
    """Off the compiled kernels (CUDA, surrogate shapes without a kernel code) a layer asked for events returns S:
    a two-layer network run without traces (training) gives the logits of the run with traces."""
    import surrogate_study.fused.layer as fused_lif
    import surrogate_study.model.network as network

    monkeypatch.setattr(fused_lif, "has_kernel", lambda surrogates: False)
    net = network.SpikingNetwork(15, [11, 13], 4, PARAMS, [Surrogate("superspike", 10.0)], False, detach_reset=True,
                                 detach_recurrent=True, generators=[torch.Generator().manual_seed(0)], init_gain=10.0)
    inputs = (torch.rand(1, 5, 30, 15, generator=torch.Generator().manual_seed(1)) < 0.1).float()
    with_traces, without = net(inputs, keep_traces=True), net(inputs, keep_traces=False)
    assert with_traces.hidden[0].counts.sum() > 0, "the check needs spikes in the first layer"
    assert torch.equal(with_traces.logits, without.logits)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("recurrent, detach_recurrent", [(False, True), (True, True), (True, False)])
def test_hidden_spikes_handed_on_as_events_give_exactly_the_results_of_dense_spikes(dtype, recurrent,
                                                                                   detach_recurrent, monkeypatch):
    """A network run without traces (training, evaluation) hands each hidden layer's spikes to the next as
    events (LayerEvents: no S [K, B, T, N]; feed-forward layers then recompute U in the backward pass): the
    logits, readout, spike counts and the gradients of every weight equal bit for bit those of the run that
    keeps S and U (three hidden layers, three cells with different surrogates, float32 and float64)."""
    import surrogate_study.model.network as network
    from surrogate_study.fused.layer import LayerEvents
    from surrogate_study.data.spike_data import SpikeDataset

    g = np.random.default_rng(8)
    counts = g.integers(5, 40, size=30)
    data = SpikeDataset.from_event_arrays(g.integers(0, 60, counts.sum()), g.integers(0, 15, counts.sum()), counts,
                                          g.integers(0, 3, 30), 60, 15, 3)
    inputs = data.events_cells([torch.as_tensor(g.permutation(30)[:9])])
    surrogates = [Surrogate("superspike", 10.0), Surrogate("sigmoid", 100.0, "asymptotic"), Surrogate("esser", 1.0)]
    generators = [torch.Generator().manual_seed(k) for k in range(3)]
    net = network.SpikingNetwork(15, [11, 13, 12], 4, PARAMS, surrogates, recurrent, detach_reset=[True, False, True],
                                 detach_recurrent=detach_recurrent, generators=generators, init_gain=10.0).to(dtype)
    layer_inputs: list[type] = []  # what each layer call received
    layer = network.lif_layer_cells

    def recorded_layer(inputs, *args, **kwargs):
        layer_inputs.append(type(inputs))
        return layer(inputs, *args, **kwargs)

    monkeypatch.setattr(network, "lif_layer_cells", recorded_layer)
    results = []
    for keep_traces in (True, False):
        output = net(inputs, keep_traces=keep_traces)
        counts = [trace.counts for trace in output.hidden]
        loss = (output.logits.square().sum() + 0.01 * (output.readout**2).sum()
                + sum(0.1 * (c - 2).square().sum() for c in counts))
        results.append((output.logits, output.readout, *counts, *torch.autograd.grad(loss, list(net.parameters()))))
    assert layer_inputs[3:] == [type(inputs), LayerEvents, LayerEvents]  # the run without traces
    assert layer_inputs[1:3] == [torch.Tensor, torch.Tensor]
    kept, handed = results
    assert all(c.sum() > 50 for c in kept[2:5]), "the check needs spikes in every hidden layer"
    for a, b in zip(kept, handed):
        assert a.abs().sum() > 0
        assert torch.equal(a, b)


@pytest.mark.parametrize("recurrent", [False, True])
def test_the_weight_gradient_does_not_depend_on_what_its_chunk_buffers_held(monkeypatch, recurrent):
    """The kernel zeroes the per-chunk sums of ∂L/∂W itself (they are allocated uninitialised): buffers full of
    NaN give the same gradients, bit for bit, as buffers of zeros."""
    x, w, v, up_s, up_u = layer_inputs(cells=2, recurrent=recurrent, seed=3)
    surrogates, resets, detach = [Surrogate("superspike", 5.0)] * 2, [True, False], [False, True]
    _, clean = grads(fused, [x, w, v], up_s, up_u, surrogates, resets, detach)
    allocate = fused_layer.weight_gradient_chunks
    monkeypatch.setattr(fused_layer, "weight_gradient_chunks",
                        lambda *args: allocate(*args).fill_(float("nan")))
    _, dirty = grads(fused, [x, w, v], up_s, up_u, surrogates, resets, detach)
    assert clean[1].abs().sum() > 0, "the check needs a non-zero weight gradient"
    for a, b in zip(dirty, clean):
        if b is not None:
            assert torch.equal(a, b)
