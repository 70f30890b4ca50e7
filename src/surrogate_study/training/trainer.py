"""Training runs: resolved configs in, ``metrics.json`` + ``history.csv`` per run out.

Per epoch: Adam steps on shuffled mini-batches of the training split minimizing

    L = CE(softmax(max_n U_out[n]), y) + Σ_layers (R_low + R_up),

then an evaluation of the validation split and, with ``training.test_split: every_epoch`` (the default),
of the test split. The reported accuracies are those of the epoch with the best validation accuracy (the
earliest one on ties). With ``test_split: best_epoch`` the test split is evaluated once, after the last epoch,
with each cell's weights of its best validation epoch: the same reported numbers, bit for bit (a cell's
evaluation depends on its own weights only), for one test pass instead of one per epoch; ``history.csv`` then
leaves its test columns empty.

Several runs ("cells") of one architecture and dataset train together in one batched
computation (:func:`train_cells`); each keeps its own seed (weights and data order),
surrogate, detach flags, regularizers and learning rate, and ends with the numbers it
gets when trained alone (:func:`train` is the one-cell case).

Robustness:
- a non-finite loss, readout potential or parameter ends that cell with status ``diverged`` (no
  exception); the other cells go on;
- a checkpoint ``checkpoint.pt`` is written atomically to every cell's folder after every
  epoch and removed when the run ends; a rerun with the same configs resumes from it and
  ends with the same numbers as an uninterrupted run;
- all randomness comes from local generators seeded by ``seed`` (weights) and
  (``seed``, epoch) (data order);
- threads: torch's intra-op pool and numba's parallel kernels both get the job's ``threads``
  (:func:`pin_threads`), re-applied every epoch (numba's OpenMP layer resets the OpenMP
  thread count torch reads); ``metrics.json`` records the largest count seen in use.
"""

from __future__ import annotations

import logging
import os
import pickle
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from surrogate_study import __version__
from surrogate_study.kernels.runtime import configure_runtime
from surrogate_study.provenance import stamps as provenance
from surrogate_study.training.allocator import keep_freed_memory
from surrogate_study.storage.atomic import torch_save_atomic, write_csv_atomic, write_json_atomic
from surrogate_study.plan.config import ConfigError, config_digest, test_every_epoch
from surrogate_study.data.splits import load_splits
from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.training.optim import CellAdam
from surrogate_study.model.regularizers import NORMS, lower_bound, upper_bound
from surrogate_study.data.spike_data import SpikeDataset
from surrogate_study.model.surrogates import Surrogate
from surrogate_study.plan.study import PER_CELL_KEYS, shared_part

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
HISTORY_NAME = "history.csv"
MODEL_NAME = "model.pt"

EpochCallback = Callable[[int, Sequence[Optional[Mapping[str, Any]]]], None]

def select_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` fails clearly without a GPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config error at device: value 'cuda' is not allowed here: CUDA is not available")
    return torch.device(name)


def pin_threads(threads: Optional[int]) -> int:
    """Give torch and numba the same thread count n (``threads``, or torch's current count when None).

    numba's parallel kernels otherwise run with numba's own default (all cores), and its OpenMP
    layer sets the process's OpenMP thread count — which is what torch uses — to that value.
    numba's count is capped at its pool size (``NUMBA_NUM_THREADS``). Returns n.
    """
    n = torch.get_num_threads() if threads is None else threads
    torch.set_num_threads(n)
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; the reference backend works without it
        return n
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return n


def threads_in_use() -> dict[str, int]:
    """The thread counts torch and numba would use now."""
    counts = {"torch": torch.get_num_threads()}
    try:
        import numba

        counts["numba"] = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return counts


def build_network(configs: Sequence[Mapping[str, Any]], n_in: int, n_classes: int) -> SpikingNetwork:
    """One network cell per config; cell k is initialised from a generator seeded by its ``seed``."""
    model = configs[0]["model"]
    return SpikingNetwork(
        n_in,
        model["hidden"],
        n_classes,
        LIFParameters(model["dt"], model["tau_mem"], model["tau_syn"], model["tau_readout"], model["threshold"],
                      model["recurrent_delay"]),
        [Surrogate(**c["surrogate"]) for c in configs],
        recurrent=model["recurrent"],
        detach_reset=[c["model"]["detach_reset"] for c in configs],
        detach_recurrent=[c["model"]["detach_recurrent"] for c in configs],
        generators=[torch.Generator().manual_seed(c["seed"]) for c in configs],
        backend=configs[0]["training"]["backend"],
        init_gain=[c["model"]["init_gain"] for c in configs],
        recurrent_init_gain=[c["model"]["recurrent_init_gain"] for c in configs],
    )


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The permutation of the training samples in ``epoch`` (a function of seed and epoch only)."""
    return torch.as_tensor(np.random.default_rng([seed, epoch]).permutation(n))


class CellRegularizer:
    """Lower and upper activity bounds of every cell as [K, 1, 1] tensors (see ``regularizers``)."""

    def __init__(self, configs: Sequence[Mapping[str, Any]], device: torch.device) -> None:
        def column(bound: str, key: str) -> torch.Tensor:
            values = [c["regularization"][bound][key] for c in configs]
            if key == "norm":
                values = [NORMS[v] for v in values]
            return torch.tensor(values, dtype=torch.float32, device=device).view(-1, 1, 1)

        keys = ("strength", "threshold", "norm")
        self.lower = [column("lower", key) for key in keys]
        self.upper = [column("upper", key) for key in keys]
        self.any_lower = any(c["regularization"]["lower"]["strength"] for c in configs)
        self.any_upper = any(c["regularization"]["upper"]["strength"] for c in configs)

    def __call__(self, hidden_counts: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per-cell penalty [K] summed over layers, for the hidden layers' spike counts ζ [K, B, N]."""
        total = hidden_counts[0].new_zeros(hidden_counts[0].shape[0])
        for counts in hidden_counts:
            if self.any_lower:
                total = total + lower_bound(counts, *self.lower).mean(dim=(1, 2))
            if self.any_upper:
                total = total + upper_bound(counts, *self.upper).mean(dim=(1, 2))
        return total


@dataclass
class Evaluation:
    """Accuracy, cross-entropy and hidden activity of one cell on one split."""

    accuracy: float
    loss: float
    mean_spikes: list[float]  # per hidden layer: mean spikes per neuron per input
    silent_fraction: list[float]  # per hidden layer: neurons with no spike on the whole split


@torch.no_grad()
def evaluate(model: SpikingNetwork, data: SpikeDataset, batch_size: int, device: torch.device) -> list[Evaluation]:
    """Evaluate every cell of ``model`` on all of ``data``; one :class:`Evaluation` per cell."""
    model.eval()
    cells, n_layers = model.cells, model.n_hidden_layers
    correct = torch.zeros(cells, dtype=torch.int64)
    loss_sum = torch.zeros(cells, dtype=torch.float64)
    spike_sum = torch.zeros(n_layers, cells, dtype=torch.float64)
    ever_spiked: list[Optional[torch.Tensor]] = [None] * n_layers
    for start in range(0, len(data), batch_size):
        indices = torch.arange(start, min(start + batch_size, len(data)))
        labels = data.labels[indices].to(device)
        output = model(data.events_cells([indices]), keep_traces=False)  # one batch shared by all cells, as events
        logits = output.logits  # [K, B, C]
        loss_sum += F.cross_entropy(logits.flatten(0, 1), labels.repeat(cells), reduction="none").view(
            cells, -1).sum(dim=1).double().cpu()
        correct += (logits.argmax(dim=2) == labels).sum(dim=1).cpu()
        for layer, trace in enumerate(output.hidden):
            counts = trace.spike_counts()  # [K, B, N]
            spike_sum[layer] += counts.mean(dim=2).sum(dim=1).double().cpu()
            fired = (counts > 0).any(dim=1).cpu()  # [K, N]
            ever_spiked[layer] = fired if ever_spiked[layer] is None else ever_spiked[layer] | fired
    n = len(data)
    return [
        Evaluation(
            accuracy=int(correct[k]) / n,
            loss=float(loss_sum[k]) / n,
            mean_spikes=[float(spike_sum[layer, k]) / n for layer in range(n_layers)],
            silent_fraction=[float((~fired[k]).float().mean()) for fired in ever_spiked],  # type: ignore[index]
        )
        for k in range(cells)
    ]


@dataclass
class CellState:
    """Everything a resumed cell needs: status, history, best epoch and its weights."""

    status: str = "ok"
    diverged_epoch: Optional[int] = None
    history: list[dict[str, Any]] = field(default_factory=list)
    best: Optional[dict[str, Any]] = None
    best_weights: Optional[dict[str, torch.Tensor]] = None


def history_columns(n_layers: int) -> list[str]:
    """Columns of ``history.csv``; spike statistics are measured on the validation split."""
    columns = ["epoch", "train_loss", "train_regularization", "train_accuracy",
               "valid_loss", "valid_accuracy", "test_loss", "test_accuracy"]
    for layer in range(1, n_layers + 1):
        columns += [f"mean_spikes_layer{layer}", f"silent_fraction_layer{layer}"]
    return columns


def _history_row(epoch: int, train: Mapping[str, float], valid: Evaluation,
                 test: Optional[Evaluation]) -> dict[str, Any]:
    """One row of ``history.csv``; the test columns empty (None) when the test split was not evaluated."""
    row: dict[str, Any] = {
        "epoch": epoch,
        **train,
        "valid_loss": valid.loss,
        "valid_accuracy": valid.accuracy,
        "test_loss": None if test is None else test.loss,
        "test_accuracy": None if test is None else test.accuracy,
    }
    for layer, (spikes, silent) in enumerate(zip(valid.mean_spikes, valid.silent_fraction), start=1):
        row[f"mean_spikes_layer{layer}"] = spikes
        row[f"silent_fraction_layer{layer}"] = silent
    return row


def _test_fields(test: Evaluation) -> dict[str, Any]:
    """What a cell's best epoch reports from the test split."""
    return {"test_accuracy": test.accuracy, "test_loss": test.loss, "mean_spikes_per_neuron": test.mean_spikes,
            "silent_fraction": test.silent_fraction}


def _cell_weights(model: SpikingNetwork, cell: int) -> dict[str, torch.Tensor]:
    return {name: p[cell].detach().to("cpu", copy=True) for name, p in model.named_parameters()}


def _load_cell_weights(model: SpikingNetwork, cell: int, weights: Mapping[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p[cell] = weights[name].to(p.device)


def finite_cells(losses: Tensor, readout_potential: Tensor) -> Tensor:
    """[K] bool: cell k has not diverged, i.e. its loss and every readout potential U_out [K, ...] are finite.

    The potentials are checked too because an overflowing network can keep a finite loss (the logits are maxima
    over time that include U_out[0] = 0). The maximum and the minimum of U_out are both finite exactly when every
    U_out is (amax/amin propagate NaN; +inf is the maximum, −inf the minimum): two passes without temporaries,
    ~0.7 ms against 8–15 ms for ``isfinite(U_out).all()`` and 1.7 ms for ``abs().amax()`` on [8, 250, 100, 10]
    float32, one thread.
    """
    rows = readout_potential.flatten(1)
    return torch.isfinite(losses) & torch.isfinite(rows.amax(dim=1)) & torch.isfinite(rows.amin(dim=1))


class CellTrainer:
    """K cells, their optimizer and per-cell states; one epoch at a time."""

    def __init__(self, configs: Sequence[Mapping[str, Any]], out_dirs: Sequence[Path]) -> None:
        first = configs[0]
        for k, config in enumerate(configs[1:], start=1):
            if shared_part(config) != shared_part(first):
                raise ConfigError(
                    f"config error: cell {k} ({out_dirs[k]}) differs from cell 0 outside the per-cell keys "
                    f"{', '.join('.'.join(p) for p in PER_CELL_KEYS)}; train them separately"
                )
        self.configs, self.out_dirs = list(configs), list(out_dirs)
        self.threads = pin_threads(first["threads"])
        self.threads_seen: dict[str, int] = {}
        self.device = select_device(first["device"])
        self.training = first["training"]
        self.test_every_epoch = test_every_epoch(self.training)
        self.splits = load_splits(first["dataset"])
        self.model = build_network(configs, self.splits.train.n_units, self.splits.train.n_classes).to(self.device)
        self.optimizer = CellAdam(list(self.model.parameters()), [c["training"]["lr"] for c in configs])
        self.regularizer = CellRegularizer(configs, self.device)
        self.digests = [config_digest(c) for c in configs]
        self.states = [CellState() for _ in configs]
        self.next_epoch = 0
        self.elapsed_s = 0.0

    @property
    def cells(self) -> int:
        return len(self.configs)

    def active(self) -> list[int]:
        return [k for k, state in enumerate(self.states) if state.status == "ok"]

    def _mark_diverged(self, cell: int, epoch: int) -> None:
        self.states[cell].status, self.states[cell].diverged_epoch = "diverged", epoch
        self.optimizer.freeze(cell)
        logger.warning("%s diverged in epoch %d", self.out_dirs[cell], epoch)

    def train_epoch(self, epoch: int) -> list[Optional[dict[str, float]]]:
        """One pass over the training split; per cell its loss/accuracy, None when it diverged."""
        pin_threads(self.threads)
        self.model.train()
        data, batch_size, cells = self.splits.train, self.training["batch_size"], self.cells
        orders = [epoch_order(c["seed"], epoch, len(data)) for c in self.configs]
        loss_sum = torch.zeros(cells, dtype=torch.float64)
        reg_sum = torch.zeros(cells, dtype=torch.float64)
        correct = torch.zeros(cells, dtype=torch.int64)
        for start in range(0, len(data), batch_size):
            batches = [order[start : start + batch_size] for order in orders]
            labels = torch.stack([data.labels[b] for b in batches]).to(self.device)  # [K, B]
            inputs = data.events_cells(batches)  # K batches as events (densified on the device when not the CPU)
            output = self.model(inputs, keep_traces=False)  # the logits, U_out and the counts are all it reads
            cross_entropy = F.cross_entropy(output.logits.flatten(0, 1), labels.flatten(), reduction="none")
            regularization = self.regularizer([t.spike_counts() for t in output.hidden])
            losses = cross_entropy.view(cells, -1).mean(dim=1) + regularization  # [K]
            finite = finite_cells(losses.detach(), output.readout.detach()).cpu()
            for k in self.active():
                if not finite[k]:
                    self._mark_diverged(k, epoch)
            active = torch.tensor([state.status == "ok" for state in self.states])
            if not active.any():
                break
            self.optimizer.zero_grad()
            losses[active.to(self.device)].sum().backward()
            self.optimizer.step()
            self.optimizer.clear_frozen()  # the graph is freed: zeroing diverged cells is safe now
            size = len(batches[0])
            loss_sum += losses.detach().double().cpu().nan_to_num() * size
            reg_sum += regularization.detach().double().cpu().nan_to_num() * size
            correct += (output.logits.detach().argmax(dim=2) == labels).sum(dim=1).cpu()
        for k in self.active():
            if not all(bool(torch.isfinite(p[k]).all()) for p in self.model.parameters()):
                self._mark_diverged(k, epoch)
        self.optimizer.clear_frozen()  # no backward of this epoch is still to come
        n = len(data)
        return [
            {"train_loss": float(loss_sum[k]) / n, "train_regularization": float(reg_sum[k]) / n,
             "train_accuracy": int(correct[k]) / n}
            if self.states[k].status == "ok" else None
            for k in range(cells)
        ]

    def record_epoch(self, epoch: int, train_stats: Sequence[Optional[Mapping[str, float]]]) -> list[Optional[dict]]:
        """Evaluate, append history rows and update each cell's best epoch."""
        self._note_threads()
        pin_threads(self.threads)
        eval_batch = self.training["eval_batch_size"]
        valid = evaluate(self.model, self.splits.valid, eval_batch, self.device)
        test = evaluate(self.model, self.splits.test, eval_batch, self.device) if self.test_every_epoch else None
        self._note_threads()
        rows: list[Optional[dict]] = []
        for k, state in enumerate(self.states):
            if train_stats[k] is None:
                rows.append(None)
                continue
            row = _history_row(epoch, train_stats[k], valid[k], None if test is None else test[k])
            state.history.append(row)
            rows.append(row)
            if state.best is None or valid[k].accuracy > state.best["valid_accuracy"]:
                state.best = {
                    "epoch": epoch,
                    "train_accuracy": train_stats[k]["train_accuracy"],
                    "valid_accuracy": valid[k].accuracy,
                    **({} if test is None else _test_fields(test[k])),
                }
                state.best_weights = _cell_weights(self.model, k)
        return rows

    def test_best_epochs(self) -> None:
        """``test_split: best_epoch``: evaluate the test split once, every cell with the weights of its best
        validation epoch (loaded into the model: run after the last epoch), and add the results to its best
        epoch; the numbers ``every_epoch`` records at that epoch. Cells without a best epoch keep their weights."""
        pending = [k for k, state in enumerate(self.states)
                   if state.best is not None and "test_accuracy" not in state.best]
        if not pending:
            return
        for k in pending:
            _load_cell_weights(self.model, k, self.states[k].best_weights)
        pin_threads(self.threads)
        test = evaluate(self.model, self.splits.test, self.training["eval_batch_size"], self.device)
        self._note_threads()
        for k in pending:
            self.states[k].best.update(_test_fields(test[k]))

    def _note_threads(self) -> None:
        """Remember the largest thread counts seen in use (what metrics.json records)."""
        for name, count in threads_in_use().items():
            self.threads_seen[name] = max(count, self.threads_seen.get(name, 0))

    def dataset_info(self) -> dict[str, int]:
        """Inputs, time steps, classes and split sizes of the data actually trained on."""
        train = self.splits.train
        return {"n_units": train.n_units, "n_steps": train.n_steps, "n_classes": train.n_classes,
                "train": len(train), "valid": len(self.splits.valid), "test": len(self.splits.test)}

    def save_checkpoints(self) -> None:
        for k, out_dir in enumerate(self.out_dirs):
            torch_save_atomic(out_dir / CHECKPOINT_NAME, {
                "config_digest": self.digests[k],
                "next_epoch": self.next_epoch,
                "elapsed_s": self.elapsed_s,
                "weights": _cell_weights(self.model, k),
                "optimizer": self.optimizer.cell_state(k),
                "state": asdict(self.states[k]),
            })

    def load_checkpoints(self) -> None:
        """Resume when every cell has a checkpoint of its own config at the same epoch."""
        paths = [d / CHECKPOINT_NAME for d in self.out_dirs]
        if not any(p.exists() for p in paths):
            return
        checkpoints = [_read_checkpoint(p) if p.exists() else None for p in paths]
        if not any(p.exists() for p in paths):
            return  # the only checkpoints were unreadable, and are set aside: train afresh
        usable = all(
            c is not None and c["config_digest"] == digest and c["next_epoch"] == checkpoints[0]["next_epoch"]
            for c, digest in zip(checkpoints, self.digests)
        )
        if not usable:
            logger.warning("checkpoints in %s do not match these configs; starting afresh", self.out_dirs[0].parent)
            return
        for k, checkpoint in enumerate(checkpoints):
            _load_cell_weights(self.model, k, checkpoint["weights"])
            self.optimizer.load_cell_state(k, checkpoint["optimizer"])
            self.states[k] = CellState(**checkpoint["state"])
            if self.states[k].status != "ok":
                self.optimizer.active[k] = False
        self.next_epoch = checkpoints[0]["next_epoch"]
        self.elapsed_s = checkpoints[0]["elapsed_s"]
        logger.info("resuming %d cell(s) at epoch %d", self.cells, self.next_epoch)

    def write_outputs(self, wall_time_s: float) -> list[dict[str, Any]]:
        all_metrics = []
        for k, (config, out_dir, state) in enumerate(zip(self.configs, self.out_dirs, self.states)):
            metrics = _metrics(config, self.device, state, self.next_epoch, wall_time_s, self.cells,
                               self.dataset_info(), self.threads_seen or threads_in_use())
            write_csv_atomic(out_dir / HISTORY_NAME, state.history, history_columns(len(config["model"]["hidden"])))
            if config["training"]["save_model"]:
                # the best epoch's weights; a run that diverged before any epoch keeps its (zeroed) weights
                weights = state.best_weights if state.best_weights is not None else _cell_weights(self.model, k)
                torch_save_atomic(out_dir / MODEL_NAME, {"config": dict(config), "state_dict": weights,
                                                         "best_epoch": (state.best or {}).get("epoch")})
            write_json_atomic(out_dir / METRICS_NAME, metrics)
            all_metrics.append(metrics)
        # checkpoints go only once every cell's outputs are written: a job killed while writing them
        # resumes at its last epoch (every cell still has its checkpoint) instead of training afresh
        for out_dir in self.out_dirs:
            (out_dir / CHECKPOINT_NAME).unlink(missing_ok=True)
        return all_metrics


def _read_checkpoint(path: Path) -> Optional[dict[str, Any]]:
    """The checkpoint at ``path``; None when it cannot be read (truncated, corrupt), after setting it aside as
    ``checkpoint.pt.corrupt`` with a one-line warning naming it (the cells then train afresh)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(checkpoint, dict) or not {"config_digest", "next_epoch", "weights"} <= checkpoint.keys():
            raise ValueError("not a checkpoint of this package")
        return checkpoint
    except (OSError, RuntimeError, ValueError, EOFError, KeyError, AttributeError, pickle.UnpicklingError) as error:
        aside = path.with_name(CHECKPOINT_NAME + ".corrupt")
        os.replace(path, aside)
        reason = " ".join(str(error).split())[:120]
        logger.warning("%s is unreadable (%s): set aside as %s; its cells train afresh", path, reason, aside.name)
        return None


def train_cells(
    configs: Sequence[Mapping[str, Any]],
    out_dirs: Sequence[str | Path],
    *,
    on_epoch_end: Optional[EpochCallback] = None,
    progress: Optional[bool] = None,
    epoch_times: Optional[list[tuple[float, float]]] = None,
) -> list[dict[str, Any]]:
    """Train the runs ``configs`` (one architecture and dataset) together; outputs to ``out_dirs``.

    ``progress``: show a tqdm bar (None: only when attached to a terminal). ``epoch_times``: a list to which
    each epoch's (training, evaluation) wall seconds are appended (what ``benchmarks/cost_calibration.py`` reads).
    Returns the content of every run's ``metrics.json``.
    """
    if len(configs) != len(out_dirs) or not configs:
        raise ValueError("train_cells needs one output folder per config, and at least one config")
    keep_freed_memory()
    configure_runtime()  # numba's threading layer and one BLAS thread, before the first kernel
    out_dirs = [Path(d) for d in out_dirs]
    for out_dir in out_dirs:
        out_dir.mkdir(parents=True, exist_ok=True)
    trainer = CellTrainer(configs, out_dirs)
    trainer.load_checkpoints()
    started, elapsed_before = time.perf_counter(), trainer.elapsed_s
    epochs = trainer.training["epochs"]
    bar = tqdm(range(trainer.next_epoch, epochs), initial=trainer.next_epoch, total=epochs,
               desc=f"train {out_dirs[0].name}" + (f" +{len(out_dirs) - 1}" if len(out_dirs) > 1 else ""),
               unit="epoch", disable=None if progress is None else not progress)
    for epoch in bar:
        if not trainer.active():
            break
        epoch_start = time.perf_counter()
        stats = trainer.train_epoch(epoch)
        trained = time.perf_counter()
        rows = trainer.record_epoch(epoch, stats)
        if epoch_times is not None:
            epoch_times.append((trained - epoch_start, time.perf_counter() - trained))
        trainer.next_epoch = epoch + 1
        trainer.elapsed_s = elapsed_before + time.perf_counter() - started
        trainer.save_checkpoints()
        best = [s.best["valid_accuracy"] for s in trainer.states if s.best is not None]
        if best:
            bar.set_postfix(best_valid=f"{max(best):.3f}", diverged=trainer.cells - len(trainer.active()))
        if on_epoch_end is not None:
            on_epoch_end(epoch, rows)
    bar.close()
    trainer.test_best_epochs()  # test_split: best_epoch (a no-op otherwise)
    return trainer.write_outputs(elapsed_before + time.perf_counter() - started)


def train(
    config: Mapping[str, Any],
    out_dir: str | Path,
    *,
    on_epoch_end: Optional[Callable[[int, Mapping[str, Any]], None]] = None,
    progress: Optional[bool] = None,
) -> dict[str, Any]:
    """Train one run (see :func:`train_cells`); returns its ``metrics.json`` content."""
    callback = None if on_epoch_end is None else (lambda epoch, rows: on_epoch_end(epoch, rows[0]))
    return train_cells([config], [out_dir], on_epoch_end=callback, progress=progress)[0]


def _metrics(config: Mapping[str, Any], device: torch.device, state: CellState, epochs_completed: int,
             wall_time_s: float, cells: int, dataset_info: Mapping[str, int],
             threads: Mapping[str, int]) -> dict[str, Any]:
    best = state.best or {}
    n_layers = len(config["model"]["hidden"])
    commit, dirty = provenance.git_state(".")  # the project's git state (null outside a git work tree)
    return {
        "status": state.status,
        "dataset_info": dataset_info,
        "diverged_epoch": state.diverged_epoch,
        "epochs_completed": epochs_completed if state.diverged_epoch is None else state.diverged_epoch,
        "best_epoch": best.get("epoch"),
        "train_accuracy": best.get("train_accuracy"),
        "valid_accuracy": best.get("valid_accuracy"),
        "test_accuracy": best.get("test_accuracy"),
        "test_loss": best.get("test_loss"),
        "mean_spikes_per_neuron": best.get("mean_spikes_per_neuron", [None] * n_layers),
        "silent_fraction": best.get("silent_fraction", [None] * n_layers),
        "seed": config["seed"],
        "device": str(device),
        "threads": threads["torch"],  # the largest torch thread count seen in use during the run
        "numba_threads": threads.get("numba"),
        "cells_trained_together": cells,
        "wall_time_s": round(wall_time_s, 3),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),  # the SLURM job that trained it; null outside SLURM
        "versions": {
            "surrogate_study": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "commit": commit,
            "dirty": dirty,
        },
        "config": dict(config),
    }
