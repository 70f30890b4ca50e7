"""Paper-scale throughput: networks trained per hour by this core and by the core of a baseline commit.

Prints ONE JSON line. Setting (the paper's default run, docs/science.md): Randman 10 classes × 1000 samples
(20 inputs, each firing once in the first 50 of T = 100 steps; 8000 train / 1000 valid / 1000 test),
100 hidden units, batch 250, float32 on the CPU, K cells trained together (``--cells``), ``--threads``
threads, 50 epochs. Networks per hour = 3600 K / (50 · epoch_s) with

    epoch_s = 32 · (time of one training step) + 2000 · (evaluation time per sample)

(32 batches of 250, 1000 valid + 1000 test samples; other sizes by option),

both measured through ``CellTrainer.train_epoch`` / ``record_epoch`` (data handling, loss,
regularizer, backward, optimizer and evaluation included) on a slice of the data set
(``--train-batches`` batches, ``--eval-samples`` valid and test samples). Configurations:
feed-forward n_h = 1, n_h = 3, recurrent n_h = 1 and n_h = 2.

The baseline (``--baseline``, default 8b5f375) is checked out with ``git archive`` into a temporary
directory and imported in its own worker process; this checkout's ``src`` in another. Both workers
get the same data (generated once by this checkout's Randman) and are timed in alternating turns
(``--rounds`` rounds, each configuration on both cores), so load drifting on a shared machine
reaches both alike; medians over rounds. Before timing, every worker trains ``--warm-batches``
batches, so that hidden layers fire as they do in training (the mean spikes per hidden neuron and
input of the timed steps are reported: event-driven kernels cost more with more spikes).

    .venv/bin/python benchmarks/paper_scale.py                    # K = 8, 1 thread, 3 rounds
    .venv/bin/python benchmarks/paper_scale.py --threads 2 --cells 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"ff1": (1, False), "ff3": (3, False), "rec1": (1, True), "rec2": (2, True)}  # hidden layers, recurrent
EPOCHS = 50


# --- worker: runs inside one core's copy, answers one JSON command per line ----------------------

def worker(src: str, data_path: str) -> None:
    sys.path.insert(0, src)
    import numpy as np
    import torch

    try:  # the layered package
        from surrogate_study.data.spike_data import DatasetSplits, SpikeDataset
        from surrogate_study.plan.config import resolve_config
        from surrogate_study.training.allocator import keep_freed_memory
        from surrogate_study.training.trainer import CellTrainer
    except ModuleNotFoundError:
        try:  # the layered package before its training layer was renamed (90ab92f to e4bffbd)
            from surrogate_study.data.spike_data import DatasetSplits, SpikeDataset  # type: ignore[no-redef]
            from surrogate_study.plan.config import resolve_config  # type: ignore[no-redef]
            from surrogate_study.train.allocator import keep_freed_memory  # type: ignore[no-redef]
            from surrogate_study.train.training import CellTrainer  # type: ignore[no-redef]
        except ModuleNotFoundError:  # a baseline from before the package was split into layers (8569a34 and older)
            from surrogate_study.allocator import keep_freed_memory  # type: ignore[no-redef]
            from surrogate_study.config import resolve_config  # type: ignore[no-redef]
            from surrogate_study.spike_data import DatasetSplits, SpikeDataset  # type: ignore[no-redef]
            from surrogate_study.training import CellTrainer  # type: ignore[no-redef]

    keep_freed_memory()
    arrays = np.load(data_path)
    meta = arrays["meta"]  # n_steps, n_units, n_classes

    def split(name: str, n: int) -> SpikeDataset:
        indptr = torch.as_tensor(arrays[f"{name}_indptr"][: n + 1])
        end = int(indptr[-1])
        return SpikeDataset(torch.as_tensor(arrays[f"{name}_times"][:end]), torch.as_tensor(arrays[f"{name}_units"][:end]),
                            indptr, torch.as_tensor(arrays[f"{name}_labels"][:n]), *map(int, meta))

    trainers: dict[str, object] = {}
    tmp = tempfile.mkdtemp(prefix="paper_scale_")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        key = json.dumps(cmd["config"], sort_keys=True)
        batch = cmd["batch"]
        if key not in trainers:
            overrides = {"model": cmd["config"], "threads": cmd["threads"], "device": "cpu",
                         "dataset": {"samples_per_class": 5}, "training": {"batch_size": batch}}
            configs = [resolve_config({**overrides, "seed": k}) for k in range(cmd["cells"])]
            trainer = CellTrainer(configs, [Path(tmp) / f"{len(trainers)}_{k}" for k in range(cmd["cells"])])
            trainer.splits = DatasetSplits(split("train", cmd["warm_batches"] * batch), split("valid", batch),
                                           split("test", batch))
            trainer.train_epoch(0)  # warm-up: compile, allocate, let the hidden layers start firing
            trainer.record_epoch(0, [{"train_loss": 0.0, "train_regularization": 0.0, "train_accuracy": 0.0}] * cmd["cells"])
            trainers[key] = trainer
        trainer = trainers[key]
        trainer.splits = DatasetSplits(split("train", cmd["train_batches"] * batch),
                                       split("valid", cmd["eval_samples"]), split("test", cmd["eval_samples"]))
        start = time.perf_counter()
        stats = trainer.train_epoch(1)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        rows = trainer.record_epoch(1, stats)
        eval_s = time.perf_counter() - start
        spikes = [r["mean_spikes_layer1"] for r in rows if r is not None]
        top = [r.get("mean_spikes_layer2") for r in rows if r is not None and r.get("mean_spikes_layer2") is not None]
        print(json.dumps({"step_s": train_s / cmd["train_batches"], "eval_sample_s": eval_s / (2 * cmd["eval_samples"]),
                          "mean_spikes_layer1": statistics.mean(spikes) if spikes else None,
                          "mean_spikes_layer2": statistics.mean(top) if top else None}), flush=True)


# --- main: data, baseline checkout, alternating turns ---------------------------------------------

def write_data(path: Path, samples_per_class: int) -> tuple[int, int]:
    """The Randman splits (this checkout's generator) as arrays; returns the train and valid+test sizes."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from surrogate_study.plan.config import resolve_config
    from surrogate_study.data.splits import load_splits

    splits = load_splits(resolve_config({"dataset": {"samples_per_class": samples_per_class}})["dataset"])
    arrays = {"meta": np.array([splits.train.n_steps, splits.train.n_units, splits.train.n_classes])}
    for name in ("train", "valid", "test"):
        data = getattr(splits, name)
        for field in ("times", "units", "indptr", "labels"):
            arrays[f"{name}_{field}"] = getattr(data, field).numpy()
    np.savez(path, **arrays)
    return len(splits.train), len(splits.valid) + len(splits.test)


class Worker:
    def __init__(self, src: Path, data: Path, threads: int) -> None:
        env = {"OMP_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"}
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", str(src), str(data)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(self.proc.stdout.readline())["ready"]

    def run(self, command: dict) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker died (exit {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="8b5f375", help="commit whose core is the baseline")
    parser.add_argument("--cells", type=int, default=8, help="K cells trained together")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train-batches", type=int, default=2, help="timed training steps per round")
    parser.add_argument("--eval-samples", type=int, default=250, help="timed valid and test samples per round")
    parser.add_argument("--warm-batches", type=int, default=4, help="untimed training steps first")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--hidden", type=int, default=100, help="units per hidden layer")
    parser.add_argument("--recurrent-delay", type=int, choices=[1, 2], default=None,
                        help="this checkout's model.recurrent_delay for recurrent configs (default: the package's, 2)")
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--samples-per-class", type=int, default=1000, help="Randman samples per class (10 classes)")
    parser.add_argument("--record", action="store_true", help="append the ratios and networks per hour to "
                        "benchmarks/history.csv")
    args = parser.parse_args(argv)
    if not 1 <= args.eval_samples <= args.samples_per_class or args.train_batches < 1 or args.warm_batches < 1:
        parser.error(f"--eval-samples must lie in [1, {args.samples_per_class}] (the valid and test splits hold "
                     "samples-per-class samples each); --train-batches and --warm-batches must be >= 1")
    with tempfile.TemporaryDirectory(prefix="paper_scale_") as tmp:
        tmp_path = Path(tmp)
        baseline = tmp_path / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
        data = tmp_path / "randman.npz"
        n_train, n_eval = write_data(data, args.samples_per_class)
        if max(args.train_batches, args.warm_batches) * args.batch > n_train:
            parser.error(f"--train-batches/--warm-batches x --batch exceed the {n_train} training samples")
        batches_per_epoch = -(-n_train // args.batch)
        workers = {"this": Worker(ROOT / "src", data, args.threads), "baseline": Worker(baseline / "src", data, args.threads)}
        samples: dict[str, dict[str, list[dict]]] = {c: {w: [] for w in workers} for c in args.configs}
        for _ in range(args.rounds):
            for config in args.configs:
                for name, w in workers.items():
                    layers, recurrent = CONFIGS[config]
                    model = {"hidden": [args.hidden] * layers, "recurrent": recurrent}
                    if recurrent and args.recurrent_delay and name == "this":  # a key the older cores do not know
                        model["recurrent_delay"] = args.recurrent_delay
                    samples[config][name].append(w.run({
                        "config": model, "batch": args.batch,
                        "cells": args.cells, "threads": args.threads,
                        "train_batches": args.train_batches, "eval_samples": args.eval_samples,
                        "warm_batches": args.warm_batches}))
        for w in workers.values():
            w.close()
    result: dict = {"setting": f"Randman 10x{args.samples_per_class} ({n_train} train, {n_eval} valid+test), "
                               f"20-{args.hidden}(x n_h)-10, T=100, batch {args.batch}, float32, CPU, "
                               f"{EPOCHS} epochs extrapolated", "cells": args.cells, "threads": args.threads,
                    "batches_per_epoch": batches_per_epoch, "eval_samples_per_epoch": n_eval,
                    "baseline": args.baseline, "rounds": args.rounds, "configs": {}}
    for config in args.configs:
        entry = {}
        for name in workers:
            runs = samples[config][name]
            step = statistics.median(r["step_s"] for r in runs)
            evaluation = statistics.median(r["eval_sample_s"] for r in runs)
            epoch = batches_per_epoch * step + n_eval * evaluation
            entry[name] = {"step_s": step, "eval_sample_s": evaluation, "epoch_s": epoch,
                           "networks_per_hour": 3600 * args.cells / (EPOCHS * epoch),
                           "mean_spikes_layer1": statistics.median(r["mean_spikes_layer1"] for r in runs),
                           "mean_spikes_layer2": None if runs[0].get("mean_spikes_layer2") is None
                           else statistics.median(r["mean_spikes_layer2"] for r in runs)}
        entry["ratio"] = entry["this"]["networks_per_hour"] / entry["baseline"]["networks_per_hour"]
        result["configs"][config] = entry
    print(json.dumps(result))
    if args.record:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from history import append

        rows = [(config, metric, value) for config, entry in result["configs"].items()
                for metric, value in (("ratio_vs_" + args.baseline, entry["ratio"]),
                                      ("networks_per_hour", entry["this"]["networks_per_hour"]))]
        append("paper_scale.py", rows, note=f"K={args.cells}, threads={args.threads}, rounds={args.rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
