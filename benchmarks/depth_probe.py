"""Train variants of one cell together (one batched job) and print what each reached: a probe of what makes
a configuration learn (one factor at a time; the deep-network table of docs/initialisation.md).

Each ``--case`` is a comma-separated list of dotted overrides (as ``surrogate-study train --set``) applied to
the ``--base`` config (a cell's ``config.yaml``, or any run config); all cases must share the architecture and
data set. Prints, per case, the best validation epoch, its validation and test accuracy, cross-entropy and
the mean spikes per neuron and input of each hidden layer at that epoch.

    .venv/bin/python benchmarks/depth_probe.py --base results/cells/<cell>/config.yaml --epochs 20 \\
        --case training.lr=0.05 --case training.lr=0.005 --out /tmp/probe
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

from surrogate_study.plan.config import resolve_config
from surrogate_study.plan.overrides import apply_overrides
from surrogate_study.training.trainer import train_cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a run config (YAML)")
    parser.add_argument("--case", action="append", required=True, help="comma-separated KEY=VALUE overrides")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True, help="folder for the cases' run folders")
    args = parser.parse_args()

    base = yaml.safe_load(Path(args.base).read_text())
    base.update(threads=args.threads, device="cpu")
    base["training"] = {**base["training"], "epochs": args.epochs, "save_model": False}
    configs = [resolve_config(apply_overrides(base, [o for o in case.split(",") if o])) for case in args.case]
    out_dirs = [Path(args.out) / f"case{k}" for k in range(len(configs))]
    metrics = train_cells(configs, out_dirs, progress=False)
    print("| case | status | best epoch | valid. | test | cross-entropy (test) | spikes per neuron and input, per layer |")
    print("|---|---|---|---|---|---|---|")
    for case, result, out_dir in zip(args.case, metrics, out_dirs):
        rows = list(csv.DictReader((out_dir / "history.csv").open()))
        best = result.get("best_epoch")
        row = rows[best] if best is not None and best < len(rows) else rows[-1]
        spikes = [f"{float(row[k]):.2f}" for k in row if k.startswith("mean_spikes_layer")]
        print(f"| {case} | {result['status']} | {best} | {float(row['valid_accuracy']):.3f} | "
              f"{float(row['test_accuracy']):.3f} | {float(row['test_loss']):.3f} | {' / '.join(spikes)} |")


if __name__ == "__main__":
    main()
