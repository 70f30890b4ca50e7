"""Claims on hand-made result tables with seeds: pass only when the seeds separate the values,
inconclusive inside the seed noise or with too few seeds, fail where the seeds show the opposite."""

import math

import pandas as pd
import pytest

from surrogate_study.analysis.claims import check_claims, claims_markdown, headline_metrics, shape_selection
from surrogate_study.analysis.panels import panel_table
from surrogate_study.analysis.seedstats import Stat, decide_at_least, decide_at_most, difference_se

from claim_tables import (NOISY, PARAMS, T, all_tables, recurrent_table, scale_table, shape_tables, sparsity_table,
                          summary, verdicts)

def test_a_difference_passes_only_beyond_threshold_and_uncertainty():
    tight_high, tight_low = Stat(0.9, 0.01, 3), Stat(0.6, 0.01, 3)
    assert decide_at_least(tight_high, tight_low, 0.1, 2.0) == "pass"
    # same means, seeds scattered by SD 0.2: 2·SE = 2·sqrt(2·0.04/3) = 0.327 > 0.3 → inside the noise
    assert difference_se(Stat(0.9, 0.2, 3), Stat(0.6, 0.2, 3)) == pytest.approx(math.sqrt(2 * 0.04 / 3))
    assert decide_at_least(Stat(0.9, 0.2, 3), Stat(0.6, 0.2, 3), 0.1, 2.0) == "inconclusive"
    # a clear small difference is a clear fail of a 0.1 gap; with k = 0 the noisy one passes
    assert decide_at_least(Stat(0.9, 0.01, 3), Stat(0.88, 0.01, 3), 0.1, 2.0) == "fail"
    assert decide_at_least(Stat(0.9, 0.2, 3), Stat(0.6, 0.2, 3), 0.1, 0.0) == "pass"
    # two seeds never pass, however far apart
    assert decide_at_least(Stat(0.9, 0.001, 2), Stat(0.1, 0.001, 2), 0.1, 2.0) == "inconclusive"
    assert decide_at_most(Stat(0.9, 0.01, 3), Stat(0.89, 0.01, 3), 0.1, 2.0) == "pass"
    assert decide_at_most(Stat(0.9, 0.1, 3), Stat(0.85, 0.1, 3), 0.1, 2.0) == "inconclusive"
    assert decide_at_most(Stat(0.9, 0.01, 3), Stat(0.5, 0.01, 3), 0.1, 2.0) == "fail"
    assert decide_at_most(Stat(0.9, math.nan, 1), Stat(0.9, math.nan, 1), 0.1, 2.0) == "inconclusive"


# --- the claims ------------------------------------------------------------------------------------------


def test_well_separated_seeds_pass_every_claim():
    results = verdicts(all_tables())
    assert {k: r.verdict for k, r in results.items()} == {"1": "pass", "2a": "pass", "2a beta": "pass", "2b": "pass",
                                                          "3": "pass"}
    # the crossing of 0.9 × 0.9 between ν_up = 0.01 (0.2 at 0.01 spikes) and 0.1 (0.85 at 0.1), in log activity
    assert results["3"].numbers["critical_activity"] == pytest.approx(0.01 * 10 ** ((0.81 - 0.2) / (0.85 - 0.2)))
    assert "95 % interval" in results["3"].value
    assert "(n = 3 seeds)" in results["1"].spread


def test_a_difference_inside_the_seed_noise_is_inconclusive():
    # the same means as the passing tables, but seeds scattered by ±0.15
    noisy = all_tables(**shape_tables(esser=0.75, constant=0.6, offsets=NOISY),
                       scale=scale_table(adr=0.75, offsets=NOISY), scale_recurrent=recurrent_table(0.65, NOISY),
                       sparsity=sparsity_table(sparsest=0.35, offsets=NOISY))
    assert summary(noisy) == {"1": "inconclusive", "2a": "inconclusive", "2a beta": "inconclusive",
                              "2b": "inconclusive", "3": "inconclusive"}
    # with tight seeds the same means decide: spread 0.2 > 0.1 fails; the β-resolved and recurrent gaps (0.15)
    # exceed 0.1 and their uncertainty; the top-cells gap 0.9 − (0.9 + 0.75)/2 = 0.075 < 0.1 fails
    tight = all_tables(**shape_tables(esser=0.75, constant=0.6), scale=scale_table(adr=0.75),
                       scale_recurrent=recurrent_table(0.65), sparsity=sparsity_table(sparsest=0.35))
    assert summary(tight) == {"1": "fail", "2a": "fail", "2a beta": "pass", "2b": "pass", "3": "pass"}


def test_one_seed_is_inconclusive_never_pass():
    one = {"shape": shape_tables(offsets=(0.0,), seeds=(0,)), "sparsity": sparsity_table(offsets=(0.0,), seeds=(0,))}
    tables = all_tables(**one["shape"], sparsity=one["sparsity"],
                        scale=scale_table()[lambda t: t["seed"] == 0],
                        scale_recurrent=recurrent_table()[lambda t: t["seed"] == 0])
    results = verdicts(tables)
    assert {k: r.verdict for k, r in results.items()} == {k: "inconclusive" for k in results}
    assert "fewer than 3 seeds" in results["1"].value and "(n = 1 seed)" in results["1"].spread


def test_claims_fail_where_the_seeds_show_the_opposite():
    assert verdicts(all_tables(**shape_tables(esser=0.7)))["1"].verdict == "fail"  # spread 0.25
    assert verdicts(all_tables(**shape_tables(constant=0.92)))["1"].verdict == "fail"  # control keeps up
    assert verdicts(all_tables(scale=scale_table(adr=0.88)))["2a"].verdict == "fail"  # no gap
    assert verdicts(all_tables(scale=scale_table(actl=0.5)))["2a beta"].verdict == "fail"  # the control moves
    assert verdicts(all_tables(scale_recurrent=recurrent_table(aprop=0.78)))["2b"].verdict == "fail"
    assert verdicts(all_tables(sparsity=sparsity_table(sparsest=0.86)))["3"].verdict == "fail"  # no collapse


def test_selection_is_per_seed_on_validation_not_test():
    selected = shape_selection(shape_tables()["shape"], pd.concat([shape_tables()["shape_control"],
                                                                    shape_tables()["sg_vs_true"]]))
    superspike = selected[selected["shape"] == "superspike"]
    # per seed the lr 0.01 cell (validation 0.95 ± d) wins, never the lr 1.0 cell with test 0.99 / validation 0.1
    assert list(superspike["seed"]) == [0, 1, 2]
    assert list(superspike["test"]) == pytest.approx([0.95, 0.94, 0.96])
    result = verdicts(all_tables())["1"]
    assert result.numbers["best_test_accuracy"]["superspike"] == pytest.approx(0.95)
    assert result.numbers["best_test_accuracy_sd"]["superspike"] == pytest.approx(0.01)
    assert set(selected["shape"]) == {"superspike", "sigmoid", "esser", "constant", "true"}  # no SG cell of sg_vs_true


def test_beta_resolved_claim_reads_each_variant_at_its_best_lr():
    result = verdicts(all_tables())["2a beta"]
    # at lr 0.01 (the better one) sCtl 0.9 and aDR 0.3 at β ≥ 100: gap 0.6
    assert result.numbers["gap"] == pytest.approx(0.6)
    # the top-cells row ranks the whole grid: aDR's 2 best are 0.9 (β = 1, η = 0.01) and 0.4 (β = 1, η = 0.1)
    assert verdicts(all_tables())["2a"].numbers["gap"] == pytest.approx(0.9 - (0.9 + 0.4) / 2)


def test_diverged_cells_count_as_failures():
    table = scale_table(adr=0.9)
    diverged = (table["axis:variant"] == "aDR") & (table["beta"] >= 10.0)
    table.loc[diverged, ["status", "valid_accuracy", "test_accuracy"]] = ["diverged", None, None]
    assert verdicts(all_tables(scale=table))["2a beta"].verdict == "pass"


def test_missing_results_are_not_run():
    results = verdicts({"shape": shape_tables()["shape"]})
    assert {k: r.verdict for k, r in results.items()} == {k: "not-run" for k in ("1", "2a", "2a beta", "2b", "3")}
    assert "constant" in results["1"].value
    assert verdicts(all_tables(scale=scale_table(large=False)))["2a beta"].verdict == "not-run"


def test_markdown_has_one_row_per_claim_and_metrics_carry_mean_and_sd():
    results = check_claims(all_tables(), T)
    text = claims_markdown(results)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 6  # header + 5 claim rows (2a twice)
    assert text.count("| pass |") == 5
    metrics = headline_metrics(results)
    assert metrics["best_test_accuracy"]["esser"] == pytest.approx(0.9)
    assert metrics["best_test_accuracy_sd"]["esser"] == pytest.approx(0.01)
    assert metrics["seeds"]["true"] == 3
    assert metrics["scale_sensitivity_gap"]["reset"] == results[1].numbers["gap"]


# --- the figures draw the claims' numbers -----------------------------------------------------------------



def test_fig3c_bars_equal_the_claims_numbers():
    tables = all_tables(**shape_tables(esser=0.8, offsets=NOISY))
    claim = verdicts(tables)["1"].numbers
    bars = panel_table("fig3c", tables, PARAMS).set_index("shape")
    assert list(bars.index) == ["superspike", "sigmoid", "esser", "constant", "true"]
    for shape, row in bars.iterrows():
        assert row["mean"] == pytest.approx(claim["best_test_accuracy"][shape])
        assert row["sd"] == pytest.approx(claim["best_test_accuracy_sd"][shape])
        assert row["n"] == claim["seeds"][shape] == 3
    assert bars.loc["esser", "sd"] == pytest.approx(0.15)


def test_fig5_panels_equal_the_scale_claims_numbers():
    tables = all_tables(scale=scale_table(offsets=NOISY))
    results = verdicts(tables)
    c = panel_table("fig5c", tables, PARAMS).set_index("axis:variant")["mean"]
    assert c["sCtl"] - c["aDR"] == pytest.approx(results["2a"].numbers["gap"])
    curve = panel_table("fig5_beta", tables, PARAMS)
    large = curve[curve["beta"] >= T["large_beta"]].groupby("axis:variant")["mean"].mean()
    assert large["sCtl"] - large["aDR"] == pytest.approx(results["2a beta"].numbers["gap"])
    assert set(curve["lr"]) == {0.01}


def test_figure_data_tables_carry_the_sd_columns():
    tables = {**all_tables(), "scale_depth": scale_table().assign(n_hidden_layers=lambda t: 1 + (t["seed"] * 0)),
              "tasks": shape_tables()["shape"].assign(n_hidden_layers=1, recurrent=False)}
    for name in ("fig3b", "fig3c", "fig4", "fig5_beta", "fig5c", "fig5d", "fig5e", "fig5f", "fig6"):
        table = panel_table(name, tables, PARAMS)
        assert {"mean", "sd", "n"} <= set(table.columns), name
        assert len(table) > 0 and (table["n"] == 3).all(), name
        assert table["sd"].notna().all(), name
    fig6 = panel_table("fig6", tables, PARAMS)
    assert {"spikes_mean", "spikes_sd"} <= set(fig6.columns)
    on = fig6[fig6["axis:lower_bound"] == "on"]
    assert list(on["nu_up"]) == sorted(on["nu_up"])
    # the SD is the seeds' sample SD: offsets (0, −0.01, +0.01) → 0.01
    row = on[on["nu_up"] == 1.0].iloc[0]
    assert row["mean"] == pytest.approx(0.9) and row["sd"] == pytest.approx(0.01)
    heat = panel_table("fig3b", tables, PARAMS)
    assert set(heat["lr"]) == {0.01, 0.1, 1.0}  # one point per β × η, seed mean


def test_unknown_panel_is_rejected_naming_it():
    with pytest.raises(ValueError, match=r"unknown figure panel 'fig9'.*fig3c"):
        panel_table("fig9", all_tables(), PARAMS)


def test_fig2c_trace_shows_the_first_correctly_classified_test_input():
    import torch

    from surrogate_study.plan.config import resolve_config
    from surrogate_study.data.splits import load_splits
    from surrogate_study.figures.data import network_trace_table
    from surrogate_study.training.trainer import build_network

    config = resolve_config({"dataset": {"name": "randman", "classes": 4, "steps": 40, "samples_per_class": 25,
                                         "max_terms": 100}, "model": {"hidden": [16]}, "seed": 0})
    test = load_splits(config["dataset"]).test
    network = build_network([config], test.n_units, test.n_classes)
    network.load_state_dict({name: 5 * w for name, w in network.state_dict().items()})  # spikes, varied guesses
    state = {name: w[0] for name, w in network.state_dict().items()}  # the "trained" weights
    with torch.no_grad():
        predicted = network(test.dense(list(range(len(test.labels))))).logits[0].argmax(dim=1)
    correct = torch.nonzero(predicted == test.labels).flatten()
    assert len(correct) > 0 and int(correct[0]) > 0  # some input is right by chance, not the first one
    table = network_trace_table(config, state)
    first = int(correct[0])
    assert set(table["sample"]) == {first}
    assert set(table["label"]) == {int(test.labels[first])} and set(table["predicted"]) == {int(predicted[first])}
    assert table["correct"].all()


# --- claims 1 and 3 per dataset ---------------------------------------------------------------------------


def test_claims_1_and_3_give_one_row_per_dataset_run():
    tasks = pd.concat([shape_tables()["shape"].assign(dataset="randman"),  # Randman: read from the shape study
                       shape_tables(esser=0.5)["shape"].assign(dataset="shd"),  # Esser fails on SHD
                       shape_tables()["shape"].assign(dataset="mnist")], ignore_index=True)
    sparsity = pd.concat([sparsity_table(), sparsity_table(sparsest=0.86).assign(dataset="mnist")],
                         ignore_index=True)
    results = check_claims({**all_tables(sparsity=sparsity), "tasks": tasks}, T)
    rows = {r.claim: r for r in results}
    assert [r.claim for r in results if r.claim.startswith(("1", "3"))] == [
        "1 shape robustness [randman]", "1 shape robustness [mnist]", "1 shape robustness [shd]",
        "3 sparse activity [randman]", "3 sparse activity [mnist]"]
    assert rows["1 shape robustness [randman]"].verdict == "pass"
    assert "margin (esser − constant)" in rows["1 shape robustness [randman]"].value
    # no control cells on MNIST / SHD: decided on the spread alone, and the row says so
    assert rows["1 shape robustness [mnist]"].verdict == "pass"
    assert "margin not checked" in rows["1 shape robustness [mnist]"].value
    assert rows["1 shape robustness [shd]"].verdict == "fail"
    assert rows["1 shape robustness [shd]"].numbers["shape_spread"] == pytest.approx(0.95 - 0.5)
    assert rows["3 sparse activity [randman]"].verdict == "pass"
    assert rows["3 sparse activity [mnist]"].verdict == "fail"  # MNIST holds its accuracy at the sparsest level
    metrics = headline_metrics(results)
    assert metrics["critical_activity"] == rows["3 sparse activity [randman]"].numbers["critical_activity"]
    assert set(metrics["critical_activity_by_dataset"]) == {"randman", "mnist"}
    assert metrics["shape_spread_by_dataset"]["shd"] == pytest.approx(0.45)


def test_a_dataset_with_control_cells_in_the_tasks_study_is_checked_for_the_margin():
    mnist = pd.concat([shape_tables()["shape"], shape_tables(constant=0.94)["shape_control"]],
                      ignore_index=True).assign(dataset="mnist")
    result = {r.claim: r for r in check_claims({**all_tables(), "tasks": mnist}, T)}["1 shape robustness [mnist]"]
    assert result.verdict == "fail" and "margin (esser − constant)" in result.value
    partial = mnist[mnist["shape"] != "esser"]
    result = {r.claim: r for r in check_claims({**all_tables(), "tasks": partial}, T)}["1 shape robustness [mnist]"]
    assert result.verdict == "not-run" and "esser" in result.value
