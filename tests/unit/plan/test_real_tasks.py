"""The real datasets' Table 1 protocol and the `real_datasets` switch of the workflow config."""

from pathlib import Path

import pytest
import yaml

from surrogate_study.plan.config import ConfigError
from surrogate_study.plan.real_tasks import REAL_TASKS, add_real_datasets
from surrogate_study.plan.study import plan_studies

ROOT = Path(__file__).resolve().parents[3]


def load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def per_dataset(plan, study):
    """dataset -> (hidden, recurrent, batch, epochs) of the study's cells, and the cells per dataset."""
    seen, counts = {}, {}
    for cid in plan.study_cells(study):
        cell = plan.cells[cid]
        name = cell["dataset"]["name"]
        seen.setdefault(name, set()).add((tuple(cell["model"]["hidden"]), cell["model"]["recurrent"],
                                          cell["training"]["batch_size"], cell["training"]["epochs"]))
        counts[name] = counts.get(name, 0) + 1
    return seen, counts


def test_paper_config_trains_every_real_dataset_with_its_table1_protocol_in_fig4_and_fig6():
    paper = load("paper.yaml")
    assert set(paper["datasets"]) == {"randman", "mnist", "fashion_mnist", "shd"}
    plan = plan_studies(paper)
    protocol = {"mnist": {((100,), False, 128, 30)}, "fashion_mnist": {((100,), False, 128, 30)},
                "shd": {((128,), True, 128, 50)}}
    for study in ("tasks", "sparsity"):
        seen, counts = per_dataset(plan, study)
        assert {k: v for k, v in seen.items() if k != "randman"} == protocol, study
        assert len(set(counts.values())) == 1 or study == "tasks", counts  # one full sweep per dataset
    _, counts = per_dataset(plan, "tasks")
    assert counts["mnist"] == counts["shd"] == 3 * 5 * 3  # shapes x eta grid x seeds
    assert counts["randman"] == 3 * counts["mnist"]  # n_h = 1, 2, 3
    # paper.yaml's cases are the switch's protocol (the two cannot drift apart)
    cases = paper["studies"]["tasks"]["axes"]["task"]
    assert {name: cases[f"{name}-1"] for name in REAL_TASKS} == REAL_TASKS


def test_switch_adds_the_real_datasets_to_the_default_fig4_and_fig6_studies():
    default = load("config.yaml")
    assert default["real_datasets"] == []  # off: the default run is unchanged
    before = plan_studies(default)
    assert add_real_datasets(default) == default
    switched = add_real_datasets({**default, "real_datasets": ["mnist", "fashion_mnist", "shd"]})
    after = plan_studies(switched)
    assert {"mnist", "fashion_mnist", "shd"} <= set(switched["datasets"])
    for study in ("tasks", "sparsity"):
        seen, counts = per_dataset(after, study)
        assert seen["mnist"] == seen["fashion_mnist"] == {((100,), False, 128, 30)}, study
        assert seen["shd"] == {((128,), True, 128, 50)}, study
        assert counts["mnist"] == counts["shd"] == counts["randman"], (study, counts)  # same sweep per dataset
    # every cell of the default run is still there, with the same id; only the real datasets' cells are new
    assert set(before.cells) <= set(after.cells)
    assert {after.cells[c]["dataset"]["name"] for c in set(after.cells) - set(before.cells)} == \
        {"mnist", "fashion_mnist", "shd"}
    assert set(after.studies) == set(before.studies)
    for study in set(before.studies) - {"tasks", "sparsity"}:
        assert after.studies[study] == before.studies[study]


def test_switch_leaves_a_dataset_the_study_already_trains_on_as_configured():
    config = load("config.yaml")
    other_axes = {k: v for k, v in config["studies"]["sparsity"]["axes"].items() if k != "task"}
    config["studies"]["sparsity"]["axes"] = {"task": {"randman": {}, "mnist": {"dataset": {"name": "mnist"},
                                                                                "training": {"epochs": 3}}},
                                             **other_axes}
    switched = add_real_datasets({**config, "real_datasets": ["mnist"]})
    assert switched["studies"]["sparsity"]["axes"]["task"]["mnist"] == {"dataset": {"name": "mnist"},
                                                                        "training": {"epochs": 3}}
    assert "mnist-1" in switched["studies"]["tasks"]["axes"]["task"]


def test_unknown_switch_value_is_one_line_naming_it():
    with pytest.raises(ConfigError, match=r"^config error at real_datasets: 'mnist6k' is not allowed "
                                          r"\(allowed: mnist, fashion_mnist, shd\)$"):
        add_real_datasets({**load("config.yaml"), "real_datasets": ["mnist", "mnist6k"]})


def test_mnist5k_cells_join_the_default_sparsity_study_without_changing_its_randman_cells():
    default = load("config.yaml")  # its sparsity study sweeps Randman and MNIST-5k
    assert set(default["studies"]["sparsity"]["axes"]["task"]) == {"randman", "mnist5k"}
    randman_only = load("config.yaml")
    other_axes = {k: v for k, v in randman_only["studies"]["sparsity"]["axes"].items() if k != "task"}
    randman_only["studies"]["sparsity"]["axes"] = other_axes  # the study without a task axis: Randman alone
    before = plan_studies(randman_only)
    after = plan_studies(default)
    rows = after.studies["sparsity"]
    assert {r["task"] for r in rows} == {"randman", "mnist5k"}
    assert [r["cell"] for r in rows if r["task"] == "randman"] == before.study_cells("sparsity")
    assert len(rows) == 2 * len(before.studies["sparsity"])
