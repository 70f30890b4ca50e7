"""Fig. 4 — robust across tasks: best test accuracy per surrogate shape for each task and architecture,
mean ± SD over seeds (draws the panel table results/panels/fig4.csv)."""

import sys

import matplotlib.pyplot as plt
import pandas as pd

from surrogate_study.analysis.choices import choices_line
from surrogate_study.figures.style import (SHAPE_LABELS, apply_style, caption, dataset_label, not_run_line, panel_letters,
                                           save, shape_color)

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
best = pd.read_csv(snakemake.input.best)  # per dataset, n_h, recurrent, shape: mean, sd, n over seeds
best["task"] = best["dataset"].map(dataset_label) + "\nn_h=" + best["n_hidden_layers"].astype(str) + \
    best["recurrent"].map({True: " rec", False: ""})
tasks = sorted(best["task"].unique())

fig, ax = plt.subplots(figsize=(1.2 + 1.1 * max(3, len(tasks)), 3.4), layout="constrained")
shapes = [s for s in ("superspike", "sigmoid", "esser") if s in set(best["shape"])]
width = 0.8 / max(1, len(shapes))
for i, shape in enumerate(shapes):
    values = best[best["shape"] == shape].set_index("task").reindex(tasks)
    ax.bar([t + (i - (len(shapes) - 1) / 2) * width for t in range(len(tasks))], values["mean"], width,
           yerr=values["sd"], capsize=2, color=shape_color(shape), label=SHAPE_LABELS[shape])
ax.set_xticks(range(len(tasks)), tasks)
ax.set_ylim(0, 1)
seeds = "/".join(map(str, sorted(set(best["n"]))))
ax.set_ylabel(f"best test accuracy\nmean ± SD over n = {seeds} seed(s)")
ax.legend(frameon=False, ncol=len(shapes), fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0))  # above the bars
caption(fig, not_run_line(snakemake.params.all_datasets, best["dataset"].unique()),
        choices_line([pd.read_csv(path) for path in snakemake.input.studies]))
panel_letters([ax])
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
