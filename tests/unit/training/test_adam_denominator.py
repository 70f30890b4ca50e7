"""Adam's denominator with the second moments clamped at the smallest normal float before the root."""

import pytest
import torch

from surrogate_study.training.optim import SMALLEST_NORMAL, CellAdam, adam_denominator


def plain_denominator(v: torch.Tensor, bias_correction2_sqrt: float, eps: float) -> torch.Tensor:
    return (v.sqrt() / bias_correction2_sqrt).add_(eps)


@pytest.mark.parametrize("step", [1, 2, 10, 1000, 100000])
@pytest.mark.parametrize("dtype, eps", [(torch.float32, 1e-8), (torch.float64, 1e-8), (torch.float32, 1e-14)])
def test_the_clamped_denominator_is_the_plain_one_bit_for_bit(step, dtype, eps):
    """Also where the clamp would change it (float64, or a tiny ε): it is then not applied."""
    g = torch.Generator().manual_seed(step)
    n = 20000
    v = torch.rand(n, generator=g) * 10.0 ** torch.randint(-48, 30, (n,), generator=g).float()
    v[torch.rand(n, generator=g) < 0.4] = 0.0  # inputs that never fired
    special = torch.tensor([0.0, 1.4e-45, SMALLEST_NORMAL / 2, SMALLEST_NORMAL, 3e38, float("inf"), float("nan")])
    v = torch.cat([v, special]).to(dtype)
    assert ((v > 0) & (v < SMALLEST_NORMAL)).sum() > 10, "the check needs subnormal second moments"
    bias_correction2_sqrt = (1 - 0.999**step) ** 0.5
    fast = adam_denominator(v, bias_correction2_sqrt, eps)
    plain = plain_denominator(v, bias_correction2_sqrt, eps)
    bits = torch.int32 if dtype == torch.float32 else torch.int64
    assert torch.equal(fast.view(bits), plain.view(bits))


def test_the_clamp_is_what_would_change_a_denominator_with_a_tiny_eps():
    """The guard is needed: with ε = 1e−14 the clamped root would move the denominator of a zero moment."""
    v = torch.zeros(4)
    clamped = (v.clamp_min(SMALLEST_NORMAL).sqrt_() / (1 - 0.999) ** 0.5).add_(1e-14)
    assert not torch.equal(clamped, plain_denominator(v, (1 - 0.999) ** 0.5, 1e-14))


def test_cell_adam_steps_equal_torch_adam_bit_for_bit_with_silent_inputs():
    """Gradients with rows that stay zero (inputs that never fire) and rows that become tiny: CellAdam's weights
    are torch.optim.Adam's, bit for bit, step after step."""
    g = torch.Generator().manual_seed(0)
    weights = torch.randn(2, 30, 8, generator=g)
    stacked = weights.clone().requires_grad_(True)
    singles = [weights[k].clone().requires_grad_(True) for k in range(2)]
    lrs = [1e-3, 5e-2]
    cell_adam = CellAdam([stacked], lrs)
    torch_adams = [torch.optim.Adam([p], lr=lr) for p, lr in zip(singles, lrs)]
    for step in range(40):
        grad = torch.randn(2, 30, 8, generator=g) * (10.0 ** -(step % 25))
        grad[:, :10] = 0.0
        stacked.grad = grad.clone()
        cell_adam.step()
        for k, (p, opt) in enumerate(zip(singles, torch_adams)):
            p.grad = grad[k].clone()
            opt.step()
    assert (cell_adam.exp_avg_sq[0] == 0).sum() >= 2 * 10 * 8
    for k in range(2):
        assert torch.equal(stacked[k].detach(), singles[k].detach())
