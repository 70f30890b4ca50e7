"""Arrays without an owner inside compiled kernels: views that cost no reference counting.

In numba every array value carries a pointer to its owner (a ``MemInfo``), and every view made from it
(``a[i]``, ``a[k, b, n]``: the rows the kernels walk) increments the owner's reference count when it is
made and decrements it when it is dropped, each an atomic ``lock inc``/``lock dec`` on one cache line. The
layer kernels make several such views per sample and time step, and per input event or spike; profiled
with ``perf`` on captured training calls (n_h = 1, K = 8), ~25 % of the backward kernel's samples were in
these two instructions, though no view outlives the call that makes it.

:func:`borrowed` returns the same array (data, shape, strides) with no owner; views of it carry none
either, and numba's reference-counting calls return at once on a null owner. The caller must keep the
owner alive while the borrowed array is used: a kernel's arguments are held by its Python caller for the
whole call; an array allocated inside a kernel is kept by naming it in :func:`keep_alive` after its last
borrowed use (numba releases a variable after its last use in the code).

numba's dead-code elimination and loop hoisting in ``prange`` loops decide from an alias analysis which
writes reach memory that outlives the loop; it does not know what an intrinsic returns, and a borrowed
argument that is only written (an output) then looked like a local array whose writes could be dropped
(they were: tested). :func:`borrowed` is therefore registered as returning an alias of its argument
(``numba.core.ir_utils.alias_func_extensions``, the extension point numba provides for this)."""

from __future__ import annotations

import numba
from numba.core import cgutils, ir_utils
from numba.extending import intrinsic


@intrinsic
def borrowed(typingctx, array):
    """``array`` with a null owner (``meminfo``) and no parent object; same type, data, shape, strides."""

    def codegen(context, builder, signature, args):
        view = context.make_array(array)(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return array(array), codegen


def _alias_of_first_argument(lhs, args, alias_map, arg_aliases) -> None:
    """numba alias analysis: the result of ``borrowed(a)`` is ``a``."""
    ir_utils._add_alias(lhs, args[0].name, alias_map, arg_aliases)


ir_utils.alias_func_extensions[(borrowed._name, borrowed.__module__)] = _alias_of_first_argument


@numba.njit(inline="never")
def keep_alive(*arrays) -> None:
    """Nothing; naming arrays here keeps their owners alive up to this point of the compiled code."""
