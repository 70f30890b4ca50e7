"""Cells that a training job need not train again: their folder already holds the complete outputs of the same
run config (a job whose cell list grew, e.g. the sensitivity study's cells packed with the default run's, trains
only its new cells; numbers do not depend on which cells train together, tests/unit/training/test_finished.py).

A cell is finished when its folder has ``config.yaml`` equal to the config to train, ``metrics.json`` (readable,
with a status), ``history.csv`` whole (one row per completed epoch, ending in a newline), ``model.pt`` when the
config saves one (loadable), and no ``checkpoint.pt`` (a checkpoint means a job stopped before its outputs were
all written). A cut or deleted file makes the cell unfinished: it is trained again. To train a finished cell
again by hand, delete its folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional

import torch
import yaml

CONFIG_NAME = "config.yaml"


def finished_metrics(config: Mapping[str, Any], out_dir: str | Path) -> Optional[dict[str, Any]]:
    """The ``metrics.json`` of a finished cell of ``config`` in ``out_dir``, else None."""
    out_dir = Path(out_dir)
    required = ["metrics.json", "history.csv"] + (["model.pt"] if config["training"]["save_model"] else [])
    if (out_dir / "checkpoint.pt").exists() or not all((out_dir / name).is_file() for name in required):
        return None
    try:
        stored = yaml.safe_load((out_dir / CONFIG_NAME).read_text())
        metrics = json.loads((out_dir / "metrics.json").read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
    if stored != json.loads(json.dumps(dict(config))) or not isinstance(metrics, dict) or "status" not in metrics:
        return None
    return metrics if _history_whole(out_dir / "history.csv", metrics) and _model_loads(out_dir, config) else None


def _history_whole(path: Path, metrics: Mapping[str, Any]) -> bool:
    """history.csv ends in a newline and has a header and one row per completed epoch."""
    text = path.read_text()
    return text.endswith("\n") and len(text.splitlines()) == 1 + int(metrics.get("epochs_completed") or 0)


def _model_loads(out_dir: Path, config: Mapping[str, Any]) -> bool:
    if not config["training"]["save_model"]:
        return True
    try:
        torch.load(out_dir / "model.pt", map_location="cpu", weights_only=True)
    except Exception:  # a cut zip archive raises RuntimeError, a cut header EOFError / UnpicklingError
        return False
    return True
