"""The sensitivity study's decisions on hand-made tables: each claim decided per alternative as the claims table
decides it, a shape the alternative did not run taken from the default, n/a where an alternative has no cells,
and a verdict that flips named."""

import pandas as pd
import pytest

from surrogate_study.analysis.sensitivity import decide, flips, flips_markdown, to_frame, to_markdown

from claim_tables import T, recurrent_table, scale_table, shape_tables

SPEC = {"alternatives": {"default": {"label": "as the default"},
                         "gain": {"label": "another gain"},
                         "delay": {"label": "another delay", "unaffected": "feed-forward networks have no V"},
                         "peak": {"label": "Sigmoid′ peak", "unaffected": "SuperSpike only"}},
        "claims": {"1": ["s_shape"], "2a": ["s_scale"], "2b": ["s_rec"]}}


def tagged(frame: pd.DataFrame, alternative: str) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame["axis:alternative"] = alternative
    frame["cell"] = [f"{alternative}-{i}" for i in range(len(frame))]  # unique, as real cell ids
    return frame


def tables():
    shape = [tagged(pd.concat(shape_tables().values(), ignore_index=True), "default"),
             # under "gain", Esser collapses (0.5): the spread claim fails there
             tagged(pd.concat(shape_tables(esser=0.5).values(), ignore_index=True), "gain"),
             # "peak" ran Sigmoid′ only, at the default's accuracy: the other shapes come from the default
             tagged(pd.concat(shape_tables().values(), ignore_index=True).query("shape == 'sigmoid'"), "peak")]
    scale = [tagged(scale_table(), "default"), tagged(scale_table(), "gain")]
    rec = [tagged(recurrent_table(), "default"), tagged(recurrent_table(aprop=0.78), "delay")]
    return {"s_shape": pd.concat(shape, ignore_index=True), "s_scale": pd.concat(scale, ignore_index=True),
            "s_rec": pd.concat(rec, ignore_index=True)}


def test_each_claim_is_decided_per_alternative_and_flips_are_named():
    frame = to_frame(decide(tables(), SPEC, T), T)
    verdict = frame.drop_duplicates(["claim", "alternative"]).set_index(["claim", "alternative"])["claim_verdict"]
    assert verdict[("1", "default")] == "pass" and verdict[("1", "gain")] == "fail"
    assert verdict[("1", "peak")] == "pass"  # Sigmoid′ from "peak", the rest from the default
    assert verdict[("2a", "gain")] == "pass" and verdict[("2a", "delay")] == "n/a"
    assert verdict[("2b", "default")] == "pass" and verdict[("2b", "delay")] == "fail"  # aProp recovers
    assert verdict[("2b", "gain")] == "n/a"
    assert sorted(flips(frame)) == ["claim 1 under gain: pass → fail", "claim 2b under delay: pass → fail"]
    assert "- claim 1 under gain: pass → fail" in flips_markdown(frame)
    unchanged = frame[frame["alternative"].isin(["default", "peak"])]
    assert flips_markdown(unchanged).endswith("- none: every decided verdict is the default's.\n")
    spread = frame.query("claim == '1' and part == 'spread'").set_index("alternative")
    assert spread.loc["gain", "value"] == pytest.approx(0.95 - 0.5, abs=1e-9)
    assert spread.loc["gain", "k_se"] == pytest.approx(2 * spread.loc["gain", "se"])
    notes = frame.drop_duplicates(["claim", "alternative"]).set_index(["claim", "alternative"])["note"]
    assert notes[("1", "peak")] == "from the default's cells: constant, esser, superspike, true"
    assert notes[("2a", "delay")] == "feed-forward networks have no V"


def test_the_markdown_table_has_a_column_per_alternative_and_the_flips():
    frame = to_frame(decide(tables(), SPEC, T), T)
    text = to_markdown(frame, SPEC, T)
    header = next(line for line in text.splitlines() if line.startswith("| claim | part |"))
    assert header == "| claim | part | threshold | default | gain | delay | peak |"
    assert "- claim 2b under delay: pass → fail" in text
    assert "| 2b | aCtl − aProp | ≥ 0.1 |" in text
    assert "| 2a | \\|sCtl − aCtl\\| | ≤ 0.1 |" in text  # the absolute value's bars escaped
