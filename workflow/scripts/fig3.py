"""Fig. 3 — robust to shape: (a) σ′ at several β; (b) seed-mean test accuracy over β × η per shape; (c) best per
shape (claim 1's selection), mean ± SD over seeds. Draws the panel tables results/panels/fig3b.csv, fig3c.csv."""

import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from surrogate_study.analysis.choices import choices_line
from surrogate_study.figures.style import apply_style, panel_letters, caption, save, shape_color, shape_label
from surrogate_study.plan.shapes import CONTROL_SHAPES, display_order
from surrogate_study.model.surrogates import Surrogate

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
heat = pd.read_csv(snakemake.input.heat)  # per shape, β, η: mean, sd, n over seeds
best = pd.read_csv(snakemake.input.best)  # claim 1's selection per shape: mean, sd, n over seeds
# every SG shape of the shape study: the paper's three, then any other (a plugin's), one column each
shapes = [s for s in display_order(heat["shape"]) if s not in CONTROL_SHAPES]


def n_seeds(table: pd.DataFrame, shape: str) -> str:
    counts = sorted(set(table.loc[table["shape"] == shape, "n"]))
    return "/".join(map(str, counts)) + (" seed" if counts == [1] else " seeds")


betas = snakemake.params.betas

columns = max(3, len(shapes)) + 1  # the last column of the second row holds the bars of panel c
fig, axes = plt.subplots(2, columns, figsize=(2.75 * columns, 5.4), layout="constrained", squeeze=False)
x = torch.linspace(-1.5, 1.5, 601)
for ax, shape in zip(axes[0], shapes):
    for beta, alpha in zip(betas, np.linspace(0.35, 1.0, len(betas))):
        ax.plot(x, Surrogate(shape, beta).derivative(x), color=shape_color(shape), alpha=alpha, label=f"β = {beta:g}")
    ax.set_title(shape_label(shape))
    ax.set_xlabel("U − ϑ")
axes[0][0].set_ylabel("σ′ (normalized)")
axes[0][0].legend(frameon=False, fontsize=7)

heat_axes = []
for ax, shape in zip(axes[1], shapes):
    grid = (heat[heat["shape"] == shape].pivot(index="beta", columns="lr", values="mean")
            .sort_index(ascending=False))
    sns.heatmap(grid, ax=ax, vmin=0, vmax=1, cmap="viridis", annot=True, fmt=".2f", cbar=False,
                annot_kws={"fontsize": 6})
    ax.set_title(f"{shape_label(shape)}: test accuracy, mean of {n_seeds(heat, shape)}", fontsize=8)
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("β")
    heat_axes.append(ax)
for ax in list(axes[0][len(shapes):]) + list(axes[1][len(shapes):columns - 1]):
    ax.axis("off")

bars = axes[1][columns - 1]
bars.bar(range(len(best)), best["mean"], yerr=best["sd"], capsize=3,
         color=[shape_color(s) for s in best["shape"]])
bars.set_xticks(range(len(best)), [shape_label(s) for s in best["shape"]], rotation=45, ha="right")
bars.set_ylim(0, 1)
seeds = sorted(set(best["n"]))
bars.set_ylabel("best test accuracy (selected on validation)\n" + f"mean ± SD over n = {'/'.join(map(str, seeds))} seed(s)")
panel_letters([axes[0][0], heat_axes[0], bars])
caption(fig, choices_line([pd.read_csv(path) for path in snakemake.input.studies]))
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
