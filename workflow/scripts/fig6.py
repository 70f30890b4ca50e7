"""Fig. 6 — sparse activity: test accuracy vs mean hidden spikes per neuron per input.

One panel per dataset (Randman first), one line per lower bound in it; points = seed means per ν_up, joined in ν_up order, with SD over seeds
in both accuracy (y) and activity (x). Draws the panel table results/panels/fig6.csv (claim 3's selection).
"""

import sys

import matplotlib.pyplot as plt
import pandas as pd

from surrogate_study.analysis.choices import choices_line
from surrogate_study.figures.style import apply_style, caption, dataset_label, not_run_line, note, panel_letters, save

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
points = pd.read_csv(snakemake.input.points)  # per dataset, lower bound, ν_up: mean/sd/n of accuracy and spikes
fraction = snakemake.params.collapse_fraction

datasets = sorted(points["dataset"].unique(), key=lambda d: (d != "randman", d)) if not points.empty else []
fig, axes = plt.subplots(1, max(1, len(datasets)), figsize=(3.6 * max(1, len(datasets)) + 0.6, 3.4), squeeze=False,
                         layout="constrained")
panels = list(axes[0])
if not datasets:
    note(panels[0], "no sparsity cells in this configuration")
styles = {"on": "-", "off": "--"}
seeds = "/".join(map(str, sorted(set(points["n"])))) if not points.empty else "0"
for ax, dataset in zip(panels, datasets):  # one panel per dataset: its chance level and activity range differ
    for lower, group in points[points["dataset"] == dataset].groupby("axis:lower_bound"):
        group = group.sort_values("nu_up")
        line = ax.errorbar(group["spikes_mean"], group["mean"], yerr=group["sd"],
                           xerr=group["spikes_sd"], ls=styles.get(str(lower), "-"), marker="o", ms=3,
                           capsize=2, label=f"lower bound {lower}")
        color = line.lines[0].get_color()
        critical = group.iloc[0]
        if pd.notna(critical.get("critical")):  # the crossing and its 95 % bootstrap interval over seeds
            ax.axvspan(critical["critical_low"], critical["critical_high"], color=color, alpha=0.15, lw=0)
            ax.axvline(critical["critical"], color=color, lw=0.6, ls=":")
            flag = " (imprecise)" if bool(critical["critical_imprecise"]) else ""
            ax.annotate(f"{critical['critical']:.2g}{flag}", (critical["critical"], 0.02), color=color, fontsize=7)
    ax.set_xscale("symlog", linthresh=0.01)  # silent networks (0 spikes) stay on the axis
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1)
    ax.set_title(dataset_label(dataset), fontsize=9)
    ax.set_xlabel("mean hidden spikes per neuron per input\n(mean ± SD over seeds)")
    ax.legend(frameon=False, fontsize=7)
if panels:
    panels[0].set_ylabel(f"test accuracy\n(mean ± SD over n = {seeds} seed(s))")
fig.suptitle(f"points in ν_up order; dotted: critical activity (accuracy crosses {fraction:g} × best, interpolated in "
             "log activity), band: its 95 % interval (bootstrap over seeds)", fontsize=8)
caption(fig, not_run_line(snakemake.params.all_datasets, datasets),
        choices_line([pd.read_csv(path) for path in snakemake.input.studies]))
panel_letters(panels[:len(datasets)])
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
