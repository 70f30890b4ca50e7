"""The recurrent backward's per-step product gI[n+1] Vᵀ of a lockstep group, [LANES, N] × [N, N′], three ways.

Prints one JSON line: microseconds per product (best of ``--rounds`` rounds of ``--reps`` products, numba, one
thread) for ``np.dot`` inside numba (SciPy's OpenBLAS, what the kernel calls where ``SMALL_GEMM_IN_BLAS``),
``_rows_times_matrix`` (the kernel's loop elsewhere) on Vᵀ with N′ = N and padded to whole vectors, and one
row at a time (``_add_weighted_rows``), with the OpenBLAS core the library reports and each way's ratio to
``np.dot``; and, for the ∂L/∂X of layers above the first, per-sample [T, N] × [N, N] products against one
product of LANES samples stacked (per sample, and whether their float32 sums are bit-equal).

    .venv/bin/python benchmarks/small_gemm.py
"""

from __future__ import annotations

import argparse
import json
import time

import numba
import numpy as np

from surrogate_study import lif_kernels


@numba.njit
def by_blas(a, b, out, reps):
    for _ in range(reps):
        np.dot(a, b, out)


@numba.njit
def by_rows_times_matrix(a, b, out, reps):
    for _ in range(reps):
        lif_kernels._rows_times_matrix(a, a.shape[0], b, out)


@numba.njit
def by_single_rows(a, b, out, reps):
    for _ in range(reps):
        for lane in range(a.shape[0]):
            out[lane, :] = 0
            lif_kernels._add_weighted_rows(out[lane], a[lane], b)


@numba.njit
def per_sample_products(g, w_t, out, reps):
    for _ in range(reps):
        for sample in range(g.shape[0]):
            np.dot(g[sample], w_t, out[sample])


@numba.njit
def one_stacked_product(g, w_t, out, reps):
    for _ in range(reps):
        np.dot(g, w_t, out)


def best_us(function, a, b, out, reps: int, rounds: int) -> tuple[float, np.ndarray]:
    """Best microseconds per product over ``rounds`` rounds of ``reps``, and the product itself."""
    function(a, b, out, 1)  # compile
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function(a, b, out, reps)
        best = min(best, (time.perf_counter() - start) / reps)
    return best * 1e6, out.copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--reps", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from threadpoolctl import threadpool_info

    n, lanes = args.neurons, lif_kernels.LANES
    padded = n + (-n % lif_kernels.VECTOR_FLOATS)
    g = np.random.default_rng(0)
    a = g.standard_normal((lanes, n)).astype(np.float32)
    b = g.standard_normal((n, n)).astype(np.float32)
    b_padded = np.zeros((n, padded), dtype=np.float32)
    b_padded[:, :n] = b
    results = {
        "np.dot": best_us(by_blas, a, b, np.empty((lanes, n), np.float32), args.reps, args.rounds),
        "rows_times_matrix": best_us(by_rows_times_matrix, a, b, np.empty((lanes, n), np.float32), args.reps,
                                     args.rounds),
        "rows_times_matrix_padded": best_us(by_rows_times_matrix, a, b_padded, np.empty((lanes, padded), np.float32),
                                            args.reps, args.rounds),
        "single_rows": best_us(by_single_rows, a, b, np.empty((lanes, n), np.float32), args.reps, args.rounds),
    }
    # the n_h ≥ 2 layers' ∂L/∂X = G Wᵀ: one [T, N] × [N, N] product per sample (what the kernel does) against
    # one product of LANES samples stacked, [LANES·T, N] × [N, N]; per sample, and whether the sums are the same
    steps = 100
    stacked = g.standard_normal((lanes * steps, n)).astype(np.float32)
    per_sample_us, per_sample = best_us(per_sample_products, stacked.reshape(lanes, steps, n), b,
                                        np.empty((lanes, steps, n), np.float32), max(1, args.reps // 100), args.rounds)
    stacked_us, stacked_out = best_us(one_stacked_product, stacked, b, np.empty((lanes * steps, n), np.float32),
                                      max(1, args.reps // 100), args.rounds)
    input_gradient = {"product": f"{lanes} x [{steps}, {n}] x [{n}, {n}] float32",
                      "us_per_sample": {"per_sample": per_sample_us / lanes, "stacked": stacked_us / lanes},
                      "bit_equal": bool(np.array_equal(per_sample.reshape(lanes * steps, n), stacked_out))}
    exact = a.astype(np.float64) @ b.astype(np.float64)
    cores = sorted({i.get("architecture", "?") for i in threadpool_info() if i.get("internal_api") == "openblas"})
    print(json.dumps({"product": f"[{lanes}, {n}] x [{n}, {n}] float32", "openblas_cores": cores,
                      "small_gemm_in_blas": lif_kernels.SMALL_GEMM_IN_BLAS,
                      "us_per_product": {k: us for k, (us, _) in results.items()},
                      "ratio_to_np_dot": {k: results["np.dot"][0] / us for k, (us, _) in results.items()},
                      "max_error_vs_float64": {k: float(np.abs(out[:, :n] - exact).max() / np.abs(exact).max())
                                               for k, (_, out) in results.items()},
                      "input_gradient": input_gradient}))


if __name__ == "__main__":
    main()
