"""A software prefetch for compiled kernels (numba): ``prefetch(array, index)`` asks the CPU to bring the cache
line that holds ``array[index]`` (a 1-D C-contiguous array) into its caches, without waiting for it and without
any effect on the program's values (LLVM's ``llvm.prefetch``: read, high locality, data cache). An index out of
range prefetches an address outside the array, which is harmless (a prefetch never faults).

Used where a kernel walks several samples' rows backwards in time in lockstep, a pattern the hardware
prefetcher of some CPUs does not follow (measured on an AMD EPYC: the loads of the stored membrane rows were the
hottest instruction of the recurrent backward)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Prefetch the cache line of ``array[index]`` for reading (no bounds check; no value)."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        view = context.make_array(signature.args[0])(context, builder, args[0])
        offset = context.cast(builder, args[1], signature.args[1], types.intp)
        address = builder.gep(view.data, [offset])
        byte_pointer = builder.bitcast(address, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32]), "llvm.prefetch.p0i8")
        builder.call(function, [byte_pointer, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
