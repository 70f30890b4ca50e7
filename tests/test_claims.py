"""Claims on hand-made result tables: each passes where it should and fails where it should."""

import pandas as pd

from surrogate_study.claims import check_claims, claims_markdown

T = {"shape_spread_max": 0.1, "control_margin_min": 0.05, "large_beta": 100.0, "top_cells": 2,
     "sensitivity_gap_min": 0.1, "control_gap_max": 0.1, "plateau_fraction": 0.9, "collapse_fraction": 0.5}


def cells(rows, **common):
    frame = pd.DataFrame([{**common, **row} for row in rows])
    frame["cell"] = [f"c{i}" for i in range(len(frame))]
    frame["status"] = frame.get("status", "ok")
    if "valid_accuracy" not in frame:
        frame["valid_accuracy"] = frame["test_accuracy"]
    frame["valid_accuracy"] = frame["valid_accuracy"].fillna(frame["test_accuracy"])
    return frame


def shape_tables(esser=0.9, constant=0.6, true=0.1):
    shape = cells([{"shape": s, "test_accuracy": a, "seed": seed}
                   for s, a in (("superspike", 0.95), ("sigmoid", 0.93), ("esser", esser)) for seed in (0, 1)]
                  + [{"shape": "superspike", "test_accuracy": 0.2, "valid_accuracy": 0.1, "seed": 0}])
    control = cells([{"shape": "constant", "test_accuracy": constant, "seed": 0}])
    sg = cells([{"shape": "true", "test_accuracy": true, "seed": 0}, {"shape": "superspike", "test_accuracy": 0.5,
                                                                       "seed": 0}])
    return {"shape": shape, "shape_control": control, "sg_vs_true": sg}


def scale_table(adr=0.3, actl=0.85, large=True):
    beta = 100.0 if large else 10.0
    rows = []
    for variant, accuracy in (("sCtl", 0.9), ("aCtl", actl), ("aDR", adr)):
        rows += [{"axis:variant": variant, "beta": beta, "test_accuracy": accuracy + d, "n_hidden_layers": 1}
                 for d in (0.0, -0.02)]
        rows.append({"axis:variant": variant, "beta": 1.0, "test_accuracy": 0.99, "n_hidden_layers": 1})
    return cells(rows)


def recurrent_table(aprop=0.2):
    rows = [{"axis:variant": v, "beta": 100.0, "test_accuracy": a, "n_hidden_layers": 1}
            for v, a in (("sCtl", 0.8), ("aCtl", 0.8), ("aProp", aprop))]
    rows.append({"axis:variant": "aProp", "beta": 100.0, "test_accuracy": 0.05, "n_hidden_layers": 2})
    return cells(rows)


def sparsity_table(sparsest=0.2):
    rows = [{"axis:lower_bound": "on", "nu_up": nu, "mean_spikes": m, "test_accuracy": a}
            for nu, m, a in ((0.01, 0.01, sparsest), (0.1, 0.1, 0.85), (1.0, 1.0, 0.9), (10.0, 5.0, 0.9))]
    rows.append({"axis:lower_bound": "off", "nu_up": 0.01, "mean_spikes": 0.0, "test_accuracy": 0.1})
    return cells(rows)


def verdicts(tables):
    return {r.claim.split()[0]: r for r in check_claims(tables, T)}


def all_tables(**changes):
    tables = {**shape_tables(), "scale": scale_table(), "scale_recurrent": recurrent_table(),
              "sparsity": sparsity_table()}
    tables.update(changes)
    return tables


def test_every_claim_passes_on_results_that_show_it():
    results = verdicts(all_tables())
    assert {k: r.verdict for k, r in results.items()} == {"1": "pass", "2a": "pass", "2b": "pass", "3": "pass"}
    assert "critical activity 0.1 " in results["3"].value


def test_shape_claim_fails_when_a_shape_lags_or_controls_keep_up():
    assert verdicts(all_tables(**shape_tables(esser=0.7)))["1"].verdict == "fail"
    assert verdicts(all_tables(**shape_tables(constant=0.92)))["1"].verdict == "fail"


def test_shape_claim_selects_on_validation_not_test():
    # the superspike cell with test 0.2 has validation 0.1: it never wins, so the claim still passes
    result = verdicts(all_tables())["1"]
    assert "superspike 0.950" in result.value


def test_scale_claims_fail_without_a_gap_or_with_a_moving_control():
    assert verdicts(all_tables(scale=scale_table(adr=0.88)))["2a"].verdict == "fail"
    assert verdicts(all_tables(scale=scale_table(actl=0.5)))["2a"].verdict == "fail"
    assert verdicts(all_tables(scale_recurrent=recurrent_table(aprop=0.78)))["2b"].verdict == "fail"


def test_diverged_cells_count_as_failures():
    table = scale_table(adr=0.9)
    table.loc[table["axis:variant"] == "aDR", ["status", "valid_accuracy", "test_accuracy"]] = ["diverged", None, None]
    assert verdicts(all_tables(scale=table))["2a"].verdict == "pass"


def test_sparse_claim_fails_without_collapse():
    assert verdicts(all_tables(sparsity=sparsity_table(sparsest=0.86)))["3"].verdict == "fail"


def test_missing_results_are_not_run():
    results = verdicts({"shape": shape_tables()["shape"]})
    assert {k: r.verdict for k, r in results.items()} == {"1": "not-run", "2a": "not-run", "2b": "not-run",
                                                          "3": "not-run"}
    assert "constant" in results["1"].value
    no_large_beta = verdicts(all_tables(scale=scale_table(large=False)))["2a"]
    assert no_large_beta.verdict == "not-run"


def test_markdown_has_one_row_per_claim():
    text = claims_markdown(check_claims(all_tables(), T))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 5  # header + 4 claims
    assert text.count("| pass |") == 4
