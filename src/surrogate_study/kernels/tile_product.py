"""A register-tiled matrix product for compiled kernels (numba), for CPUs whose BLAS has no small-matrix path.

:func:`matrix_product` ``(a, b, out)`` computes out = a b for ``a`` [M, K], ``b`` [K, N′] and ``out`` [M, N]
(N ≤ N′; 2-D C-contiguous arrays of one float dtype; ``b``'s columns past N are read, not used: pad them, with
zeros, to :func:`padded_columns` N′):

    out[i, j] = Σ_{k = 0 … K−1} a[i, k] · b[k, j],

each sum taken in the order k = 0, 1, …, K − 1 by fused multiply-adds from 0 (one rounding per term). Every
entry gets the same number whatever tile computes it or how many rows the product has: a row of a lockstep
group equals that row multiplied alone.

The product is cut into tiles of ``TILE_ROWS`` rows × two vectors of columns (16 float32 or 8 float64
columns; the last columns, when one vector covers them, a tile of one vector), the form of a BLAS
micro-kernel: the tile's 8 sums stay in vector registers over the whole k loop, which per k loads two vectors
of b[k], broadcasts a[i, k] of the four rows and issues 8 fused multiply-adds. Unlike BLAS it reads ``a`` and
``b`` where they lie (OpenBLAS packs both operands into buffers first: for a [100, 100] × [100, 100] product
on its Haswell kernels, the packing took a fifth as long as the multiply). Tiles walk the rows inside a
column block, so the block's [K, 16] panel of ``b`` stays in the L1 cache. Four rows: [T = 100, N] and
[LANES = 8, N] split into whole tiles. Measured in ``benchmarks/small_gemm.py``.

The tiles are LLVM IR built by numba intrinsics (``llvm.fma`` on vectors of 32 bytes, AVX; a CPU without
FMA gets the same numbers from a slower library call).
"""

from __future__ import annotations

from typing import Callable

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Rows of ``out`` per tile.
TILE_ROWS = 4
#: Bytes of one vector register of a tile (AVX: 32).
VECTOR_BYTES = 32


def padded_columns(columns: int, itemsize: int) -> int:
    """``columns`` rounded up to whole vectors of entries of ``itemsize`` bytes: the columns a right-hand matrix
    ``b`` needs (its rows are read a vector at a time)."""
    width = VECTOR_BYTES // itemsize
    return columns + (-columns % width)


def _is_matrix(array) -> bool:
    return (isinstance(array, types.Array) and array.ndim == 2 and array.layout == "C"
            and isinstance(array.dtype, types.Float))


def _tile_intrinsic(vectors: int) -> Callable:
    """An intrinsic ``tile(a, b, out, row, rows, col)``: out[row + i, col + j] = Σ_k a[row + i, k] b[k, col + j]
    for i < rows ≤ TILE_ROWS and j < ``vectors`` vectors of columns, written where col + j < N (out's columns)."""

    @intrinsic
    def tile(typingctx, a, b, out, row, rows, col):
        if not (_is_matrix(a) and _is_matrix(b) and _is_matrix(out) and a.dtype == b.dtype == out.dtype
                and all(isinstance(x, types.Integer) for x in (row, rows, col))):
            return None

        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            a_array, b_array, out_array = (context.make_array(t)(context, builder, v)
                                           for t, v in zip(signature.args[:3], args[:3]))
            first_row, row_count, first_col = (context.cast(builder, v, t, types.intp)
                                               for v, t in zip(args[3:], signature.args[3:]))
            element = context.get_value_type(signature.args[0].dtype)
            itemsize = context.get_abi_sizeof(element)
            width = VECTOR_BYTES // itemsize
            vector = ir.VectorType(element, width)
            inner = cgutils.unpack_tuple(builder, a_array.shape, 2)[1]  # K, also a's row stride (C order)
            b_stride = cgutils.unpack_tuple(builder, b_array.shape, 2)[1]
            columns = cgutils.unpack_tuple(builder, out_array.shape, 2)[1]
            i32 = ir.IntType(32)
            fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                                 f"llvm.fma.v{width}f{8 * itemsize}")
            broadcast = ir.Constant(ir.VectorType(i32, width), [0] * width)

            def splat(value):
                one = builder.insert_element(ir.Constant(vector, ir.Undefined), value, i32(0))
                return builder.shuffle_vector(one, ir.Constant(vector, ir.Undefined), broadcast)

            # rows past ``rows`` read the tile's last row (valid memory); their sums are not stored
            last_row = builder.sub(builder.add(first_row, row_count), intp(1))
            a_rows = []
            for i in range(TILE_ROWS):
                r = builder.add(first_row, intp(i))
                r = builder.select(builder.icmp_signed("<", r, last_row), r, last_row)
                a_rows.append(builder.gep(a_array.data, [builder.mul(r, inner)]))
            zero = ir.Constant(vector, [ir.Constant(element, 0.0)] * width)
            sums = [[cgutils.alloca_once_value(builder, zero) for _ in range(vectors)] for _ in range(TILE_ROWS)]
            with cgutils.for_range(builder, inner) as loop:  # allocas in the entry block: LLVM keeps them in registers
                k = loop.index
                b_row = builder.gep(b_array.data, [builder.add(builder.mul(k, b_stride), first_col)])
                b_vectors = [builder.load(builder.bitcast(builder.gep(b_row, [intp(v * width)]), vector.as_pointer()),
                                          align=itemsize) for v in range(vectors)]
                for i in range(TILE_ROWS):
                    a_value = splat(builder.load(builder.gep(a_rows[i], [k])))
                    for v in range(vectors):
                        builder.store(builder.call(fma, [a_value, b_vectors[v], builder.load(sums[i][v])]), sums[i][v])
            whole = builder.icmp_signed("<=", builder.add(first_col, intp(vectors * width)), columns)
            for i in range(TILE_ROWS):
                with builder.if_then(builder.icmp_signed("<", intp(i), row_count), likely=True):
                    out_row = builder.gep(out_array.data, [builder.add(
                        builder.mul(builder.add(first_row, intp(i)), columns), first_col)])
                    with builder.if_else(whole, likely=True) as (all_columns, last_columns):
                        with all_columns:
                            for v in range(vectors):
                                pointer = builder.bitcast(builder.gep(out_row, [intp(v * width)]), vector.as_pointer())
                                builder.store(builder.load(sums[i][v]), pointer, align=itemsize)
                        with last_columns:  # entry by entry, those inside out only
                            for v in range(vectors):
                                values = builder.load(sums[i][v])
                                for lane in range(width):
                                    j = v * width + lane
                                    inside = builder.icmp_signed("<", builder.add(first_col, intp(j)), columns)
                                    with builder.if_then(inside):
                                        builder.store(builder.extract_element(values, i32(lane)),
                                                      builder.gep(out_row, [intp(j)]))
            return context.get_dummy_value()

        return types.void(a, b, out, row, rows, col), codegen

    return tile


#: Tiles of TILE_ROWS rows × two vectors and × one vector of columns.
tile_two_vectors = _tile_intrinsic(2)
tile_one_vector = _tile_intrinsic(1)


@numba.njit(inline="always", cache=True)
def matrix_product(a, b, out) -> None:
    """out = a b (see the module): column blocks of two vectors (the last, when one vector covers it, of one),
    each walked down the rows in tiles of TILE_ROWS."""
    rows, columns = out.shape[0], out.shape[1]
    width = VECTOR_BYTES // out.itemsize
    col = 0
    while col < columns:
        if columns - col <= width:
            for row in range(0, rows, TILE_ROWS):
                tile_one_vector(a, b, out, row, min(TILE_ROWS, rows - row), col)
        else:
            for row in range(0, rows, TILE_ROWS):
                tile_two_vectors(a, b, out, row, min(TILE_ROWS, rows - row), col)
        col += 2 * width
