"""Command line: ``surrogate-study train [--config run.yaml] [--set KEY=VALUE ...] --out DIR``.

(``python -m surrogate_study`` is the same program.) ``--set surrogate.beta=100`` (repeatable)
overrides one dotted key of the run config after ``--config`` is read; it is validated like the file.
``surrogate-study provenance FILE`` prints the provenance record of a figure, table, report or
metrics.json.

Without ``--config`` the paper's default Randman network is trained. A bad config (also an
empty file, a directory, a YAML syntax error with its line and column), an ``--out`` that
cannot be created or written, or a missing dataset file fails with a one-line message and
exit code 2 before any training starts, leaving no folder behind; a diverged run exits 0
with ``status: diverged`` in ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

from surrogate_study import __version__
from surrogate_study.storage.atomic import CorruptFileError, DiskFullError
from surrogate_study.plan.config import ConfigError, load_config
from surrogate_study.plan.errors import allocation_message, is_allocation_failure
from surrogate_study.plan.shapes import surrogate_names


#: The program name in usage lines (the console script of pyproject.toml).
PROG = "surrogate-study"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train one network and write metrics.json + history.csv")
    _config_arguments(train)
    train.add_argument("--out", required=True, help="output folder of the run")
    progress = train.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="always show the progress bar")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show the progress bar")
    show = commands.add_parser("config", help="print the resolved config (defaults merged) as YAML")
    _config_arguments(show)
    commands.add_parser("surrogates", help="list the registered surrogate shapes")
    prepare = commands.add_parser("prepare", help="fetch (checksummed) and preprocess a real dataset")
    prepare.add_argument("dataset", help="mnist | fashion_mnist | shd | mnist5k")
    prepare.add_argument("--raw", default=None, help="raw-file folder (default data/raw/<dataset>)")
    prepare.add_argument("--out", default=None, help="processed file (default data/processed/<dataset>.npz)")
    show_runs = commands.add_parser("show", help="print status and accuracies of finished runs")
    show_runs.add_argument("metrics", nargs="+", help="metrics.json files")
    origin = commands.add_parser("provenance", help="print the provenance record of a figure, table, report "
                                 "or metrics.json (commit, dirty, config, input hashes, versions, date)")
    origin.add_argument("file", nargs="+", help="PNG, PDF, Markdown, HTML, LaTeX or JSON files")
    origin.add_argument("--json", action="store_true", help="print each record as one line of JSON")
    return parser


def _config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="run config (YAML/JSON), merged onto the defaults")
    parser.add_argument("--allow-large", action="store_true",
                        help="accept sizes beyond the limits of surrogate_study.plan.config.SIZE_LIMITS "
                             "(epochs, hidden units, batch sizes, samples per class, time steps)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one dotted key after --config, e.g. --set surrogate.beta=100 "
                             "(repeatable; VALUE is YAML; validated like the file)")


def _provenance(paths: Sequence[str], as_json: bool) -> int:
    """Print the provenance record of every file; exit 1 at the first file without one."""
    from surrogate_study.provenance import stamps as provenance

    for path in paths:
        try:
            record = provenance.read(path)
        except provenance.ProvenanceError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if as_json:
            print(provenance.to_json(record))
        else:
            if len(paths) > 1:
                print(f"== {path}")
            print(provenance.format_record(record))
    return 0


def _show(paths: Sequence[str]) -> int:
    """Print one line per run: status, best epoch, validation and test accuracy."""
    print(f"{'run':40s} {'status':9s} {'best':>4s} {'valid':>6s} {'test':>6s}")
    from surrogate_study.analysis.aggregate import read_metrics

    for path in paths:
        try:
            metrics = read_metrics(path)
        except CorruptFileError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        fmt = lambda value: "-" if value is None else f"{value:.3f}"  # noqa: E731
        print(f"{path:40s} {metrics['status']:9s} {str(metrics['best_epoch']):>4s} "
              f"{fmt(metrics['valid_accuracy']):>6s} {fmt(metrics['test_accuracy']):>6s}")
    return 0


def _prepare(dataset: str, raw: Optional[str], out: Optional[str]) -> int:
    from surrogate_study.data.fetch import ChecksumMismatch, DatasetUnavailable
    from surrogate_study.data.real_datasets import PREPARERS
    from surrogate_study.plan.dataset_catalog import PREPROCESSING

    if dataset not in PREPARERS:
        print(f"error: unknown dataset {dataset!r}; allowed: {', '.join(PREPARERS)}", file=sys.stderr)
        return 2
    try:
        path = PREPARERS[dataset](raw or f"data/raw/{dataset}", out or f"data/processed/{dataset}.npz",
                                  PREPROCESSING[dataset])
    except (DatasetUnavailable, ChecksumMismatch) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def prepare_out(out: str | Path) -> list[Path]:
    """Create ``out`` (and missing parents) and prove it writable; returns the folders created.

    Raises :class:`ConfigError` (one line) when a path component is a file, a folder cannot be
    created, or no file can be written in ``out``; folders created here are removed again then.
    """
    if not str(out).strip():
        raise ConfigError(f"--out {str(out)!r} names no folder: give the run's output folder, "
                          "e.g. --out results/my-run")
    out = Path(out)
    missing = [p for p in (out, *out.parents) if not p.exists()][::-1]  # outermost first
    for existing in (p for p in (out, *out.parents) if p.exists()):
        if not existing.is_dir():
            raise ConfigError(f"--out {out}: {existing} is a file, not a folder")
        break
    created: list[Path] = []
    try:
        for folder in missing:
            folder.mkdir()
            created.append(folder)
        handle, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        remove_created(created)
        raise ConfigError(f"--out {out}: not writable ({error.strerror or error})") from None
    return created


def remove_created(created: Sequence[Path]) -> None:
    """Remove the folders :func:`prepare_out` created, innermost first, if they are still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


def _check_dataset_file(config: Mapping[str, Any]) -> None:
    path = config["dataset"].get("path")
    if path is not None and not Path(path).is_file():
        name = config["dataset"]["name"]
        raise ConfigError(f"config error at dataset.path: {path} does not exist; make it with "
                          f"`python -m surrogate_study prepare {name}` (or `snakemake {path}`)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "surrogates":
        print("\n".join(surrogate_names()))
        return 0
    if args.command == "show":
        return _show(args.metrics)
    if args.command == "prepare":
        return _prepare(args.dataset, args.raw, args.out)
    if args.command == "provenance":
        return _provenance(args.file, args.json)
    created: list[Path] = []
    config: Mapping[str, Any] = {}
    try:
        config = load_config(args.config, args.overrides, allow_large=args.allow_large)
        if args.command == "config":
            print(yaml.safe_dump(config, sort_keys=False), end="")
            return 0
        _check_dataset_file(config)
        created = prepare_out(args.out)
        from surrogate_study.training.trainer import train  # heavy imports only when training

        metrics = train(config, args.out, progress=args.progress)
    except (ConfigError, FileNotFoundError, CorruptFileError) as error:
        remove_created(created)
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DiskFullError as error:  # the atomic writers left no half-written file
        remove_created(created)
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (MemoryError, RuntimeError) as error:
        if not is_allocation_failure(error):
            raise
        remove_created(created)
        print(f"error: {allocation_message(config)}", file=sys.stderr)
        return 1
    summary = {k: metrics[k] for k in ("status", "best_epoch", "valid_accuracy", "test_accuracy", "wall_time_s")}
    print(json.dumps(summary))
    return 0
