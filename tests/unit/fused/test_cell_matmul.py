"""CellMatmul: the same values and gradients as autograd's batched matmul, in both GEMM layouts."""

import pytest
import torch

from surrogate_study.fused.cell_matmul import cell_matmul, weight_gradient


@pytest.mark.parametrize("n_in, n_out", [(20, 128), (128, 10), (7, 7)])
@pytest.mark.parametrize("shared_input", [False, True])
def test_values_and_gradients_equal_autograd_bmm(n_in, n_out, shared_input):
    g = torch.Generator().manual_seed(n_in * n_out)
    cells, rows = 3, 50
    inputs = torch.randn(1 if shared_input else cells, rows, n_in, generator=g, dtype=torch.float64)
    weight = torch.randn(cells, n_in, n_out, generator=g, dtype=torch.float64)
    upstream = torch.randn(cells, rows, n_out, generator=g, dtype=torch.float64)

    a, w = inputs.clone().requires_grad_(), weight.clone().requires_grad_()
    out = cell_matmul(a, w)
    (out * upstream).sum().backward()
    b, v = inputs.clone().requires_grad_(), weight.clone().requires_grad_()
    expected = torch.matmul(b, v)
    (expected * upstream).sum().backward()

    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(w.grad, v.grad)
    torch.testing.assert_close(a.grad, b.grad)
    assert a.grad.shape == inputs.shape


def test_weight_gradient_transposes_the_narrower_operand_in_both_branches():
    g = torch.Generator().manual_seed(1)
    for n_in, n_out in [(4, 9), (9, 4)]:
        s, grad = torch.randn(2, 30, n_in, generator=g), torch.randn(2, 30, n_out, generator=g)
        expected = torch.einsum("kri,kro->kio", s, grad)
        torch.testing.assert_close(weight_gradient(s, grad), expected, rtol=1e-5, atol=1e-5)


def test_no_input_gradient_is_formed_for_data():
    weight = torch.randn(2, 5, 3, requires_grad=True)
    data = torch.randn(2, 10, 5)
    cell_matmul(data, weight).sum().backward()
    assert data.grad is None and weight.grad.shape == (2, 5, 3)
