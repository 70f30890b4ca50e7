"""Fig. 5 — sensitive to scale: asymptotic surrogates with gradient flow through reset or recurrence."""

import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from surrogate_study.figstyle import VARIANT_COLORS, apply_style, note, panel_letters, save
from surrogate_study.surrogates import Surrogate

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
scale = pd.read_csv(snakemake.input.scale)
history = pd.read_csv(snakemake.input.scale_history)
depth = pd.read_csv(snakemake.input.depth)
recurrent = pd.read_csv(snakemake.input.recurrent)
best_runs, top = snakemake.params.best_runs, snakemake.params.top_cells


def top_cells(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The `top` cells by validation accuracy in each group (diverged cells count as failures, last)."""
    ranked = table.assign(valid=table["valid_accuracy"].fillna(-1.0), test=table["test_accuracy"].fillna(0.0))
    ranked = ranked.sort_values(["valid", "cell"], ascending=[False, True], kind="stable")
    return ranked.groupby(by, sort=False).head(top)


def mean_sd_bars(ax, table, group, x_labels, colors):
    stats = table.groupby(group)["test"].agg(["mean", "std"]).reindex(x_labels)
    ax.bar(range(len(x_labels)), stats["mean"], yerr=stats["std"].fillna(0), capsize=3,
           color=[colors.get(label, "0.5") for label in x_labels])
    ax.set_xticks(range(len(x_labels)), x_labels)
    ax.set_ylim(0, 1)


fig, axes = plt.subplots(2, 3, figsize=(10, 6), layout="constrained")
(ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes
x = torch.linspace(-1.0, 1.0, 801)
for beta in snakemake.params.betas:
    ax_a.plot(x, Surrogate("superspike", beta, "asymptotic").derivative(x), label=f"β = {beta:g}")
ax_a.set_yscale("log")
ax_a.set_xlabel("U − ϑ")
ax_a.set_ylabel("asymptotic SuperSpike σ′")
ax_a.legend(frameon=False, fontsize=7)

variants = [v for v in ("sCtl", "aCtl", "aDR") if v in set(scale["axis:variant"])]
for variant in variants:
    cells = scale[scale["axis:variant"] == variant]
    best = cells.sort_values(["valid_accuracy", "cell"], ascending=[False, True]).head(best_runs)["cell"]
    for i, cell in enumerate(best):
        curve = history[history["cell"] == cell]
        ax_b.plot(curve["epoch"], curve["train_accuracy"], color=VARIANT_COLORS[variant], lw=0.8,
                  label=variant if i == 0 else None)
ax_b.set_xlabel("epoch")
ax_b.set_ylabel(f"training accuracy ({best_runs} best cells)")
ax_b.set_ylim(0, 1)
ax_b.legend(frameon=False)

mean_sd_bars(ax_c, top_cells(scale, ["axis:variant"]), "axis:variant", variants, VARIANT_COLORS)
ax_c.set_ylabel(f"test accuracy, {top} best cells")

depth = depth.assign(n_h=depth["n_hidden_layers"])
top_depth = top_cells(depth, ["axis:variant", "n_h"])
for offset, variant in zip((-0.2, 0.2), ("sCtl", "aDR")):
    stats = top_depth[top_depth["axis:variant"] == variant].groupby("n_h")["test"].agg(["mean", "std"])
    ax_d.bar(stats.index + offset, stats["mean"], 0.4, yerr=stats["std"].fillna(0), capsize=3,
             color=VARIANT_COLORS[variant], label=variant)
ax_d.set_xlabel("hidden layers n_h")
ax_d.set_ylabel("test accuracy")
ax_d.set_ylim(0, 1)
ax_d.legend(frameon=False)

recurrent = recurrent.assign(n_h=recurrent["n_hidden_layers"])
one_layer = recurrent[recurrent["n_h"] == recurrent["n_h"].min()]
order = [v for v in ("sCtl", "sProp", "aCtl", "aProp") if v in set(one_layer["axis:variant"])]
if order:
    mean_sd_bars(ax_e, top_cells(one_layer, ["axis:variant"]), "axis:variant", order, VARIANT_COLORS)
    ax_e.set_ylabel("test accuracy (recurrent)")
else:
    note(ax_e, "no recurrent cells in this configuration")
asym = top_cells(recurrent[recurrent["axis:variant"].isin(["aCtl", "aProp"])], ["axis:variant", "n_h"])
for variant in ("aCtl", "aProp"):
    stats = asym[asym["axis:variant"] == variant].groupby("n_h")["test"].agg(["mean", "std"])
    ax_f.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3,
                  color=VARIANT_COLORS[variant], label=variant)
ax_f.set_xlabel("hidden layers n_h")
ax_f.set_ylabel("test accuracy (asymptotic, recurrent)")
ax_f.set_ylim(0, 1)
ax_f.set_xticks(np.unique(recurrent["n_h"]))
ax_f.legend(frameon=False)
panel_letters([ax_a, ax_b, ax_c, ax_d, ax_e, ax_f])
save(fig, snakemake.output.pdf, snakemake.output.png)
