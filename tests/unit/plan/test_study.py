"""Studies -> cells -> jobs; aggregation helpers (the cost model: test_cost_model.py)."""

import pandas as pd
import pytest

from surrogate_study.analysis.aggregate import best_by_validation
from surrogate_study.plan.config import ConfigError
from surrogate_study.plan.study import plan_studies

BASE = {"training": {"epochs": 2}, "dataset": {"samples_per_class": 10}}


def workflow_config(job_size=3):
    return {
        "job_size": job_size,
        "base": BASE,
        "studies": {
            "grid": {"axes": {"surrogate.shape": ["superspike", "esser"], "training.lr": [0.01, 0.1]}},
            "cases": {
                "fixed": {"training": {"lr": 0.01}},
                "axes": {"variant": {"sCtl": {}, "aDR": {"surrogate": {"scale": "asymptotic"},
                                                          "model": {"detach_reset": False}}}},
            },
            "recurrent": {"fixed": {"model": {"recurrent": True}}, "axes": {"seed": [0, 1]}},
        },
    }


def test_axes_expand_to_their_product_and_shared_cells_are_computed_once():
    plan = plan_studies(workflow_config())
    assert len(plan.studies["grid"]) == 4
    assert len(plan.studies["cases"]) == 2
    # cases.sCtl is grid's (superspike, 0.01) cell: same resolved config, same id
    grid_ids = {(r["surrogate.shape"], r["training.lr"]): r["cell"] for r in plan.studies["grid"]}
    cases = {r["variant"]: r["cell"] for r in plan.studies["cases"]}
    assert cases["sCtl"] == grid_ids[("superspike", 0.01)]
    assert len(plan.cells) == 4 + 1 + 2
    adr = plan.cells[cases["aDR"]]
    assert adr["surrogate"]["scale"] == "asymptotic" and adr["model"]["detach_reset"] is False
    assert adr["training"]["epochs"] == 2 and adr["dataset"]["samples_per_class"] == 10


def test_cell_ids_are_readable_and_unique():
    plan = plan_studies(workflow_config())
    ids = list(plan.cells)
    assert len(set(ids)) == len(ids)
    aDR = next(r["cell"] for r in plan.studies["cases"] if r["variant"] == "aDR")
    assert aDR.startswith("randman_h100_superspike-a10_lr0.01_dr_")
    assert all("h100r" in r["cell"] for r in plan.studies["recurrent"])


def test_jobs_pack_only_compatible_cells_up_to_job_size():
    plan = plan_studies(workflow_config(job_size=3))
    assert sorted(len(cells) for cells in plan.jobs.values()) == [2, 2, 3]
    for cells in plan.jobs.values():
        assert len({plan.cells[c]["model"]["recurrent"] for c in cells}) == 1
    assert sorted(c for cells in plan.jobs.values() for c in cells) == sorted(plan.cells)
    assert len(plan_studies(workflow_config(job_size=1)).jobs) == len(plan.cells)


def test_a_bad_axis_value_names_study_axis_and_key():
    config = workflow_config()
    config["studies"]["grid"]["axes"]["surrogate.beta"] = [10, -1]
    with pytest.raises(ConfigError, match=r"studies.grid .*surrogate.beta=-1.*config error at surrogate.beta"):
        plan_studies(config)
    config = workflow_config()
    config["studies"]["grid"]["axes"]["training.lr"] = []
    with pytest.raises(ConfigError, match="axis training.lr"):
        plan_studies(config)


def test_exclude_leaves_out_the_points_whose_labels_an_entry_lists():
    config = workflow_config()
    grid = config["studies"]["grid"]
    grid["axes"]["model.hidden"] = [[100], [100, 100]]
    grid["exclude"] = [{"surrogate.shape": ["esser"], "model.hidden": [[100, 100]]},
                       {"training.lr": [0.1], "model.hidden": [[100, 100]]}]
    rows = plan_studies(config).studies["grid"]
    kept = sorted((r["surrogate.shape"], r["training.lr"], len(r["model.hidden"])) for r in rows)
    # 2 shapes x 2 lr x 2 depths = 8 points; two-layer esser (2) and two-layer lr 0.1 (2, one of them esser) go
    assert kept == [("esser", 0.01, 1), ("esser", 0.1, 1), ("superspike", 0.01, 1), ("superspike", 0.01, 2),
                    ("superspike", 0.1, 1)]
    config = workflow_config()
    config["studies"]["cases"]["exclude"] = [{"variant": ["aDR"]}]  # named cases by their labels
    assert [r["variant"] for r in plan_studies(config).studies["cases"]] == ["sCtl"]


@pytest.mark.parametrize("entry, message", [
    ({"seed": [0]}, r"studies.grid.exclude.0: axis 'seed' is not allowed: not an axis of this study \(its axes: "
                    r"surrogate.shape, training.lr\)"),
    ({"surrogate.shape": ["sigmoid"]}, r"studies.grid.exclude.0.surrogate.shape: label 'sigmoid' is not allowed: "
                                       r"not a label of this axis \(its labels: 'superspike', 'esser'\)"),
    ({"training.lr": 0.1}, r"studies.grid.exclude.0.training.lr: value 0.1 is not allowed: give a non-empty list"),
    ({"surrogate.shape": ["superspike", "esser"]}, r"studies.grid.exclude: the entries leave out every point"),
])
def test_a_bad_exclude_entry_is_named_before_anything_is_planned(entry, message):
    config = workflow_config()
    config["studies"]["grid"]["exclude"] = [entry]
    with pytest.raises(ConfigError, match=message):
        plan_studies(config)


def test_the_paper_grid_leaves_out_only_the_recurrent_cells_no_panel_reads():
    from pathlib import Path

    import yaml

    from surrogate_study.plan.real_tasks import add_real_datasets

    config = yaml.safe_load((Path(__file__).resolve().parents[3] / "config" / "paper.yaml").read_text())
    config.update(add_real_datasets(config))
    rows = plan_studies(config).studies["scale_recurrent"]
    points = {(r["variant"], len(r["model.hidden"])) for r in rows}
    # Fig. 5e and claim 2b: every variant at n_h = 1; Fig. 5f: aCtl and aProp at n_h = 1, 2, 3
    assert points == {("sCtl", 1), ("sProp", 1), ("aCtl", 1), ("aProp", 1), ("aCtl", 2), ("aProp", 2),
                      ("aCtl", 3), ("aProp", 3)}
    assert len(rows) == 8 * 3 * 3 * 3  # beta x eta x seeds at each


def test_best_by_validation_selects_on_validation_and_skips_diverged():
    table = pd.DataFrame({
        "cell": ["a", "b", "c", "d"], "shape": ["s", "s", "s", "e"], "status": ["ok", "ok", "diverged", "ok"],
        "valid_accuracy": [0.8, 0.9, 1.0, 0.5], "test_accuracy": [0.95, 0.7, 1.0, 0.4],
    })
    best = best_by_validation(table, ["shape"]).set_index("shape")
    assert best.loc["s", "cell"] == "b" and best.loc["s", "test_accuracy"] == 0.7
    assert best.loc["e", "cell"] == "d"


def test_new_keys_at_their_earlier_value_keep_a_cells_id():
    """Keys added later (recurrent_init_gain, recurrent_delay, sigmoid_peak) are hashed only where they can change a
    cell and differ from the value that reproduces earlier runs: earlier feed-forward results keep their ids."""
    from surrogate_study.plan.config import resolve_config
    from surrogate_study.plan.study import LATER_KEYS, cell_id, identity_config

    feedforward = resolve_config({"model": {"init_gain": 10.0}})
    identity = identity_config(feedforward)
    assert "recurrent_delay" not in identity["model"] and "sigmoid_peak" not in identity["surrogate"]
    assert cell_id(feedforward) == cell_id(resolve_config({"model": {"init_gain": 10.0, "recurrent_delay": 1}}))
    recurrent = resolve_config({"model": {"recurrent": True}})
    earlier = resolve_config({"model": {"recurrent": True, "recurrent_delay": LATER_KEYS[("model", "recurrent_delay")]}})
    assert "recurrent_delay" in identity_config(recurrent)["model"]
    assert "recurrent_delay" not in identity_config(earlier)["model"]
    assert cell_id(recurrent) != cell_id(earlier) and "d1" in cell_id(earlier)
    sigmoid = resolve_config({"surrogate": {"shape": "sigmoid", "sigmoid_peak": "quarter_beta"}})
    assert cell_id(sigmoid) != cell_id(resolve_config({"surrogate": {"shape": "sigmoid"}}))
    assert "-n10q_" in cell_id(sigmoid)
