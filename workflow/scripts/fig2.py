"""Fig. 2 — SG learning works, the true gradient does not: (a) sketch, (b) learning curves, (c) traces."""

import sys

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from surrogate_study.analysis.choices import choices_line
from surrogate_study.figures.style import SHAPE_LABELS, apply_style, panel_letters, caption, save, shape_color

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
table = pd.read_csv(snakemake.input.table)
history = pd.read_csv(snakemake.input.history).merge(table[["cell", "shape", "seed"]], on="cell")
traces = pd.read_csv(snakemake.input.traces)

fig = plt.figure(figsize=(9, 5.6), layout="constrained")
grid = fig.add_gridspec(2, 3)
sketch = fig.add_subplot(grid[0, 0])
layers = [(5, "input"), (6, "hidden LIF"), (3, "readout")]
positions = [[i - (n - 1) / 2 for i in range(n)] for n, _ in layers]
for x, ((n, name), ys) in enumerate(zip(layers, positions)):
    sketch.scatter([x] * n, ys, s=80, color=["0.6", "C0", "C3"][x], zorder=3)
    sketch.text(x, 3.6, name, ha="center", fontsize=8)
for x, (source, target) in enumerate(zip(positions[:-1], positions[1:])):
    for y0 in source:
        for y1 in target:
            sketch.plot([x, x + 1], [y0, y1], color="0.8", lw=0.4, zorder=1)
sketch.set_xlim(-0.5, 2.5)
sketch.set_ylim(-4, 4.2)
sketch.axis("off")

curves = fig.add_subplot(grid[0, 1:])
for shape, group in history.groupby("shape"):
    sns.lineplot(data=group, x="epoch", y="test_accuracy", ax=curves, color=shape_color(shape),
                 label=SHAPE_LABELS.get(shape, shape), errorbar="sd")
curves.set_ylabel("test accuracy")
curves.set_ylim(0, 1)
curves.legend(frameon=False)

label = int(traces["label"].iloc[0])
correct = bool(traces["correct"].iloc[0])
verdict = (f"a test input of class {label} that the trained network classifies correctly" if correct else
           f"a test input of class {label}; the trained network classifies none correctly "
           f"(predicts {int(traces['predicted'].iloc[0])})")
trace_axes = []
for column, phase in enumerate(["before", "after"]):
    sub = traces[traces["phase"] == phase]
    ax = fig.add_subplot(grid[1, column])
    spikes = sub[sub["kind"] == "spike"]
    ax.scatter(spikes["time"], spikes["index"], s=3, marker="|", color="k")
    ax.set_xlim(0, traces["time"].max() + 1)
    ax.set_ylim(-1, snakemake.params.hidden_units)
    if spikes.empty:
        ax.text(0.5, 0.5, "no hidden spikes", transform=ax.transAxes, ha="center", color="0.4", fontsize=8)
    ax.set_title(f"hidden spikes, {phase} training", fontsize=8)
    if column == 0:
        ax.annotate(f"(c) {verdict}", (0, 1.22), xycoords="axes fraction", fontsize=8)
    ax.set_xlabel("time step")
    ax.set_ylabel("neuron")
    trace_axes.append(ax)
readout_ax = fig.add_subplot(grid[1, 2])
for phase, style in (("before", ":"), ("after", "-")):
    sub = traces[(traces["phase"] == phase) & (traces["kind"] == "readout")]
    for index, group in sub.groupby("index"):
        readout_ax.plot(group["time"], group["value"], style, lw=1.2 if index == label else 0.5,
                        color="C3" if index == label else "0.6")
readout_ax.set_title(f"readout (true class {label} in red; dotted: before)", fontsize=8)
readout_ax.set_xlabel("time step")
panel_letters([sketch, curves, trace_axes[0]])
caption(fig, choices_line([pd.read_csv(path) for path in snakemake.input.studies]))
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
