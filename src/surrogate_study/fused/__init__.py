"""Autograd Functions over the compiled kernels: one LIF layer (:mod:`.layer`), a feed-forward stack walked per
sample (:mod:`.stack`), the leaky readout (:mod:`.readout`), the PyTorch time loop for CUDA and plug-in shapes
(:mod:`.time_loop`), the per-cell weight product (:mod:`.cell_matmul`) and the cells' surrogates
(:mod:`.cell_surrogates`)."""
