"""The backward kernels' small products, by BLAS and by the register-tiled product, float32, one thread.

Two products, each ``np.dot`` inside numba (SciPy's OpenBLAS: what the kernels call where
``kernels.runtime.small_gemm_in_blas()``) against ``tile_product.matrix_product`` (what they call elsewhere; its right-hand
matrix padded to whole vectors, as the kernels pad Vᵀ and Wᵀ):

- the recurrent term gI[n+1] Vᵀ of a lockstep group, [LANES, N] × [N, N], once per step;
- ∂L/∂X = G Wᵀ of layers above the first, [T, N] × [N, N] per sample (``--steps`` T), also as one BLAS
  product of LANES samples stacked, [LANES·T, N] × [N, N] (per sample; whether its float32 sums equal the
  per-sample ones).

Prints one JSON line: microseconds per product (best of ``--rounds`` rounds), each way's ratio to ``np.dot``,
its largest error against the float64 product (relative to the product's largest entry), the OpenBLAS core
the library reports and the path the kernels take on this machine.

    .venv/bin/python benchmarks/small_gemm.py
"""

from __future__ import annotations

import argparse
import json
import time

import numba
import numpy as np

from surrogate_study.kernels.options import LANES
from surrogate_study.kernels.runtime import configure_runtime, small_gemm_in_blas
from surrogate_study.kernels.tile_product import matrix_product, padded_columns


@numba.njit
def by_blas(a, b, out, reps):
    for _ in range(reps):
        for sample in range(a.shape[0]):
            np.dot(a[sample], b, out[sample])


@numba.njit
def by_tiles(a, b, out, reps):
    for _ in range(reps):
        for sample in range(a.shape[0]):
            matrix_product(a[sample], b, out[sample])


@numba.njit
def by_blas_stacked(a, b, out, reps):
    for _ in range(reps):
        np.dot(a.reshape(a.shape[0] * a.shape[1], a.shape[2]), b, out.reshape(out.shape[0] * out.shape[1], out.shape[2]))


def best_us(function, a, b, columns: int, reps: int, rounds: int) -> tuple[float, np.ndarray]:
    """Best microseconds per product of a [S, R, K] batch (S products) over ``rounds`` rounds of ``reps``
    passes, and the products [S, R, ``columns``]."""
    out = np.empty((a.shape[0], a.shape[1], columns), dtype=a.dtype)
    function(a, b, out, 1)  # compile
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function(a, b, out, reps)
        best = min(best, (time.perf_counter() - start) / (reps * a.shape[0]))
    return best * 1e6, out


def compare(ways: dict, a: np.ndarray, b: np.ndarray, reps: int, rounds: int) -> dict:
    """Each way's microseconds per product, ratio to np.dot and largest relative error."""
    n = b.shape[1]
    padded = np.zeros((b.shape[0], padded_columns(n, b.itemsize)), dtype=b.dtype)
    padded[:, :n] = b
    exact = a.astype(np.float64) @ b.astype(np.float64)
    results = {name: best_us(function, a, padded if name == "tiles" else b, n, reps, rounds)
               for name, function in ways.items()}
    us = {name: value for name, (value, _) in results.items()}
    return {"us_per_product": us, "ratio_to_np_dot": {name: us["np.dot"] / value for name, value in us.items()},
            "max_error_vs_float64": {name: float(np.abs(out - exact).max() / np.abs(exact).max())
                                     for name, (_, out) in results.items()},
            "outputs": {name: out for name, (_, out) in results.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--reps", type=int, default=2000, help="passes over the LANES products per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    configure_runtime()  # one BLAS thread, as inside the kernels
    from threadpoolctl import threadpool_info

    n, lanes, steps = args.neurons, LANES, args.steps
    g = np.random.default_rng(0)
    b = g.standard_normal((n, n)).astype(np.float32)
    recurrent = compare({"np.dot": by_blas, "tiles": by_tiles}, g.standard_normal((1, lanes, n)).astype(np.float32),
                        b, args.reps * 10, args.rounds)
    samples = g.standard_normal((lanes, steps, n)).astype(np.float32)
    input_gradient = compare({"np.dot": by_blas, "tiles": by_tiles, "np.dot_stacked": by_blas_stacked}, samples, b,
                             max(1, args.reps // 10), args.rounds)
    outputs = input_gradient.pop("outputs")
    recurrent.pop("outputs")
    input_gradient["stacked_bit_equal"] = bool(np.array_equal(outputs["np.dot"], outputs["np.dot_stacked"]))
    cores = sorted({i.get("architecture", "?") for i in threadpool_info() if i.get("internal_api") == "openblas"})
    print(json.dumps({"openblas_cores": cores, "small_gemm_in_blas": small_gemm_in_blas(),
                      "recurrent_term": {"product": f"[{lanes}, {n}] x [{n}, {n}] float32", **recurrent},
                      "input_gradient": {"product": f"[{steps}, {n}] x [{n}, {n}] float32 per sample",
                                         **input_gradient}}))


if __name__ == "__main__":
    main()
