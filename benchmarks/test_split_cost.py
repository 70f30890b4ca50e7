"""What evaluating the test split once per cell saves: the largest planned job of an architecture, its epochs with
``training.test_split: every_epoch`` against ``best_epoch``, in alternating processes on the same data.

Each round trains the job (its 16 cells as planned, 1 thread, ``--epochs`` + 1 epochs, the first not timed; a
real dataset on generated spikes of its shape, ``--real-fraction`` of its samples, as cost_calibration.py) once
per mode, in a fresh process, and prints the median epoch (training and evaluation) of each and, for
best_epoch, the one test pass after the last epoch. Run it on an otherwise idle machine.

    .venv/bin/python benchmarks/test_split_cost.py --only 20-100-10 784-100-10 700-128r-20 --rounds 3
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
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

MODES = ("every_epoch", "best_epoch")


def one_run(arch: str, mode: str, epochs: int, configfile: Path, fraction: float, shd_spikes: int) -> dict:
    """Train the sample job of ``arch`` in ``mode``; its median epoch and final test pass in seconds."""
    import cost_calibration as calibration

    from surrogate_study.kernels.runtime import configure_runtime
    from surrogate_study.plan.config import resolve_config
    from surrogate_study.training.allocator import keep_freed_memory
    from surrogate_study.training.trainer import CellTrainer

    keep_freed_memory()
    configure_runtime()
    _, the_plan = calibration.plan(configfile)
    job = calibration.sample_jobs(the_plan)[arch]
    configs = [dict(the_plan.cells[c], threads=1) for c in the_plan.jobs[job]]
    with tempfile.TemporaryDirectory() as folder:
        runs, _ = calibration.job_runs(configs, 1, Path(folder), fraction, shd_spikes, epochs=epochs + 1,
                                       test_split=mode)
        trainer = CellTrainer([resolve_config(r) for r in runs], [Path(folder) / str(k) for k in range(len(runs))])
        times = []
        for epoch in range(epochs + 1):
            start = time.perf_counter()
            trainer.record_epoch(epoch, trainer.train_epoch(epoch))
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        trainer.test_best_epochs()
        final = time.perf_counter() - start
    return {"architecture": arch, "mode": mode, "epoch_s": round(statistics.median(times[1:]), 4),
            "final_test_s": round(final, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, default=ROOT / "config" / "paper.yaml")
    parser.add_argument("--only", nargs="+", default=["20-100-10", "784-100-10", "700-128r-20"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per run (one more is trained first)")
    parser.add_argument("--real-fraction", type=float, default=0.1)
    parser.add_argument("--shd-spikes", type=int, default=5000, help="input spikes per SHD-like sample")
    parser.add_argument("--one", nargs=2, metavar=("ARCH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], args.one[1], args.epochs, args.configfile, args.real_fraction,
                                 args.shd_spikes)))
        return
    for round_ in range(1, args.rounds + 1):
        for arch in args.only:
            pair = {}
            for mode in MODES:  # each in a fresh process, in turns
                out = subprocess.run([sys.executable, __file__, "--one", arch, mode, "--epochs", str(args.epochs),
                                      "--configfile", str(args.configfile), "--real-fraction", str(args.real_fraction),
                                      "--shd-spikes", str(args.shd_spikes)],
                                     capture_output=True, text=True, check=True).stdout
                pair[mode] = json.loads(out.strip().splitlines()[-1])
            print(json.dumps({"round": round_, "architecture": arch,
                              "every_epoch_s": pair["every_epoch"]["epoch_s"],
                              "best_epoch_s": pair["best_epoch"]["epoch_s"],
                              "ratio": round(pair["best_epoch"]["epoch_s"] / pair["every_epoch"]["epoch_s"], 3),
                              "final_test_s": pair["best_epoch"]["final_test_s"]}), flush=True)


if __name__ == "__main__":
    main()
