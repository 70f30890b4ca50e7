"""Compare two runs of the workflow bit for bit: every numeric column of results/studies/*.csv except wall time.

A refactor changes no number: run the default config at the old and the new commit (each in a fresh clone), then

    .venv/bin/python benchmarks/compare_runs.py OLD_CLONE NEW_CLONE

Rows are matched by cell (and epoch, in the history tables); cells only one run has (a grid that grew) are left
out of the comparison and counted, and so are columns only one run has (a table that gained a column). Prints one line per differing column and a summary; exit 1 when any differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

IGNORED = ("wall_time_s",)


def compare(old: Path, new: Path) -> tuple[list[str], int, int]:
    """(differences, tables compared, cells compared) of the study tables of two run folders."""
    differences, cells = [], set()
    names = sorted(p.name for p in (old / "results" / "studies").glob("*.csv"))
    if not names:
        raise SystemExit(f"error: {old}/results/studies holds no study tables")
    for name in names:
        path = new / "results" / "studies" / name
        if not path.is_file():
            differences.append(f"{name}: missing in {new}")
            continue
        a, b = pd.read_csv(old / "results" / "studies" / name), pd.read_csv(path)
        key = [c for c in ("cell", "epoch") if c in a.columns]
        shared = set(a["cell"]) & set(b["cell"])
        a = a[a["cell"].isin(shared)].sort_values(key).reset_index(drop=True)
        b = b[b["cell"].isin(shared)].sort_values(key).reset_index(drop=True)
        cells |= shared
        columns = [c for c in a.columns if c in set(b.columns)]
        a, b = a[columns], b[columns]
        if len(a) != len(b) or not a[key].equals(b[key]):
            differences.append(f"{name}: other rows")
            continue
        for column in a.columns:
            if column in IGNORED or not pd.api.types.is_numeric_dtype(a[column]):
                continue
            if not a[column].equals(b[column]):
                differences.append(f"{name}: {column} differs in {int((a[column] != b[column]).sum())} rows")
    return differences, len(names), len(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="the folder of the first run (a clone that ran the workflow)")
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    differences, tables, cells = compare(args.old, args.new)
    for line in differences:
        print(line)
    print(f"{tables} study tables, {cells} cells in both runs: "
          + ("bit for bit the same" if not differences else f"{len(differences)} differences"))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
