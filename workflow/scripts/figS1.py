"""Fig. S1 — the claims under each reconstruction choice: one panel per claim part, each alternative's difference
of seed means ± k·SE against the claim's threshold (dashed), coloured by the part's verdict (results/sensitivity.csv)."""

import sys

import matplotlib.pyplot as plt
import pandas as pd

from surrogate_study.analysis.sensitivity import CLAIM_TITLES, PART_TITLES, PARTS, read_numbers
from surrogate_study.figures.style import apply_style, caption, panel_letters, save

VERDICT_COLORS = {"pass": "#029e73", "fail": "#d55e00", "inconclusive": "0.5", "not-run": "0.8"}

snakemake = globals()["snakemake"]
sys.stderr = open(snakemake.log[0], "w", buffering=1)
apply_style()
frame = read_numbers(snakemake.input.numbers)
alternatives = list(snakemake.params.spec["alternatives"])
panels = [(claim, part) for claim in PARTS for part in PARTS[claim] if claim in set(frame["claim"])]
columns = 2
rows = max(1, -(-len(panels) // columns))
fig, axes = plt.subplots(rows, columns, figsize=(9.5, 2.4 * rows), squeeze=False, layout="constrained")
x = range(len(alternatives))
for ax, (claim, part) in zip(axes.flat, panels):
    group = frame[(frame["claim"] == claim) & (frame["part"] == part)].set_index("alternative").reindex(alternatives)
    for i, alternative in enumerate(alternatives):
        row = group.loc[alternative]
        if pd.isna(row["value"]):
            ax.text(i, 0.5, "n/a" if row["claim_verdict"] == "n/a" else "–", ha="center", va="center", fontsize=7,
                    color="0.5", transform=ax.get_xaxis_transform())
            continue
        ax.errorbar(i, row["value"], yerr=0 if pd.isna(row["k_se"]) else row["k_se"], fmt="o", ms=4, capsize=3,
                    color=VERDICT_COLORS.get(row["part_verdict"], "k"))
    known = group.dropna(subset=["threshold"])
    if not known.empty:
        ax.axhline(known["threshold"].iloc[0], color="0.3", ls="--", lw=0.8)
        bound = "≤" if known["direction"].iloc[0] == "at most" else "≥"
        ax.set_title(f"claim {CLAIM_TITLES[claim].split(' ', 1)[0]}: {PART_TITLES[(claim, part)]} "
                     f"{bound} {known['threshold'].iloc[0]:g}", fontsize=8)
    ax.set_xticks(list(x), alternatives, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("test accuracy difference", fontsize=7)
for ax in list(axes.flat)[len(panels):]:
    ax.set_visible(False)
handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in VERDICT_COLORS.items() if v != "not-run"]
fig.legend(handles=handles, loc="outside upper center", ncol=3, frameon=False, fontsize=7,
           title=f"part verdict; error bars ± {snakemake.params.uncertainty_k:g}·SE over seeds; dashed: threshold",
           title_fontsize=7)
caption(fig, "Alternatives: " + "; ".join(f"{name} = {about['label']}"
                                          for name, about in snakemake.params.spec["alternatives"].items()) + ".")
panel_letters(list(axes.flat)[:len(panels)])
save(fig, snakemake.output.pdf, snakemake.output.png, snakemake=snakemake)
