"""One figure style for the whole study: fonts, a colour per surrogate shape, panel letters, saving."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from surrogate_study.provenance import stamps as provenance  # noqa: E402
from surrogate_study.storage.atomic import write_atomically  # noqa: E402

SHAPE_ORDER = ["superspike", "sigmoid", "esser", "constant", "true"]
SHAPE_LABELS = {"superspike": "SuperSpike", "sigmoid": "Sigmoid′", "esser": "Esser", "constant": "constant",
                "true": "true gradient"}
_PALETTE = sns.color_palette("colorblind", 10)
SHAPE_COLORS = dict(zip(SHAPE_ORDER, _PALETTE))
#: Colours for shapes outside SHAPE_ORDER (plugins), chosen by a hash of the name: the same in every figure.
EXTRA_SHAPE_COLORS = _PALETTE[len(SHAPE_ORDER):]
DATASET_LABELS = {"randman": "Randman", "mnist5k": "MNIST, 5k subset", "mnist": "MNIST",
                  "fashion_mnist": "Fashion-MNIST", "shd": "SHD"}
VARIANT_COLORS = {"sCtl": "#0173b2", "aCtl": "#de8f05", "sDR": "#56b4e9", "aDR": "#d55e00", "sProp": "#029e73",
                  "aProp": "#cc78bc"}
VARIANT_ORDER = ["sCtl", "aCtl", "sDR", "aDR", "sProp", "aProp"]


def apply_style() -> None:
    """Seaborn 'ticks' theme with small fonts, the same for every figure."""
    sns.set_theme(style="ticks", context="paper", font_scale=0.9,
                  rc={"axes.spines.right": False, "axes.spines.top": False, "figure.dpi": 150,
                      "savefig.bbox": "tight", "font.family": "DejaVu Sans"})


def dataset_label(name: str) -> str:
    """How a dataset is named in figures (the offline subset says it is one)."""
    return DATASET_LABELS.get(name, name)


def shape_color(shape: str):
    """The shape's colour; a shape from a plugin gets one of :data:`EXTRA_SHAPE_COLORS` (CRC-32 of its name)."""
    if shape in SHAPE_COLORS:
        return SHAPE_COLORS[shape]
    return EXTRA_SHAPE_COLORS[zlib.crc32(shape.encode()) % len(EXTRA_SHAPE_COLORS)]


def shape_label(shape: str) -> str:
    """How a shape is named in figures (a plugin's shape by its registered name)."""
    return SHAPE_LABELS.get(shape, shape)


def panel_letters(axes: Sequence[plt.Axes]) -> None:
    """Bold a, b, c, … at the top left of each panel."""
    for letter, ax in zip("abcdefghijklmnop", axes):
        text = getattr(ax, "text2D", ax.text)  # 3-D axes place 2-D text with text2D
        text(-0.18, 1.08, letter, transform=ax.transAxes, fontsize=11, fontweight="bold", va="top")


def note(ax: plt.Axes, text: str) -> None:
    """An explanatory message in an otherwise empty panel (e.g. a dataset that was not run)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8, color="0.35", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def caption(fig: plt.Figure, *lines: str) -> None:
    """Caption lines under the figure (what the config did not run, the reconstruction choices away from their
    defaults): part of the saved figure, so that a figure file names what it shows."""
    text = "\n".join(line for line in lines if line)
    if text:
        fig.text(0.0, 0.0, text, ha="left", va="top", fontsize=6.5, color="0.3", wrap=True,
                 transform=fig.transFigure)


def not_run_line(all_datasets: Sequence[str], present: Sequence[str]) -> str:
    """"Not run in this configuration: …" for the datasets a figure could draw and the config did not run."""
    absent = [dataset_label(d) for d in all_datasets if d not in set(present)]
    return f"Not run in this configuration: {', '.join(absent)}." if absent else ""


def save(fig: plt.Figure, pdf_path: str, png_path: str, record: Optional[Mapping[str, Any]] = None,
         snakemake: Any = None) -> None:
    """Write the figure as PDF and PNG, each atomically (a killed job leaves no half-written figure).

    Both files carry a provenance record (:mod:`surrogate_study.provenance.stamps`): ``record`` if given,
    else the one of the Snakemake script object ``snakemake`` (its inputs and config), else one
    without inputs.
    """
    if record is None:
        record = provenance.from_snakemake(snakemake) if snakemake is not None else provenance.collect()
    for path in (pdf_path, png_path):
        fmt = Path(path).suffix.lstrip(".").lower()
        metadata = provenance.matplotlib_metadata(record, fmt)
        write_atomically(path, lambda tmp: fig.savefig(tmp, format=fmt, metadata=metadata),
                         suffix=Path(path).suffix)
    plt.close(fig)
