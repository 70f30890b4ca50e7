"""Planning the workflow stays light: what the Snakefile imports loads neither torch, numba, h5py, pandas
nor pooch, and the light registries agree with the heavy modules they stand in for."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "numba", "h5py", "pandas", "pooch")


def planning_modules() -> list[str]:
    """The surrogate_study modules that the Snakefile and the rule files import while Snakemake parses them."""
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    found = {m for f in files for m in re.findall(r"^from (surrogate_study[\w.]*) import", f.read_text(), re.M)}
    return sorted(found)


def test_planning_imports_none_of_the_heavy_stack(tmp_path):
    modules = planning_modules()
    assert {"surrogate_study.plan.config", "surrogate_study.plan.study"} <= set(modules)
    # import what the workflow imports, then plan the default config's studies and list the shapes
    script = f"""
import importlib, json, sys
import yaml
for name in {modules!r}:
    importlib.import_module(name)
from surrogate_study.plan.config import validate_workflow_config
from surrogate_study.plan.cost import neuron_steps
from surrogate_study.plan.shapes import surrogate_names
from surrogate_study.plan.study import plan_studies
config = yaml.safe_load(open("config/config.yaml"))
validate_workflow_config(config, "workflow/schemas/config.schema.yaml")
plan = plan_studies(config)
work = sum(neuron_steps(cell) for cell in plan.cells.values())
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"loaded": loaded, "cells": len(plan.cells), "work": work, "shapes": surrogate_names()}}))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["cells"] > 0 and report["work"] > 0  # it really planned
    assert report["loaded"] == [], f"planning imported {report['loaded']}"
    assert report["shapes"][:5] == ["superspike", "sigmoid", "esser", "constant", "true"]


def test_light_dataset_names_are_the_registered_loaders():
    from surrogate_study.plan import dataset_catalog
    from surrogate_study.data import splits as datasets

    assert dataset_catalog.dataset_names() == datasets.dataset_names()


def test_light_shape_names_are_the_defined_shapes():
    from surrogate_study.kernels.options import KERNEL_SHAPES
    from surrogate_study.plan import shapes
    from surrogate_study.model import surrogates

    assert set(shapes.BUILTIN_SHAPES) <= set(shapes.surrogate_names())
    for name in shapes.BUILTIN_SHAPES:
        assert surrogates.get_surrogate(name).__module__ == "surrogate_study.model.surrogates"
    assert set(KERNEL_SHAPES) == set(shapes.BUILTIN_SHAPES)  # every built-in shape has a kernel code


def test_split_sizes_unchanged_by_the_move():
    from surrogate_study.plan.dataset_catalog import split_sizes

    assert split_sizes(100, [0.8, 0.1, 0.1]) == [80, 10, 10]
    assert split_sizes(7, [0.5, 0.5]) == [3, 4]
    assert split_sizes(30, [0.7, 0.1, 0.2]) == [21, 3, 6]  # 30·0.7 = 20.999… in floating point: 21 by the 1e-9


def test_workflow_config_names_are_checked_against_the_light_registries():
    """A config naming an unknown shape fails in planning with the allowed names (from the light registry)."""
    from surrogate_study.plan.config import ConfigError
    from surrogate_study.plan.study import plan_studies

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["studies"] = {"shape": {"axes": {"surrogate.shape": ["superspike", "nope"]}}}
    with pytest.raises(ConfigError, match=r"'nope' is not one of \['superspike', 'sigmoid', 'esser'"):
        plan_studies(config)
