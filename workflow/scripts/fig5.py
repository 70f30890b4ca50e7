"""Fig. 5 — sensitive to scale: asymptotic surrogates with gradient flow through reset or recurrence.

(a) σ′; (b) learning curves of the best cells; (c) the claim-2a top cells per variant; (d) the same per n_h,
scale vs reset separated (sCtl, aCtl, sDR, aDR); (e) recurrent variants (claim 2b); (f) aCtl vs aProp per n_h;
(g) test accuracy vs β at each variant's best η (claim 2a, β-resolved). Bars and points: mean over seeds,
error bars: SD over seeds, from the panel tables results/panels/fig5*.csv.
"""

import sys

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import pandas as pd
import torch

from surrogate_study.analysis.choices import choices_line
from surrogate_study.figures.style import VARIANT_COLORS, VARIANT_ORDER, apply_style, note, panel_letters, caption, save, shape_label
from surrogate_study.plan.shapes import display_order
from surrogate_study.model.surrogates import Surrogate

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
scale = pd.read_csv(snakemake.input.scale)
history = pd.read_csv(snakemake.input.scale_history)
panels = {name: pd.read_csv(snakemake.input[name]) for name in ("beta", "c", "d", "e", "f")}
best_runs, top, claim_top = snakemake.params.best_runs, snakemake.params.top_cells, snakemake.params.claim_top_cells


def seeds(table: pd.DataFrame) -> str:
    counts = sorted(set(table["n"])) if not table.empty else [0]
    return "n = " + "/".join(map(str, counts)) + " seed(s)"


def ordered(labels) -> list[str]:
    return [v for v in VARIANT_ORDER if v in set(labels)]


def bars(ax, table: pd.DataFrame) -> None:
    """One bar per variant at the seed mean, ± SD over seeds."""
    order = ordered(table["axis:variant"])
    stats = table.set_index("axis:variant").reindex(order)
    ax.bar(range(len(order)), stats["mean"], yerr=stats["sd"], capsize=3,
           color=[VARIANT_COLORS.get(v, "0.5") for v in order])
    ax.set_xticks(range(len(order)), order)
    ax.set_ylim(0, 1)


def grouped_bars(ax, table: pd.DataFrame) -> None:
    """Bars per n_h, one per variant, seed mean ± SD."""
    order = ordered(table["axis:variant"])
    width = 0.8 / max(1, len(order))
    for i, variant in enumerate(order):
        stats = table[table["axis:variant"] == variant].set_index("n_hidden_layers").sort_index()
        ax.bar(stats.index + (i - (len(order) - 1) / 2) * width, stats["mean"], width, yerr=stats["sd"],
               capsize=2, color=VARIANT_COLORS.get(variant, "0.5"), label=variant)
    ax.set_xticks(sorted(table["n_hidden_layers"].unique()))
    ax.set_xlabel("hidden layers n_h")
    ax.set_ylim(0, 1)
    # legend handles drawn explicitly and above the axes: over the bars, the bar handles came out white
    handles = [Patch(facecolor=VARIANT_COLORS.get(v, "0.5"), label=v) for v in order]
    ax.legend(handles=handles, frameon=False, fontsize=7, ncol=len(order), loc="lower left", bbox_to_anchor=(0, 1.0))


fig = plt.figure(figsize=(13, 6), layout="constrained")
grid = fig.add_gridspec(2, 4)
ax_a, ax_b, ax_c = (fig.add_subplot(grid[0, i]) for i in range(3))
ax_d, ax_e, ax_f = (fig.add_subplot(grid[1, i]) for i in range(3))
ax_g = fig.add_subplot(grid[:, 3])

# σ′ of the shape(s) the scale study trains with (SuperSpike in the paper; a plugin's shape when the config names one)
x = torch.linspace(-1.0, 1.0, 801)
scale_shapes = display_order(scale["shape"]) or ["superspike"]
for shape, style in zip(scale_shapes, ["-", "--", ":", "-."] * len(scale_shapes)):
    for i, beta in enumerate(snakemake.params.betas):
        derivative = Surrogate(shape, beta, "asymptotic").derivative(x)
        label = f"β = {beta:g}" + (f" ({shape_label(shape)})" if len(scale_shapes) > 1 else "")
        ax_a.plot(x, derivative, ls=style, color=f"C{i}", label=label)
ax_a.set_yscale("log")
ax_a.set_xlabel("U − ϑ")
ax_a.set_ylabel(f"asymptotic {' / '.join(map(shape_label, scale_shapes))} σ′")
ax_a.legend(frameon=False, fontsize=7)

for variant in ordered(scale["axis:variant"]):
    cells = scale[scale["axis:variant"] == variant]
    best = cells.sort_values(["valid_accuracy", "cell"], ascending=[False, True]).head(best_runs)["cell"]
    for i, cell in enumerate(best):
        curve = history[history["cell"] == cell]
        ax_b.plot(curve["epoch"], curve["train_accuracy"], color=VARIANT_COLORS.get(variant, "0.5"), lw=0.8,
                  label=variant if i == 0 else None)
ax_b.set_xlabel("epoch")
ax_b.set_ylabel(f"training accuracy ({best_runs} best cells)")
ax_b.set_ylim(0, 1)
ax_b.legend(frameon=False, fontsize=7)

bars(ax_c, panels["c"])
ax_c.set_ylabel(f"test accuracy, mean of {claim_top} best cells\nmean ± SD over seeds ({seeds(panels['c'])})")

grouped_bars(ax_d, panels["d"])
ax_d.set_ylabel(f"test accuracy, {top} best cells\n(± SD, {seeds(panels['d'])})")

if panels["e"].empty:
    note(ax_e, "no recurrent cells in this configuration")
else:
    bars(ax_e, panels["e"])
    ax_e.set_ylabel(f"test accuracy (recurrent, n_h = 1)\n(± SD, {seeds(panels['e'])})")

for variant in ordered(panels["f"]["axis:variant"]):
    stats = panels["f"][panels["f"]["axis:variant"] == variant].sort_values("n_hidden_layers")
    ax_f.errorbar(stats["n_hidden_layers"], stats["mean"], yerr=stats["sd"], marker="o", capsize=3,
                  color=VARIANT_COLORS.get(variant, "0.5"), label=variant)
ax_f.set_xlabel("hidden layers n_h")
ax_f.set_ylabel(f"test accuracy (asymptotic, recurrent)\n(± SD, {seeds(panels['f'])})")
ax_f.set_ylim(0, 1)
if not panels["f"].empty:
    ax_f.set_xticks(sorted(panels["f"]["n_hidden_layers"].unique()))
ax_f.legend(frameon=False, fontsize=7)

curves = panels["beta"]
for variant in ordered(curves["axis:variant"]):
    stats = curves[curves["axis:variant"] == variant].sort_values("beta")
    ax_g.errorbar(stats["beta"], stats["mean"], yerr=stats["sd"], marker="o", capsize=3,
                  color=VARIANT_COLORS.get(variant, "0.5"), label=f"{variant} (η = {stats['lr'].iloc[0]:g})")
ax_g.axvline(snakemake.params.large_beta, color="0.6", lw=0.6, ls=":")
ax_g.set_xscale("log")
ax_g.set_xlabel("β")
ax_g.set_ylabel(f"test accuracy at each variant's best η\n(mean ± SD, {seeds(curves)})")
ax_g.set_ylim(0, 1)
ax_g.set_title("dotted: claim 2a's large-β bound", fontsize=8)
ax_g.legend(frameon=False, fontsize=7)
panel_letters([ax_a, ax_b, ax_c, ax_d, ax_e, ax_f, ax_g])
caption(fig, choices_line([pd.read_csv(path) for path in snakemake.input.studies]))
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
