"""Fig. 1 — Randman: (a) 1-D random manifolds in 3-D for several smoothness α; (b) input spike rasters."""

import sys

import matplotlib.pyplot as plt
import pandas as pd

from surrogate_study.figures.style import apply_style, panel_letters, save

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
manifolds = pd.read_csv(snakemake.input.manifolds)
rasters = pd.read_csv(snakemake.input.rasters)
alphas = sorted(manifolds["alpha"].unique())
labels = sorted(rasters["label"].unique())

fig = plt.figure(figsize=(2.2 * max(len(alphas), len(labels)), 4.6), layout="constrained")
grid = fig.add_gridspec(2, max(len(alphas), len(labels)))
axes = []
for i, alpha in enumerate(alphas):
    ax = fig.add_subplot(grid[0, i], projection="3d")
    curve = manifolds[manifolds["alpha"] == alpha]
    ax.plot(curve["e1"], curve["e2"], curve["e3"], lw=0.8)
    ax.set_title(f"α = {alpha:g}")
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    ax.set_zticklabels([])
    axes.append(ax)
raster_axes = []
for i, label in enumerate(labels):
    ax = fig.add_subplot(grid[1, i])
    spikes = rasters[(rasters["label"] == label) & (rasters["sample"] == 0)]
    ax.scatter(spikes["time"], spikes["unit"], s=4, marker="|", color="k")
    ax.set_title(f"class {label}")
    ax.set_xlabel("time step")
    if i == 0:
        ax.set_ylabel("input unit")
    raster_axes.append(ax)
panel_letters([axes[0], raster_axes[0]])
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
