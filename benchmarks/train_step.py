"""Training-step benchmark: this project's core vs snnTorch vs a plain per-step PyTorch loop.

Prints one JSON line with the median time of one training step (forward, loss,
backward, Adam update) of the same network in the same process and thread count, the
configurations timed in turns (see ``interleaved_medians``):

  core       surrogate_study, fused backend (hand-written BPTT, compiled CPU kernels), 1 cell
  snntorch   the network written with snnTorch ``Synaptic`` neurons (fast-sigmoid surrogate of
             slope β, reset to zero; ``snntorch_network``, which tests/test_snntorch_compat.py checks
             against this project's network); null when snnTorch is not installed (``pip install .[bench]``)
  plain      surrogate_study, reference backend: the plain per-step autograd loop

plus their ratios, and networks trained per hour when K cells train as one batched
computation (K = 1, 8, 32 by default) against the plain one-network-per-process rate.

    .venv/bin/python benchmarks/train_step.py                # the issue's network: 20→128→10, T=100, batch 128
    .venv/bin/python benchmarks/train_step.py --steps 5 --warmup 1 --cells 1 2   # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from surrogate_study.training.allocator import keep_freed_memory
from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.training.optim import CellAdam
from surrogate_study.model.surrogates import Surrogate


def interleaved_medians(steps: dict[str, Callable[[], None]], warmup: int, rounds: int,
                        repeats: dict[str, int]) -> dict[str, float]:
    """Median wall time of one call of each step function.

    After ``warmup`` calls of each, the functions are timed in turns — round r runs every
    function ``repeats[name]`` times — so that load drifting on a shared machine reaches
    every measurement alike and the ratios between them stay fair.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            for _ in range(repeats.get(name, 1)):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def project_step(args, backend: str, cells: int) -> Callable[[], None]:
    params = LIFParameters()
    net = SpikingNetwork(args.inputs, [args.hidden], args.classes, params, Surrogate("superspike", args.beta),
                         generators=[torch.Generator().manual_seed(k) for k in range(cells)], backend=backend)
    optimizer = CellAdam(list(net.parameters()), [1e-3] * cells)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(cells, args.batch, args.steps_per_sample, args.inputs, generator=g) < args.rate).float()
    y = torch.randint(0, args.classes, (cells, args.batch), generator=g)

    def step() -> None:
        logits = net(x).logits
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(cells, -1).mean(1).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def snntorch_network(n_in: int, n_hidden: int, n_classes: int, params: LIFParameters,
                     spike_grad: Callable[[torch.Tensor], torch.Tensor]) -> torch.nn.Module:
    """The network written with snnTorch ``Synaptic`` neurons (reset to zero); needs snnTorch.

    ``forward(x)`` gives the logits (max over time of the readout membrane) of inputs x [B, T, n_in];
    ``run(x)`` the hidden spikes [B, T, H] and readout membrane [B, T, C]. It is this project's network
    with weights (1 − λ) Wᵀ and two steps ahead per layer (:mod:`surrogate_study.model.snntorch_compat`).
    """
    import snntorch as snn

    class SnnTorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = torch.nn.Linear(n_in, n_hidden, bias=False)
            self.readout = torch.nn.Linear(n_hidden, n_classes, bias=False)
            self.lif = snn.Synaptic(alpha=params.decay_syn, beta=params.decay_mem, threshold=params.threshold,
                                    spike_grad=spike_grad, reset_mechanism="zero")
            self.out = snn.Synaptic(alpha=params.decay_syn, beta=params.decay_readout, reset_mechanism="none")

        def run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            syn, mem = self.lif.init_synaptic()
            syn_out, mem_out = self.out.init_synaptic()
            spikes_over_time, readout = [], []
            for t in range(x.shape[1]):
                spikes, syn, mem = self.lif(self.hidden(x[:, t]), syn, mem)
                _, syn_out, mem_out = self.out(self.readout(spikes), syn_out, mem_out)
                spikes_over_time.append(spikes)
                readout.append(mem_out)
            return torch.stack(spikes_over_time, dim=1), torch.stack(readout, dim=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.run(x)[1].max(dim=1).values

    return SnnTorchNet()


def snntorch_step(args) -> Optional[Callable[[], None]]:
    try:
        from snntorch import surrogate
    except ImportError:
        return None
    net = snntorch_network(args.inputs, args.hidden, args.classes, LIFParameters(),
                           surrogate.fast_sigmoid(slope=args.beta))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(args.batch, args.steps_per_sample, args.inputs, generator=g) < args.rate).float()
    y = torch.randint(0, args.classes, (args.batch,), generator=g)

    def step() -> None:
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps-per-sample", type=int, default=100, help="time steps T")
    parser.add_argument("--rate", type=float, default=0.01, help="input spike probability per step")
    parser.add_argument("--beta", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=15, help="timing rounds (each times every configuration)")
    parser.add_argument("--cells", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--train-samples", type=int, default=8000, help="for networks/hour: Randman's train split")
    parser.add_argument("--epochs", type=int, default=50, help="for networks/hour")
    parser.add_argument("--no-keep-freed-memory", action="store_true",
                        help="leave glibc's allocator at its defaults (see surrogate_study.training.allocator)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.no_keep_freed_memory:
        keep_freed_memory()

    steps_per_network = math.ceil(args.train_samples / args.batch) * args.epochs
    steps = {"core": project_step(args, "fused", 1), "plain": project_step(args, "reference", 1)}
    snn_step = snntorch_step(args)
    if snn_step:
        steps["snntorch"] = snn_step
    for cells in args.cells:
        steps[f"cells{cells}"] = project_step(args, "fused", cells)
    # single networks run 2 steps a round, batched ones 1: comparable wall time per round
    medians = interleaved_medians(steps, args.warmup, args.steps,
                                  {name: 1 if name.startswith("cells") else 2 for name in steps})
    timings = {"core": medians["core"], "plain": medians["plain"], "snntorch": medians.get("snntorch")}
    plain_per_hour = 3600.0 / (timings["plain"] * steps_per_network)
    batched = {}
    for cells in args.cells:
        seconds = medians[f"cells{cells}"]
        per_hour = 3600.0 * cells / (seconds * steps_per_network)
        batched[str(cells)] = {"step_s": seconds, "networks_per_hour": per_hour,
                               "vs_plain_one_per_process": per_hour / plain_per_hour}
    result = {
        "network": f"{args.inputs}-{args.hidden}-{args.classes}, T={args.steps_per_sample}, batch={args.batch}",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "keep_freed_memory": not args.no_keep_freed_memory,
        "median_step_s": timings,
        "ratio_core_vs_snntorch": timings["core"] / timings["snntorch"] if timings["snntorch"] else None,
        "ratio_core_vs_plain": timings["core"] / timings["plain"],
        "ratio_snntorch_vs_plain": timings["snntorch"] / timings["plain"] if timings["snntorch"] else None,
        "steps_per_network": steps_per_network,
        "plain_networks_per_hour": plain_per_hour,
        "batched": batched,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
