"""Reading a study's aggregated tables (results/studies/<study>.csv, <study>_history.csv) checked against the plan.

A table cut short (mid-row or at a row boundary), one of another plan, or one without the columns the
analysis reads is a :class:`~surrogate_study.storage.atomic.CorruptFileError` with a one-line message that
names the file, what is wrong and what to do; never a figure or claim silently made from part of the cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from surrogate_study.analysis.aggregate import HISTORY_KEYS
from surrogate_study.storage.atomic import CorruptFileError

#: Columns of a study table that the panels, claims and Table 1 read (written by analysis.aggregate.cell_row).
STUDY_COLUMNS = ("cell", "dataset", "hidden", "recurrent", "shape", "beta", "scale", "lr", "seed", "status",
                 "valid_accuracy", "test_accuracy")
FIX_HINT = "delete it and rerun the same command (Snakemake rebuilds it from the cells)"


def _corrupt(path: str | Path, what: str) -> CorruptFileError:
    return CorruptFileError(f"{path}: {what}; {FIX_HINT}")


def _read(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """The CSV at ``path``, after checking that its last line is complete and ``columns`` are there."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            if handle.tell() == 0:
                raise _corrupt(path, "is empty")
            handle.seek(-1, 2)
            complete = handle.read(1) == b"\n"
        if not complete:
            raise _corrupt(path, "its last line is cut short (truncated file)")
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _corrupt(path, f"unreadable CSV ({first})") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise _corrupt(path, f"missing column(s) {', '.join(missing)}")
    return frame


def read_study_table(path: str | Path, cells: Sequence[str] | None = None) -> pd.DataFrame:
    """A study table, checked: complete last line, the columns of :data:`STUDY_COLUMNS` and, given the plan's
    ``cells`` of the study, exactly one row per planned cell."""
    frame = _read(path, STUDY_COLUMNS)
    if cells is not None:
        found = [str(c) for c in frame["cell"]]
        if len(found) != len(cells) or sorted(found) != sorted(cells):
            lacking = len(set(cells) - set(found))
            raise _corrupt(path, f"holds {len(found)} row(s) for the {len(cells)} planned cells "
                                 f"({lacking} planned cell(s) missing: truncated or from another plan)")
    return frame


def read_study_history(path: str | Path, cells: Sequence[str] | None = None) -> pd.DataFrame:
    """A study's per-epoch history, checked: complete last line, the history columns and, given the plan's
    ``cells``, rows of planned cells only."""
    frame = _read(path, ("cell", *HISTORY_KEYS))
    if cells is not None:
        unknown = sorted(set(map(str, frame["cell"])) - set(cells))
        if unknown:
            raise _corrupt(path, f"has rows of {len(unknown)} cell(s) outside the plan (e.g. {unknown[0]})")
    return frame


def read_study_tables(paths: Sequence[str | Path],
                      planned: Mapping[str, Sequence[str]] | None = None) -> dict[str, pd.DataFrame]:
    """study name (the file's stem) -> its checked table; ``planned``: study -> its planned cells."""
    return {Path(p).stem: read_study_table(p, None if planned is None else planned.get(Path(p).stem))
            for p in paths}
