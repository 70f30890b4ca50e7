"""Profile paper-scale training steps of K cells with ``torch.profiler`` (docs/performance.md, "Where the time goes").

Prints the time of one training step and of one evaluated sample (measured on slices of the data set,
after a warm-up epoch), then the profiler's table of one training epoch of ``--steps`` steps, by self CPU
time. Networks (``--network``): ``ff1`` (20-100-10), ``ff2`` (20-100-100-10), ``ff3``, ``rec1`` (recurrent,
asymptotic β = 100, recurrent gradients propagated), ``rec3`` (a third each of sCtl, aCtl, aProp: the
default run's recurrent job), ``sigmoid`` (Sigmoid′, β = 100), ``mnist`` (MNIST-5k, batch 128; needs
data/processed from the workflow). Randman 10 × 1000, batch 250, η = 0.05, init gain 10 (the study
configs), float32, ``--threads`` threads.

    .venv/bin/python benchmarks/profile_step.py --network ff1 --cells 8 --steps 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def cell_config(network: str, k: int, cells: int) -> dict:
    """The config overrides of cell k of a job of ``cells`` cells of kind ``network``."""
    model: dict = {"hidden": [100], "init_gain": 10.0}
    extra: dict = {}
    dataset: dict = {}
    batch = 250
    if network in ("ff2", "ff3"):
        model["hidden"] = [100] * int(network[2])
    if network == "rec1":
        model.update(recurrent=True, detach_recurrent=False)
        extra = {"surrogate": {"scale": "asymptotic", "beta": 100.0}}
    if network == "rec3":
        variant = 3 * k // cells  # sCtl, aCtl, aProp
        model.update(recurrent=True, detach_recurrent=variant < 2)
        extra = {"surrogate": {"scale": "normalized" if variant == 0 else "asymptotic", "beta": 100.0}}
    if network == "sigmoid":
        extra = {"surrogate": {"shape": "sigmoid", "beta": 100.0}}
    if network == "mnist":
        dataset, batch = {"name": "mnist5k"}, 128
    return {"model": model, **extra, "dataset": dataset, "seed": k, "device": "cpu",
            "training": {"batch_size": batch, "epochs": 1, "lr": 0.05}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=["ff1", "ff2", "ff3", "rec1", "rec3", "sigmoid", "mnist"], default="ff1")
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    from surrogate_study.training.allocator import keep_freed_memory
    from surrogate_study.plan.config import resolve_config
    from surrogate_study.data.spike_data import DatasetSplits
    from surrogate_study.training.trainer import CellTrainer

    keep_freed_memory()
    configs = [resolve_config({**cell_config(args.network, k, args.cells), "threads": args.threads})
               for k in range(args.cells)]
    scratch = Path(tempfile.mkdtemp())
    trainer = CellTrainer(configs, [scratch / str(k) for k in range(args.cells)])
    full, batch = trainer.splits, configs[0]["training"]["batch_size"]
    subset = lambda data, n: data.subset(torch.arange(min(n, len(data))))  # noqa: E731
    trainer.splits = DatasetSplits(subset(full.train, 8 * batch), subset(full.valid, 250), subset(full.test, 250))
    trainer.train_epoch(0)  # warm-up: compilation, and hidden layers that fire as in training
    trainer.splits = DatasetSplits(subset(full.train, args.steps * batch), subset(full.valid, 400),
                                   subset(full.test, 400))
    start = time.perf_counter()
    stats = trainer.train_epoch(1)
    step_s = (time.perf_counter() - start) / args.steps
    start = time.perf_counter()
    trainer.record_epoch(1, stats)
    eval_s = (time.perf_counter() - start) / (len(trainer.splits.valid) + len(trainer.splits.test))
    print(f"{args.network}, K = {args.cells}, {args.threads} thread(s): training step {step_s * 1e3:.0f} ms, "
          f"evaluation {eval_s * 1e6:.0f} us per sample", flush=True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.train_epoch(2)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
