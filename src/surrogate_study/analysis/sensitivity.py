"""Claims 1, 2a and 2b re-decided under each reconstruction choice's alternative, one at a time
(figures/figS1.pdf and figures/sensitivity.md; config/sensitivity.yaml, docs/science.md).

Every study that the workflow config's ``sensitivity.claims`` names has an axis ``alternative`` whose named cases
are the alternatives (``default``: the choices of the run it is relative to). Under alternative A each claim is
decided exactly as in figures/claims.md (:mod:`surrogate_study.analysis.claims`), on A's cells of the claim's
studies:

- claim 1 (shape robustness): per shape and seed the best cell; spread of the SG shapes ≤ ``shape_spread_max`` and
  worst SG shape − better control ≥ ``control_margin_min``. A shape that A did not run (A cannot change it, e.g.
  Sigmoid′'s normalisation under SuperSpike) is taken from the default's cells, and the row says which;
- claim 2a (scale, reset; top cells): sCtl − aDR ≥ ``sensitivity_gap_min``, |sCtl − aCtl| ≤ ``control_gap_max``;
- claim 2b (scale, recurrence; one hidden layer): aCtl − aProp and |sCtl − aCtl|, the same thresholds.

Each part is a difference d of seed means with SE_d = √(SD_a²/n_a + SD_b²/n_b), decided at k·SE (k =
``claims.uncertainty_k``). An alternative with no cells for a claim is "n/a", with the reason the config gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pandas as pd

from surrogate_study.analysis.claims import (DEFAULT_UNCERTAINTY_K, ClaimResult, one_layer, scale_sensitivity,
                                             shape_robustness)
from surrogate_study.plan.sensitivity import ALTERNATIVE_AXIS

#: The parts of each claim, in the order of figS1's panels.
PARTS: dict[str, tuple[str, ...]] = {"1": ("spread", "margin"), "2a": ("gap", "control gap"),
                                     "2b": ("gap", "control gap")}
CLAIM_TITLES = {"1": "1 shape robustness", "2a": "2a scale sensitivity (reset)", "2b": "2b scale sensitivity (recurrence)"}
PART_TITLES = {("1", "spread"): "best − worst SG shape", ("1", "margin"): "worst SG shape − better control",
               ("2a", "gap"): "sCtl − aDR", ("2a", "control gap"): "|sCtl − aCtl|",
               ("2b", "gap"): "aCtl − aProp", ("2b", "control gap"): "|sCtl − aCtl|"}
COLUMN = f"axis:{ALTERNATIVE_AXIS}"


@dataclass
class SensitivityResult:
    """One claim under one alternative: the claims module's result, or n/a with its reason."""

    claim: str
    alternative: str
    verdict: str
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


def _claim_cells(tables: Mapping[str, pd.DataFrame], studies: Sequence[str]) -> pd.DataFrame:
    """The cells of a claim's studies (a cell two studies share, once), with their alternative as text."""
    frames = [tables[s] for s in studies if s in tables and not tables[s].empty]
    if not frames:
        return pd.DataFrame(columns=["cell", COLUMN])
    cells = pd.concat(frames, ignore_index=True).drop_duplicates("cell")
    return cells.assign(**{COLUMN: cells[COLUMN].astype(str)})


def _under(cells: pd.DataFrame, alternative: str) -> pd.DataFrame:
    return cells[cells[COLUMN] == alternative].reset_index(drop=True)


def _claim_one(cells: pd.DataFrame, default: pd.DataFrame, t: Mapping[str, Any]) -> tuple[ClaimResult, str]:
    missing = sorted(set(default["shape"]) - set(cells["shape"])) if not default.empty else []
    filled = pd.concat([cells, default[default["shape"].isin(missing)]], ignore_index=True)
    note = f"from the default's cells: {', '.join(missing)}" if missing else ""
    return shape_robustness(filled, filled, t), note


def decide(tables: Mapping[str, pd.DataFrame], spec: Mapping[str, Any],
           thresholds: Mapping[str, Any]) -> list[SensitivityResult]:
    """Every claim of ``spec["claims"]`` under every alternative of ``spec["alternatives"]`` (config order)."""
    results = []
    for claim, studies in spec["claims"].items():
        claim_cells = _claim_cells(tables, studies)
        default = _under(claim_cells, "default")
        for alternative, about in spec["alternatives"].items():
            cells = _under(claim_cells, alternative)
            if cells.empty:
                reason = about.get("unaffected") or "not run"
                results.append(SensitivityResult(claim, alternative, "n/a", note=reason))
                continue
            note = ""
            if claim == "1":
                result, note = _claim_one(cells, default, thresholds)
            elif claim == "2a":
                result = scale_sensitivity(cells, "aDR", CLAIM_TITLES[claim], thresholds)
            else:
                result = scale_sensitivity(one_layer(cells), "aProp", CLAIM_TITLES[claim], thresholds)
            if result.verdict == "not-run":
                note = "; ".join(filter(None, [note, result.value]))
            results.append(SensitivityResult(claim, alternative, result.verdict,
                                             dict(result.numbers.get("parts", {})), note))
    return results


def to_frame(results: Sequence[SensitivityResult], thresholds: Mapping[str, Any]) -> pd.DataFrame:
    """One row per claim part and alternative: value, SE, k·SE, threshold, direction, verdicts, note."""
    k = float(thresholds.get("uncertainty_k", DEFAULT_UNCERTAINTY_K))
    rows = []
    for r in results:
        for part in PARTS[r.claim]:
            numbers = r.parts.get(part, {})
            se = numbers.get("se")
            rows.append({"claim": r.claim, "part": part, "alternative": r.alternative,
                         "value": numbers.get("value"), "se": se, "k_se": None if se is None else k * se,
                         "threshold": numbers.get("threshold"), "direction": numbers.get("direction"),
                         "part_verdict": numbers.get("verdict", "n/a" if r.verdict == "n/a" else "not-run"),
                         "claim_verdict": r.verdict, "note": r.note})
    return pd.DataFrame(rows)


def read_numbers(path: str) -> pd.DataFrame:
    """results/sensitivity.csv as :func:`to_frame` wrote it ("n/a" is a verdict, not a missing value)."""
    return pd.read_csv(path, dtype={"claim": str}, keep_default_na=False, na_values=[""])


def flips(frame: pd.DataFrame) -> list[str]:
    """"claim under alternative: default verdict → verdict" for every decided claim whose verdict differs from the
    default's."""
    verdicts = frame.drop_duplicates(["claim", "alternative"]).set_index(["claim", "alternative"])["claim_verdict"]
    lines = []
    for (claim, alternative), verdict in verdicts.items():
        base = verdicts.get((claim, "default"))
        if alternative != "default" and verdict not in ("n/a",) and base is not None and verdict != base:
            lines.append(f"claim {claim} under {alternative}: {base} → {verdict}")
    return lines


def flips_markdown(frame: pd.DataFrame) -> str:
    """The claims report's section on the sensitivity study: the verdicts that change under an alternative."""
    changed = flips(frame)
    lines = ["## Verdicts that depend on a reconstruction choice", "",
             "Claims 1, 2a and 2b re-decided under each alternative of the sensitivity study, one at a time "
             "(figures/sensitivity.md, figures/figS1.pdf; docs/science.md, \"Reconstruction choices\"):", ""]
    return "\n".join(lines + ([f"- {line}" for line in changed] or ["- none: every decided verdict is the default's."])) + "\n"


def _cell_text(row: pd.Series) -> str:
    if row["claim_verdict"] == "n/a":
        return "n/a"
    if row["value"] is None or pd.isna(row["value"]):
        return f"– ({row['part_verdict']})"
    bound = "–" if row["k_se"] is None or pd.isna(row["k_se"]) else f"{row['k_se']:.3f}"
    return f"{row['value']:.3f} ± {bound} ({row['part_verdict']})"


def to_markdown(frame: pd.DataFrame, spec: Mapping[str, Any], thresholds: Mapping[str, Any],
                cost: Optional[str] = None) -> str:
    """figures/sensitivity.md: the claim × alternative table, the alternatives, the flips and notes."""
    k = float(thresholds.get("uncertainty_k", DEFAULT_UNCERTAINTY_K))
    alternatives = list(spec["alternatives"])
    lines = ["# Sensitivity of the claims to the reconstruction choices", "",
             f"Each claim re-decided under one alternative at a time (as figures/claims.md: per seed, mean over "
             f"seeds; value ± {k:g}·SE of the difference; pass / fail / inconclusive per part, the claim fails when a "
             "part fails). n/a: the alternative cannot change these networks.", "",
             "| claim | part | threshold | " + " | ".join(alternatives) + " |",
             "|---|---|---|" + "---|" * len(alternatives)]
    for (claim, part), group in frame.groupby(["claim", "part"], sort=False):
        by_alt = group.set_index("alternative")
        known = group.dropna(subset=["threshold"])
        threshold = "–" if known.empty else (("≤ " if known["direction"].iloc[0] == "at most" else "≥ ")
                                             + f"{known['threshold'].iloc[0]:g}")
        cells = [_cell_text(by_alt.loc[a]) if a in by_alt.index else "–" for a in alternatives]
        title = PART_TITLES.get((claim, part), part).replace("|", "\\|")  # |x| inside a Markdown table
        lines.append(f"| {claim} | {title} | {threshold} | " + " | ".join(cells) + " |")
    verdicts = frame.drop_duplicates(["claim", "alternative"])
    lines += ["", "| claim verdict | " + " | ".join(alternatives) + " |", "|---|" + "---|" * len(alternatives)]
    for claim, group in verdicts.groupby("claim", sort=False):
        by_alt = group.set_index("alternative")["claim_verdict"]
        lines.append(f"| {CLAIM_TITLES[claim]} | " + " | ".join(by_alt.get(a, "–") for a in alternatives) + " |")
    changed = flips(frame)
    lines += ["", "## Verdicts that depend on a choice", ""]
    lines += [f"- {line}" for line in changed] or ["- none: every decided verdict is the default's."]
    lines += ["", "## Alternatives", ""]
    lines += [f"- `{name}`: {about['label']}" for name, about in spec["alternatives"].items()]
    notes = verdicts[verdicts["note"].astype(str) != ""]
    if not notes.empty:
        lines += ["", "## Notes", ""]
        lines += [f"- claim {r.claim}, {r.alternative}: {r.note}" for r in notes.itertuples()]
    if cost:
        lines += ["", cost]
    return "\n".join(lines) + "\n"
