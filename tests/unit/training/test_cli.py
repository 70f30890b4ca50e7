"""Command line: the program name in usage, --version, dotted --set overrides validated like the file."""

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from surrogate_study.cli import main
from surrogate_study.plan.config import ConfigError, load_config
from surrogate_study.plan.overrides import parse_override

SCRIPT = Path(sys.executable).parent / "surrogate-study"


def test_usage_names_the_console_script_and_version_prints_the_package_version():
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("usage: surrogate-study ")
    assert "python -m" not in result.stdout
    result = subprocess.run([sys.executable, "-m", "surrogate_study", "--version"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == f"surrogate-study {version('surrogate-study')}"


def test_set_overrides_the_file_key_by_key_and_keeps_the_rest(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text("surrogate: {shape: esser, beta: 3}\ntraining: {epochs: 7}\n")
    config = load_config(path, ["surrogate.beta=100", "training.lr=1e-3", "model.hidden=[50, 40]",
                                "surrogate.beta=200"])
    assert config["surrogate"] == {"shape": "esser", "beta": 200, "scale": "normalized", "sigmoid_peak": "one"}  # the last one wins
    assert config["training"]["lr"] == 0.001 and config["training"]["epochs"] == 7
    assert config["model"]["hidden"] == [50, 40]
    assert main(["config", "--config", str(path), "--set", "surrogate.shape=sigmoid"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["surrogate"] == {"shape": "sigmoid", "beta": 3, "scale": "normalized", "sigmoid_peak": "one"}


def test_set_without_a_file_overrides_the_defaults():
    assert load_config(None, ["seed=4"])["seed"] == 4
    assert parse_override("a.b.c=true") == {"a": {"b": {"c": True}}}


@pytest.mark.parametrize("override, fragments", [
    ("surrogate.beta=-1", ["at surrogate.beta", "-1", "minimum of 0"]),  # the file's message
    ("surrogate.betta=1", ["at surrogate", "'betta' was unexpected"]),
    ("surrogate.shape=spiky", ["at surrogate.shape", "'spiky'", "superspike"]),
    ("training.lr=nan", ["training.lr", "nan"]),
    ("surrogate.beta", ["'surrogate.beta'", "KEY=VALUE"]),
    ("surrogate..beta=1", ["'surrogate..beta=1'", "KEY=VALUE"]),
    ("model.hidden=[100", ["at model.hidden", "'[100'", "not valid YAML"]),
])
def test_bad_override_is_one_line_before_any_work(tmp_path, override, fragments):
    with pytest.raises(ConfigError) as error:
        load_config(None, [override])
    message = str(error.value)
    assert "\n" not in message and all(fragment in message for fragment in fragments), message
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "surrogate_study", "train", "--set", override, "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip() == f"error: {message}"
    assert not out.exists()


def test_file_and_override_errors_read_alike(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("surrogate: {beta: -1}\n")
    with pytest.raises(ConfigError) as from_file:
        load_config(path)
    with pytest.raises(ConfigError) as from_override:
        load_config(None, ["surrogate.beta=-1"])
    assert str(from_file.value) == str(from_override.value)
