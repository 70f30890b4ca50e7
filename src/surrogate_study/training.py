"""One training run: a resolved config in, ``metrics.json`` + ``history.csv`` out.

Per epoch: Adam steps on shuffled mini-batches of the training split minimizing

    L = CE(softmax(max_n U_out[n]), y) + Σ_layers (R_low + R_up),

then an evaluation of the validation and test splits. The reported accuracies are
those of the epoch with the best validation accuracy (the earliest one on ties).

Robustness:
- a non-finite loss or parameter ends the run with status ``diverged`` (no exception),
  so a grid of runs goes on;
- a checkpoint ``checkpoint.pt`` is written atomically after every epoch and removed
  when the run ends; a rerun with the same config resumes from it and ends with the
  same numbers as an uninterrupted run;
- all randomness comes from local generators seeded by ``seed`` (weights) and
  (``seed``, epoch) (data order).
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import __version__
from .atomic import torch_save_atomic, write_csv_atomic, write_json_atomic
from .config import ConfigError, config_digest
from .datasets import load_splits
from .lif import LIFParameters
from .network import SpikingNetwork
from .regularizers import ActivityBound, activity_penalty, spike_counts
from .spike_data import SpikeDataset
from .surrogates import Surrogate

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
HISTORY_NAME = "history.csv"
MODEL_NAME = "model.pt"

EpochCallback = Callable[[int, Mapping[str, Any]], None]


def select_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` fails clearly without a GPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config error at device: value 'cuda' is not allowed here: CUDA is not available")
    return torch.device(name)


def build_network(config: Mapping[str, Any], n_in: int, n_classes: int) -> SpikingNetwork:
    """The network described by ``config['model']`` and ``config['surrogate']``, seeded by ``config['seed']``."""
    model = config["model"]
    generator = torch.Generator().manual_seed(config["seed"])
    return SpikingNetwork(
        n_in,
        model["hidden"],
        n_classes,
        LIFParameters(model["dt"], model["tau_mem"], model["tau_syn"], model["tau_readout"], model["threshold"]),
        Surrogate(**config["surrogate"]),
        recurrent=model["recurrent"],
        detach_reset=model["detach_reset"],
        detach_recurrent=model["detach_recurrent"],
        generator=generator,
    )


def activity_bounds(config: Mapping[str, Any]) -> tuple[ActivityBound, ActivityBound]:
    """Lower and upper activity bounds from ``config['regularization']``."""
    reg = config["regularization"]
    return ActivityBound(**reg["lower"]), ActivityBound(**reg["upper"])


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The permutation of the training samples in ``epoch`` (a function of seed and epoch only)."""
    return torch.as_tensor(np.random.default_rng([seed, epoch]).permutation(n))


@dataclass
class Evaluation:
    """Accuracy, cross-entropy and hidden activity of a network on one split."""

    accuracy: float
    loss: float
    mean_spikes: list[float]  # per hidden layer: mean spikes per neuron per input
    silent_fraction: list[float]  # per hidden layer: neurons with no spike on the whole split


@torch.no_grad()
def evaluate(model: SpikingNetwork, data: SpikeDataset, batch_size: int, device: torch.device) -> Evaluation:
    """Evaluate ``model`` on all of ``data``."""
    model.eval()
    correct, loss_sum = 0, 0.0
    n_layers = len(model.hidden)
    spike_sum = [0.0] * n_layers
    ever_spiked: list[Optional[torch.Tensor]] = [None] * n_layers
    for start in range(0, len(data), batch_size):
        indices = torch.arange(start, min(start + batch_size, len(data)))
        labels = data.labels[indices].to(device)
        output = model(data.dense(indices, device))
        loss_sum += float(F.cross_entropy(output.logits, labels, reduction="sum"))
        correct += int((output.logits.argmax(dim=1) == labels).sum())
        for layer, trace in enumerate(output.hidden):
            counts = spike_counts(trace.spikes)
            spike_sum[layer] += float(counts.mean(dim=1).sum())
            fired = (counts > 0).any(dim=0)
            ever_spiked[layer] = fired if ever_spiked[layer] is None else ever_spiked[layer] | fired
    n = len(data)
    return Evaluation(
        accuracy=correct / n,
        loss=loss_sum / n,
        mean_spikes=[s / n for s in spike_sum],
        silent_fraction=[float((~fired).float().mean()) for fired in ever_spiked],  # type: ignore[union-attr]
    )


@dataclass
class RunState:
    """Everything a resumed run needs: next epoch, history, best epoch and its weights."""

    next_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best: Optional[dict[str, Any]] = None
    best_weights: Optional[dict[str, torch.Tensor]] = None
    elapsed_s: float = 0.0


def history_columns(n_layers: int) -> list[str]:
    """Columns of ``history.csv``; spike statistics are measured on the validation split."""
    columns = ["epoch", "train_loss", "train_regularization", "train_accuracy",
               "valid_loss", "valid_accuracy", "test_loss", "test_accuracy"]
    for layer in range(1, n_layers + 1):
        columns += [f"mean_spikes_layer{layer}", f"silent_fraction_layer{layer}"]
    return columns


def _history_row(epoch: int, train: Mapping[str, float], valid: Evaluation, test: Evaluation) -> dict[str, Any]:
    row: dict[str, Any] = {
        "epoch": epoch,
        **train,
        "valid_loss": valid.loss,
        "valid_accuracy": valid.accuracy,
        "test_loss": test.loss,
        "test_accuracy": test.accuracy,
    }
    for layer, (spikes, silent) in enumerate(zip(valid.mean_spikes, valid.silent_fraction), start=1):
        row[f"mean_spikes_layer{layer}"] = spikes
        row[f"silent_fraction_layer{layer}"] = silent
    return row


def _parameters_finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def train_epoch(
    model: SpikingNetwork,
    optimizer: torch.optim.Optimizer,
    data: SpikeDataset,
    order: torch.Tensor,
    batch_size: int,
    bounds: tuple[ActivityBound, ActivityBound],
    device: torch.device,
) -> Optional[dict[str, float]]:
    """One pass over ``data`` in ``order``; None when the loss or a parameter became non-finite."""
    model.train()
    loss_sum = reg_sum = 0.0
    correct = 0
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        labels = data.labels[indices].to(device)
        output = model(data.dense(indices, device))
        regularization = activity_penalty((t.spikes for t in output.hidden), *bounds)
        loss = F.cross_entropy(output.logits, labels) + regularization
        if not torch.isfinite(loss):
            return None
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * len(indices)
        reg_sum += float(regularization.detach()) * len(indices)
        correct += int((output.logits.argmax(dim=1) == labels).sum())
    if not _parameters_finite(model):
        return None
    n = len(order)
    return {"train_loss": loss_sum / n, "train_regularization": reg_sum / n, "train_accuracy": correct / n}


def _load_checkpoint(path: Path, digest: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> RunState:
    if not path.exists():
        return RunState()
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("config_digest") != digest:
        logger.warning("ignoring %s: it was written for another config", path)
        return RunState()
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    logger.info("resuming %s at epoch %d", path.parent, checkpoint["state"]["next_epoch"])
    return RunState(**checkpoint["state"])


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


def train(
    config: Mapping[str, Any],
    out_dir: str | Path,
    *,
    on_epoch_end: Optional[EpochCallback] = None,
    progress: Optional[bool] = None,
) -> dict[str, Any]:
    """Train the run described by the resolved ``config`` and write its outputs to ``out_dir``.

    ``progress``: show a tqdm bar (None: only when attached to a terminal).
    Returns the content of ``metrics.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if config["threads"] is not None:
        torch.set_num_threads(config["threads"])
    device = select_device(config["device"])
    training = config["training"]
    splits = load_splits(config["dataset"])
    model = build_network(config, splits.train.n_units, splits.train.n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=training["lr"])
    bounds = activity_bounds(config)
    digest = config_digest(config)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    state = _load_checkpoint(checkpoint_path, digest, model, optimizer)

    status, diverged_epoch = "ok", None
    started = time.perf_counter()
    elapsed_before = state.elapsed_s
    epochs = tqdm(
        range(state.next_epoch, training["epochs"]),
        initial=state.next_epoch,
        total=training["epochs"],
        desc=f"train {out_dir.name}",
        unit="epoch",
        disable=None if progress is None else not progress,
    )
    for epoch in epochs:
        order = epoch_order(config["seed"], epoch, len(splits.train))
        train_stats = train_epoch(model, optimizer, splits.train, order, training["batch_size"], bounds, device)
        if train_stats is None:
            status, diverged_epoch = "diverged", epoch
            break
        valid = evaluate(model, splits.valid, training["eval_batch_size"], device)
        test = evaluate(model, splits.test, training["eval_batch_size"], device)
        state.history.append(_history_row(epoch, train_stats, valid, test))
        if state.best is None or valid.accuracy > state.best["valid_accuracy"]:
            state.best = {
                "epoch": epoch,
                "train_accuracy": train_stats["train_accuracy"],
                "valid_accuracy": valid.accuracy,
                "test_accuracy": test.accuracy,
                "test_loss": test.loss,
                "mean_spikes_per_neuron": test.mean_spikes,
                "silent_fraction": test.silent_fraction,
            }
            state.best_weights = _cpu_state(model)
        state.next_epoch = epoch + 1
        state.elapsed_s = elapsed_before + time.perf_counter() - started
        torch_save_atomic(
            checkpoint_path,
            {"config_digest": digest, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "state": dataclasses.asdict(state)},
        )
        epochs.set_postfix(valid_acc=f"{valid.accuracy:.3f}", best=f"{state.best['valid_accuracy']:.3f}")
        if on_epoch_end is not None:
            on_epoch_end(epoch, state.history[-1])
    epochs.close()

    metrics = _metrics(config, device, status, diverged_epoch, state,
                       elapsed_before + time.perf_counter() - started)
    write_csv_atomic(out_dir / HISTORY_NAME, state.history, history_columns(len(config["model"]["hidden"])))
    if training["save_model"] and state.best_weights is not None:
        torch_save_atomic(out_dir / MODEL_NAME, {"config": dict(config), "state_dict": state.best_weights})
    write_json_atomic(out_dir / METRICS_NAME, metrics)
    checkpoint_path.unlink(missing_ok=True)
    return metrics


def _metrics(
    config: Mapping[str, Any],
    device: torch.device,
    status: str,
    diverged_epoch: Optional[int],
    state: RunState,
    wall_time_s: float,
) -> dict[str, Any]:
    best = state.best or {}
    n_layers = len(config["model"]["hidden"])
    return {
        "status": status,
        "diverged_epoch": diverged_epoch,
        "epochs_completed": state.next_epoch,
        "best_epoch": best.get("epoch"),
        "train_accuracy": best.get("train_accuracy"),
        "valid_accuracy": best.get("valid_accuracy"),
        "test_accuracy": best.get("test_accuracy"),
        "test_loss": best.get("test_loss"),
        "mean_spikes_per_neuron": best.get("mean_spikes_per_neuron", [None] * n_layers),
        "silent_fraction": best.get("silent_fraction", [None] * n_layers),
        "seed": config["seed"],
        "device": str(device),
        "threads": torch.get_num_threads(),
        "wall_time_s": round(wall_time_s, 3),
        "versions": {
            "surrogate_study": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "config": dict(config),
    }
