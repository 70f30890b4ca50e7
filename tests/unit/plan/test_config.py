"""Run configs: defaults, merging, schema errors that name key, value and what is allowed."""

import copy
import subprocess
import sys

import pytest

from surrogate_study.plan.config import ConfigError, default_config, load_config, resolve_config, validate_config


def test_default_config_is_the_papers_default_run():
    config = default_config()
    assert config["surrogate"] == {"shape": "superspike", "beta": 10.0, "scale": "normalized", "sigmoid_peak": "one"}
    assert config["model"]["hidden"] == [100] and config["model"]["detach_reset"] is True
    assert config["model"]["recurrent_delay"] == 2  # the authors' recurrent timing (tests/unit/fused/test_recurrent_timing.py)
    assert config["training"]["lr"] == 0.05 and config["training"]["batch_size"] == 250
    assert config["training"]["epochs"] == 50 and config["seed"] == 0
    assert config["dataset"]["name"] == "randman" and config["dataset"]["units"] == 20


def test_partial_config_merges_onto_defaults(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("surrogate: {shape: esser, beta: 3}\ndataset: {samples_per_class: 10}\n")
    config = load_config(path)
    assert config["surrogate"] == {"shape": "esser", "beta": 3, "scale": "normalized", "sigmoid_peak": "one"}
    assert config["dataset"]["samples_per_class"] == 10 and config["dataset"]["classes"] == 10


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"surrogate": {"shape": "spiky"}}, ["surrogate.shape", "'spiky'", "superspike", "esser"]),
        ({"surrogate": {"beta": 0}}, ["surrogate.beta", "0", "less than or equal to the minimum of 0"]),
        ({"surrogate": {"beta": -2.5}}, ["surrogate.beta", "-2.5"]),
        ({"surrogate": {"scale": "big"}}, ["surrogate.scale", "'big'", "normalized", "asymptotic"]),
        ({"model": {"hidden": [100, -3]}}, ["model.hidden.1", "-3", "minimum of 1"]),
        ({"training": {"batch_size": -1}}, ["training.batch_size", "-1"]),
        ({"training": {"lrr": 0.1}}, ["training", "'lrr' was unexpected"]),
        ({"dataset": {"name": "cifar"}}, ["dataset.name", "'cifar'", "randman"]),
        ({"dataset": {"units": 0}}, ["dataset.units", "0"]),
        ({"dataset": {"split": {"train": 0.5, "valid": 0.1, "test": 0.1}}}, ["dataset.split", "sum to 1"]),
        ({"device": "tpu"}, ["device", "'tpu'", "cuda"]),
    ],
)
def test_bad_values_name_key_value_and_allowed(override, expected):
    with pytest.raises(ConfigError) as error:
        resolve_config(override)
    message = str(error.value)
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message


def test_missing_key_is_named():
    config = default_config()
    broken = copy.deepcopy(config)
    del broken["training"]["lr"]
    with pytest.raises(ConfigError, match=r"at training: 'lr' is a required property"):
        validate_config(broken)
    del broken["surrogate"]
    with pytest.raises(ConfigError, match="'surrogate' is a required property"):
        validate_config(broken)


def test_cli_rejects_bad_config_before_any_work(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("surrogate: {shape: superspike, beta: -1}\n")
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "surrogate_study", "train", "--config", str(path), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "surrogate.beta" in result.stderr and "-1" in result.stderr
    assert not out.exists()


def test_new_surrogate_is_accepted_by_the_schema_after_registration():
    from surrogate_study.plan.shapes import unregister_shape
    from surrogate_study.model.surrogates import register_surrogate

    with pytest.raises(ConfigError, match="surrogate.shape"):
        resolve_config({"surrogate": {"shape": "test_gaussian"}})
    register_surrogate("test_gaussian")(lambda x, beta: (-(beta * x) ** 2).exp())
    try:  # no cache to clear: the schema follows the registry
        assert resolve_config({"surrogate": {"shape": "test_gaussian"}})["surrogate"]["shape"] == "test_gaussian"
    finally:
        unregister_shape("test_gaussian")


def test_the_sensitivity_section_is_checked_before_any_work():
    from surrogate_study.plan.sensitivity import check_sensitivity

    spec = {"alternatives": {"default": {"label": "d"}, "g1": {"label": "g"}}, "claims": {"1": ["s"]}}
    good = {"studies": {"s": {"axes": {"alternative": {"default": None, "g1": {}}, "seed": [0]}}}, "sensitivity": spec}
    check_sensitivity(good)
    with pytest.raises(ConfigError, match=r"^config error at sensitivity.claims.1: study 'x' is not defined"):
        check_sensitivity({**good, "sensitivity": {**spec, "claims": {"1": ["x"]}}})
    with pytest.raises(ConfigError, match=r"needs an 'alternative' axis"):
        check_sensitivity({**good, "studies": {"s": {"axes": {"seed": [0]}}}})
    with pytest.raises(ConfigError, match=r"'g2' is not in sensitivity.alternatives \(allowed: default, g1\)"):
        check_sensitivity({**good, "studies": {"s": {"axes": {"alternative": {"g2": {}}}}}})
    with pytest.raises(ConfigError, match=r"the first alternative must be 'default'"):
        check_sensitivity({**good, "sensitivity": {**spec, "alternatives": {"g1": {"label": "g"}, "default": {"label": "d"}}}})
