"""Table 1 — the parameters actually run, per dataset, rendered as Markdown and LaTeX.

Besides the paper's rows: samples per class and the train / valid / test sizes actually trained
on, the seeds, the epochs, and the full β and η grids that the cells of the dataset ran.
"""

from __future__ import annotations

import pandas as pd

from surrogate_study.analysis.aggregate import best_by_validation
from surrogate_study.analysis.choices import CHOICES, values_run


def _span(values: pd.Series, fmt: str = "{:g}") -> str:
    unique = sorted(values.dropna().unique())
    if not unique:
        return "–"
    if len(unique) == 1:
        return fmt.format(unique[0])
    return f"{fmt.format(unique[0])} … {fmt.format(unique[-1])}"


def _list(values: pd.Series) -> str:
    return ", ".join(sorted(values.dropna().astype(str).unique()))


def _grid(values: pd.Series) -> str:
    """Every value actually run, sorted: "0.01, 0.05"."""
    return ", ".join(f"{v:g}" for v in sorted(values.dropna().unique())) or "–"


def _splits(group: pd.DataFrame) -> str:
    columns = ["n_train", "n_valid", "n_test"]
    if not set(columns) <= set(group):
        return "–"
    sizes = group[columns].dropna().drop_duplicates()
    return ", ".join(" / ".join(str(int(v)) for v in row) for row in sizes.itertuples(index=False)) or "–"


def _seeds(values: pd.Series) -> str:
    seeds = sorted(values.dropna().astype(int).unique())
    return f"{len(seeds)} ({', '.join(map(str, seeds))})" if seeds else "–"


def parameter_table(cells: pd.DataFrame) -> pd.DataFrame:
    """One column per dataset; rows as in the paper's Table 1, from the aggregated cell tables."""
    columns = {}
    for dataset, group in cells.groupby("dataset"):
        best = best_by_validation(group, ["dataset"])
        columns[dataset] = {
            "inputs": _list(group["n_inputs"]),
            "hidden units (per layer)": _list(group["hidden"]),
            "hidden layers n_h": _list(group["n_hidden_layers"]),
            "recurrent": _list(group["recurrent"]),
            "readout units": _list(group["n_classes"]),
            "Δt (ms)": _span(group["dt"] * 1000),
            "time steps": _list(group["n_steps"]),
            "samples per class": (_list(group["samples_per_class"].dropna().astype(int)) or "–")
            if "samples_per_class" in group else "–",
            "samples train / valid / test": _splits(group),
            "seeds": _seeds(group["seed"]),
            "batch size": _list(group["batch_size"]),
            "epochs": _list(group["epochs"]),
            "η range": _span(group["lr"]),
            "η grid run": _grid(group["lr"]),
            "best η (validation)": "–" if best.empty else f"{best['lr'].iloc[0]:g}",
            "β range": _span(group["beta"]),
            "β grid run": _grid(group["beta"]),
            "λ_low / ν_low": f"{_span(group['lambda_low'])} / {_span(group['nu_low'])}",
            "λ_up / ν_up": f"{_span(group['lambda_up'])} / {_span(group['nu_up'])}",
            "cells trained": str(group["cell"].nunique()),
        }
        for choice in CHOICES:  # the reconstruction choices (docs/science.md), "–" where none applies
            values = values_run(group, choice)
            columns[dataset][f"{choice.label} [{choice.key}]"] = ", ".join(
                "as g" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in values) or "–"
    return pd.DataFrame(columns)


def to_markdown(table: pd.DataFrame) -> str:
    header = "| parameter | " + " | ".join(table.columns) + " |"
    rule = "|---" * (len(table.columns) + 1) + "|"
    rows = [f"| {index} | " + " | ".join(str(v) for v in row) + " |" for index, row in table.iterrows()]
    return "\n".join([header, rule, *rows]) + "\n"


def to_latex(table: pd.DataFrame) -> str:
    escape = lambda s: str(s).replace("_", r"\_").replace("…", r"\dots{}").replace("Δ", r"$\Delta$") \
        .replace("η", r"$\eta$").replace("β", r"$\beta$").replace("λ", r"$\lambda$").replace("ν", r"$\nu$")  # noqa: E731
    lines = [r"\begin{tabular}{l" + "l" * len(table.columns) + "}", r"\hline",
             "parameter & " + " & ".join(escape(c) for c in table.columns) + r" \\", r"\hline"]
    lines += [escape(index) + " & " + " & ".join(escape(v) for v in row) + r" \\" for index, row in table.iterrows()]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
