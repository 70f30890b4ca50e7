"""Why deeper networks stay at chance with the spec's initialisation: per-layer activity and gradients.

Trains one cell of the paper's Randman task (package defaults: 10 x 1000, batch 250) with the given
hidden layers, η and init gain for a number of steps and prints, every 10 steps, the cross-entropy,
the batch accuracy, mean spikes per neuron and input per layer, each layer's largest membrane potential
and the mean |gradient| of every weight tensor (readout first). Example (docs/initialisation.md, "Deeper networks"):

    .venv/bin/python benchmarks/deep_init_probe.py --hidden 100 100 100 --lr 0.005 --gain 10 --steps 100
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from surrogate_study.plan.config import resolve_config
from surrogate_study.training.trainer import CellTrainer, epoch_order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 100, 100])
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--gain", type=float, default=1.0, help="model.init_gain")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--shape", default="superspike", help="surrogate.shape")
    parser.add_argument("--beta", type=float, default=10.0, help="surrogate.beta")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    config = resolve_config({"seed": args.seed, "threads": args.threads,
                             "model": {"hidden": args.hidden, "init_gain": args.gain}, "training": {"lr": args.lr},
                             "surrogate": {"shape": args.shape, "beta": args.beta}})
    trainer = CellTrainer([config], [Path(tempfile.mkdtemp())])
    data, batch = trainer.splits.train, config["training"]["batch_size"]
    per_epoch = len(data) // batch
    for step in range(args.steps):
        order = epoch_order(args.seed, step // per_epoch, len(data))
        indices = order[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
        inputs, labels = data.dense_cells([indices]), data.labels[indices]
        output = trainer.model(inputs)
        cross_entropy = F.cross_entropy(output.logits[0], labels)
        regularization = trainer.regularizer([t.spikes for t in output.hidden])
        trainer.optimizer.zero_grad()
        (cross_entropy + regularization.sum()).backward()
        if step % 10 == 0:
            accuracy = float((output.logits[0].argmax(1) == labels).float().mean())
            spikes = [round(float(t.spikes.detach().sum(2).mean()), 2) for t in output.hidden]
            peaks = [round(float(t.membrane.detach().max()), 2) for t in output.hidden]
            grads = [f"{float(p.grad.abs().mean()):.1e}" for p in trainer.model.parameters()]
            print(f"step {step:4d}  CE {cross_entropy.item():.3f}  acc {accuracy:.3f}  spikes {spikes}  "
                  f"max U {peaks}  |grad| {grads}", flush=True)
        trainer.optimizer.step()


if __name__ == "__main__":
    main()
