"""Fig. 6 — sparse activity: test accuracy vs mean hidden spikes per neuron per input."""

import sys

import matplotlib.pyplot as plt
import pandas as pd

from surrogate_study.aggregate import critical_activity
from surrogate_study.figstyle import apply_style, dataset_label, note, panel_letters, save

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
table = pd.read_csv(snakemake.input.table)
table = table[table["status"] == "ok"]
fraction = snakemake.params.collapse_fraction

fig, (ax, missing_ax) = plt.subplots(1, 2, figsize=(8, 3.4), gridspec_kw={"width_ratios": [3, 1]}, layout="constrained")
styles = {"on": "-", "off": "--"}
for (dataset, lower), group in table.groupby(["dataset", "axis:lower_bound"]):
    group = group.sort_values("mean_spikes")
    line, = ax.plot(group["mean_spikes"], group["test_accuracy"], styles.get(str(lower), "-"), marker="o",
                    label=f"{dataset_label(dataset)}, lower bound {lower}")
    critical = critical_activity(group["mean_spikes"], group["test_accuracy"], fraction)
    if critical is not None:
        ax.axvline(critical, color=line.get_color(), lw=0.6, ls=":")
        ax.annotate(f"{critical:.2g}", (critical, 0.02), color=line.get_color(), fontsize=7)
ax.set_xscale("symlog", linthresh=0.01)  # silent networks (0 spikes) stay on the axis
ax.set_xlim(left=0)
ax.set_xlabel("mean hidden spikes per neuron per input")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.legend(frameon=False, fontsize=7)
ax.set_title(f"dotted: critical activity (accuracy ≥ {fraction:g} × best)", fontsize=8)
absent = [dataset_label(d) for d in snakemake.params.all_datasets if d not in set(table["dataset"])]
note(missing_ax, "not run in this configuration:\n" + "\n".join(absent) if absent else "all datasets run")
panel_letters([ax])
save(fig, snakemake.output.pdf, snakemake.output.png)
