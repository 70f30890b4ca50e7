"""Compiled CPU kernels (numba) of the event-driven LIF layers, their BPTT backward and the leaky readout.

By role: :mod:`.options` (compile options, shape codes), :mod:`.runtime` (threading layer, BLAS threads,
small-GEMM choice; applied by an explicit call), :mod:`.steps` (inline per-step helpers),
:mod:`.layer_forward`, :mod:`.layer_backward`, :mod:`.stack_backward` (the parallel kernels),
:mod:`.readout`, :mod:`.events`, and the low-level pieces :mod:`.tile_product` (register-tiled small
products), :mod:`.borrowed_arrays` and :mod:`.prefetch` (LLVM intrinsics). Importing this package compiles
and configures nothing.
"""
