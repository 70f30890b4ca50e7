"""The register-tiled product of the kernels (``tile_product.matrix_product``): the product, row by row the
same sums whatever the tiling, only ``out``'s columns written."""

import numba
import numpy as np
import pytest

from surrogate_study.kernels.tile_product import TILE_ROWS, VECTOR_BYTES, matrix_product, padded_columns


@numba.njit
def product(a, b, out):
    matrix_product(a, b, out)


def operands(rows: int, inner: int, columns: int, dtype, seed: int):
    """a [rows, inner], b [inner, columns′] (columns′: whole vectors, the padding random, not zero, so that a
    product that used it would show) and b's first ``columns`` columns."""
    g = np.random.default_rng(seed)
    width = VECTOR_BYTES // np.dtype(dtype).itemsize
    padded = columns + (-columns % width)
    a = g.standard_normal((rows, inner)).astype(dtype)
    b = g.standard_normal((inner, padded)).astype(dtype)
    return a, b, b[:, :columns]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, inner, columns", [(100, 100, 100), (8, 100, 104), (7, 33, 37), (3, 1, 5),
                                                  (1, 2, 16), (13, 17, 8), (5, 100, 24), (6, 0, 9)])
def test_matrix_product_is_the_product_and_writes_only_out(dtype, rows, inner, columns):
    a, b, used = operands(rows, inner, columns, dtype, seed=rows * 1000 + inner * 10 + columns)
    memory = np.full(rows * columns + 64, np.nan, dtype=dtype)  # out, then guard entries after its end
    out = memory[: rows * columns].reshape(rows, columns)
    product(a, b, out)
    exact = a.astype(np.float64) @ used.astype(np.float64)  # a write past a row's end would clobber the next row
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, exact, rtol=tolerance, atol=tolerance * max(1.0, np.abs(exact).max()))
    assert np.isnan(memory[rows * columns :]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_row_is_summed_as_alone_in_the_order_of_k(dtype):
    """A row's sums do not depend on the tile or the number of rows: each equals the row multiplied alone, and
    the float32 sum Σ_k taken k = 0, 1, … by fused multiply-adds (checked against that sum in float64 with one
    rounding per step for the first columns)."""
    a, b, used = operands(11, 50, 37, dtype, seed=7)
    out = np.empty((11, 37), dtype=dtype)
    product(a, b, out)
    for row in range(11):
        alone = np.empty((1, 37), dtype=dtype)
        product(a[row : row + 1].copy(), b, alone)
        assert np.array_equal(alone[0], out[row])
    if dtype == np.float32:  # fma(x, y, s) in float32 = round(x·y + s) computed exactly in float64
        for row, column in [(0, 0), (5, 17), (10, 36)]:
            s = np.float32(0.0)
            for k in range(50):
                s = np.float32(np.float64(a[row, k]) * np.float64(b[k, column]) + np.float64(s))
            assert out[row, column] == s


def test_tile_rows_split_the_shapes_of_the_kernels():
    """The kernels' products, [T = 100, N] per sample and [LANES = 8, N] per step, are whole tiles of rows."""
    from surrogate_study.kernels.options import LANES

    assert 100 % TILE_ROWS == 0 and LANES % TILE_ROWS == 0


def test_padded_columns_are_the_fewest_whole_vectors():
    """32-byte vectors: 8 float32 or 4 float64 entries."""
    assert [padded_columns(n, 4) for n in (1, 8, 100, 104, 105)] == [8, 8, 104, 104, 112]
    assert [padded_columns(n, 8) for n in (1, 4, 7, 100)] == [4, 4, 8, 100]
