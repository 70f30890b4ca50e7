"""Runtime settings of the compiled kernels, applied by an explicit call (:func:`configure_runtime`), never at import.

- numba's threading layer: the default OpenMP pool keeps its workers spinning after every parallel kernel, and
  they then compete with PyTorch's own threads for the cores (measured: loss and Adam 5–10× slower between the
  kernels, backward 2×). The ``workqueue`` pool's workers sleep. It must be chosen before the first parallel
  kernel runs.
- SciPy's OpenBLAS (which numba's ``np.dot`` calls inside the kernels' parallel tasks: the inputs' gradient,
  one [T, N] × [N, P] product per sample) runs on one thread: the kernels already run one task per thread, and
  OpenBLAS would otherwise start threads of its own for products above its threshold (T·N·P > 262 144) in
  every task. torch uses MKL and is not affected.
- The kernels run on as many threads as torch (:func:`match_torch_threads`, before every kernel call).

The entry points (:func:`surrogate_study.training.trainer.train_cells`, the CLI, the benchmarks) call
:func:`configure_runtime`; :func:`match_torch_threads` calls it too (once per process, a flag check after), so a
layer used directly from Python gets the same settings before its first kernel.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import torch

_CONFIGURED = False


@lru_cache(maxsize=1)
def scipy_blas():
    """SciPy's OpenBLAS, which numba's ``np.dot`` calls, and numpy's bundled one (same prefix), as a threadpoolctl
    selection (loaded first)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library that numba's np.dot calls)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(prefix="libscipy_openblas")


def configure_runtime() -> None:
    """Choose numba's ``workqueue`` threading layer (unless the user set one) and limit SciPy's BLAS to one
    thread. Idempotent; call it before the first kernel runs."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"
    scipy_blas().limit(limits=1)
    _CONFIGURED = True


def match_torch_threads() -> None:
    """Run the compiled kernels on as many threads as torch (the job's ``threads``); configures the runtime first."""
    configure_runtime()
    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


@lru_cache(maxsize=1)
def small_gemm_in_blas() -> bool:
    """Whether the kernels take ``np.dot`` (BLAS) for their small products (the recurrent term's [lanes, N] × [N, N]
    per step, ∂L/∂X's [T, N] × [N, P] per sample), else :func:`~surrogate_study.kernels.tile_product.matrix_product`.

    True where the BLAS that numba's ``np.dot`` calls has a small-matrix GEMM path for this CPU: OpenBLAS's
    ``sgemm_small_kernel`` exists for its SkylakeX-family cores (AVX-512) only. Elsewhere (e.g. AMD Zen, served
    by the Haswell kernels) every product first packs both operands (``sgemm_itcopy``/``oncopy``), and the tiled
    product is faster (measured on an AMD EPYC, Zen 3, ``benchmarks/small_gemm.py``: [8, 100] × [100, 100] in
    2.0–2.1 against 8.1–8.5 µs, [100, 100] × [100, 100] in 25.3–26.4 against 30.2–31.0 µs). Read once from the
    library's reported core (threadpoolctl), so the choice, and with it the float32 sums, is fixed per machine."""
    cores = {str(info.get("architecture", "")).lower() for info in scipy_blas().info()}
    return bool(cores) and cores <= {"skylakex", "cooperlake", "sapphirerapids"}
