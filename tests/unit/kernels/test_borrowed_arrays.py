"""Borrowed arrays in compiled kernels: views without an owner, and writes that numba must not drop."""

from __future__ import annotations

import numba
import numpy as np
from numba.core import cgutils
from numba.extending import intrinsic

from surrogate_study.kernels.borrowed_arrays import borrowed, keep_alive


@intrinsic
def _owner_address(typingctx, array):
    """The address of ``array``'s owner (its ``meminfo``), 0 when it has none (test helper)."""

    def codegen(context, builder, signature, args):
        view = context.make_array(array)(context, builder, value=args[0])
        return builder.ptrtoint(view.meminfo, cgutils.intp_t)

    return numba.types.intp(array), codegen


@numba.njit
def _owners_of_row_views(values):
    plain_row = values[1]
    borrowed_row = borrowed(values)[1]
    return _owner_address(plain_row), _owner_address(borrowed_row)


def test_views_of_a_borrowed_array_have_no_owner_while_plain_views_do():
    plain, lent = _owners_of_row_views(np.ones((3, 4)))
    assert plain != 0
    assert lent == 0


@numba.njit(parallel=True)
def _write_task_numbers(out):
    out = borrowed(out)
    for task in numba.prange(out.shape[0]):
        out[task] = 10 * task


def test_writes_through_a_borrowed_output_in_a_parallel_loop_reach_the_callers_array():
    # Without the alias registration numba's dead-code elimination dropped these writes (out stayed 0).
    out = np.zeros(7, dtype=np.int64)
    _write_task_numbers(out)
    np.testing.assert_array_equal(out, 10 * np.arange(7))


@numba.njit(parallel=True)
def _sums_in_task_scratch(values, out):
    values, out = borrowed(values), borrowed(out)
    for task in numba.prange(values.shape[0]):
        scratch_owned = np.zeros(values.shape[1])
        scratch = borrowed(scratch_owned)
        for j in range(values.shape[1]):
            scratch[j] += values[task, j]
        total = 0.0
        for j in range(values.shape[1]):
            total += scratch[j]
        out[task] = total
        keep_alive(scratch_owned)


def test_scratch_allocated_in_a_task_and_borrowed_is_fresh_in_every_task():
    # If the allocation were hoisted out of the loop (one buffer for all tasks), the sums would accumulate.
    values = np.arange(20.0).reshape(5, 4)
    out = np.zeros(5)
    _sums_in_task_scratch(values, out)
    np.testing.assert_array_equal(out, values.sum(axis=1))
