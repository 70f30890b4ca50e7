"""Bring your own surrogate: a package outside the project (tests/plugins/my_surrogate) registers the shape
``gaussian`` through the entry-point group ``surrogate_study.surrogates``; it is pip-installed into a temporary
folder at test time and put on the path. Configs name it, the network trains with it (the PyTorch path: the
compiled kernels know only the built-in shapes), and Fig. 3, Fig. 5 and claim 1 include it."""

import json
import logging
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import yaml

from surrogate_study.plan import shapes
from surrogate_study.analysis.claims import check_claims, headline_metrics
from surrogate_study.plan.config import ConfigError, resolve_config
from surrogate_study.model.lif import LIFParameters
from surrogate_study.model.network import SpikingNetwork
from surrogate_study.analysis.panels import panel_table
from surrogate_study.model.surrogates import Surrogate

from claim_tables import PARAMS, T, all_tables, cells, scale_table, shape_tables

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugins" / "my_surrogate"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """A folder holding the installed plugin (its module and dist-info with the entry point)."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PLUGIN, work / "src")  # build in a copy: the source tree stays clean
    site = work / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--no-index", "--target", str(site), str(source)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "my_surrogate-0.1.0.dist-info" / "entry_points.txt").exists()
    return site


@pytest.fixture
def with_plugin(plugin_site, monkeypatch):
    """The plugin importable and discoverable in this process (forgotten again afterwards)."""
    monkeypatch.syspath_prepend(str(plugin_site))
    shapes.refresh_plugins()
    yield plugin_site
    monkeypatch.undo()
    shapes.refresh_plugins()


def run_python(code: str, site: Path | None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site) if site else None,
                                                                    os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_without_the_plugin_the_name_is_rejected_with_the_allowed_names():
    shapes.refresh_plugins()
    with pytest.raises(ConfigError, match=r"surrogate.shape: value 'gaussian' is not allowed.*'superspike'"):
        resolve_config({"surrogate": {"shape": "gaussian"}})
    with pytest.raises(ValueError, match="unknown surrogate shape 'gaussian'; allowed: superspike"):
        Surrogate("gaussian")


def test_installed_plugin_is_listed_and_planned_without_importing_it(plugin_site):
    """Planning a workflow config that names the shape reads only the plugin's metadata: no torch, no plugin module."""
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config["studies"]["shape"]["axes"]["surrogate.shape"].append("gaussian")
    code = f"""
import json, sys
from surrogate_study.plan.shapes import surrogate_names
from surrogate_study.plan.study import plan_studies
plan = plan_studies({config!r})
shapes_planned = sorted({{plan.cells[row["cell"]]["surrogate"]["shape"] for row in plan.studies["shape"]}})
print(json.dumps({{"names": surrogate_names(), "planned": shapes_planned,
                   "loaded": sorted(m for m in ("torch", "my_surrogate") if m in sys.modules)}}))
"""
    result = run_python(code, plugin_site)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["names"] == ["superspike", "sigmoid", "esser", "constant", "true", "gaussian"]
    assert report["planned"] == ["esser", "gaussian", "sigmoid", "superspike"]
    assert report["loaded"] == []


def test_the_workflow_plans_a_config_that_names_the_plugin(plugin_site, tmp_path):
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config["studies"]["shape"]["axes"]["surrogate.shape"].append("gaussian")
    config_file = tmp_path / "plugin.yaml"
    config_file.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(config_file)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    # (that the shape study plans cells with the plugin's shape: test_installed_plugin_is_listed_and_planned_without_importing_it)
    unplugged = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(config_file)], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    assert unplugged.returncode != 0 and "'gaussian' is not allowed" in unplugged.stdout + unplugged.stderr


def test_plugin_derivative_in_both_scales(with_plugin):
    x = torch.linspace(-1.0, 1.0, 201, dtype=torch.float64, requires_grad=True)
    upstream = torch.linspace(0.5, 1.5, 201, dtype=torch.float64)
    for scale, factor in (("normalized", 1.0), ("asymptotic", 4.0)):
        x.grad = None
        spikes = Surrogate("gaussian", 4.0, scale).spike(x)
        (spikes * upstream).sum().backward()
        assert torch.equal(spikes, (x > 0).to(x.dtype))
        torch.testing.assert_close(x.grad, upstream * factor * torch.exp(-(4.0 * x.detach()) ** 2))


def test_plugin_cells_use_the_pytorch_path_with_the_same_results(with_plugin, caplog):
    """A grid job mixing a built-in and the plugin shape: fused backend (PyTorch path, noted in the log) equals
    the reference time loop in spikes and surrogate gradients."""
    surrogates = [Surrogate("superspike", 10.0), Surrogate("gaussian", 3.0, "asymptotic")]
    x = (torch.rand(6, 40, 12, generator=torch.Generator().manual_seed(1)) < 0.2).double()
    results = {}
    for backend in ("fused", "reference"):
        net = SpikingNetwork(12, [24], 4, LIFParameters(), surrogates, detach_reset=[True, False],
                             generators=[torch.Generator().manual_seed(k) for k in range(2)], backend=backend,
                             init_gain=4.0).double()
        with caplog.at_level(logging.WARNING, logger="surrogate_study.fused.cell_surrogates"):
            out = net(x)
        out.logits.sum().backward()
        results[backend] = (out.hidden[0].spikes, out.logits, net.weights[0].grad, net.readout_weight.grad)
    assert results["fused"][0].mean() > 0.01  # the layer spikes
    for fused, reference in zip(results["fused"], results["reference"]):
        torch.testing.assert_close(fused, reference, rtol=1e-9, atol=1e-12)
    assert results["fused"][2][1].abs().max() > 0  # the plugin's σ′ carries gradient to the hidden weights
    assert any("'gaussian' has no compiled kernel" in r.getMessage() for r in caplog.records)


def test_a_run_config_naming_the_plugin_trains(plugin_site, tmp_path):
    config = {"surrogate": {"shape": "gaussian", "beta": 5.0}, "model": {"hidden": [16], "init_gain": 5.0},
              "training": {"epochs": 2, "batch_size": 50, "lr": 0.02},
              "dataset": {"classes": 5, "steps": 30, "samples_per_class": 20}, "threads": 1}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    code = ("import sys; from surrogate_study.cli import main; "
            f"sys.exit(main(['train', '--config', {str(tmp_path / 'run.yaml')!r}, '--out', {str(tmp_path / 'out')!r}]))")
    result = run_python(code, plugin_site)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["status"] == "ok"
    assert metrics["config"]["surrogate"]["shape"] == "gaussian"


def tables_with_plugin(gaussian: float):
    tables = shape_tables()
    extra = cells([{"shape": "gaussian", "test_accuracy": gaussian + d, "seed": seed, "lr": lr}
                   for seed, d in zip((0, 1, 2), (0.0, -0.01, 0.01)) for lr in (0.01, 0.1)])
    extra["cell"] = "g" + extra["cell"]
    tables["shape"] = pd.concat([tables["shape"], extra], ignore_index=True)
    return tables


def test_claim_1_and_fig3c_include_the_plugin_shape():
    close, far = check_claims(tables_with_plugin(0.94), T)[0], check_claims(tables_with_plugin(0.6), T)[0]
    assert "gaussian" in close.metric and close.numbers["best_test_accuracy"]["gaussian"] == pytest.approx(0.94)
    assert close.verdict == "pass"
    assert far.verdict == "fail" and "gaussian" in far.value  # the plugin is the worst SG shape: the spread fails
    metrics = headline_metrics([close])
    assert list(metrics["best_test_accuracy"]) == ["superspike", "sigmoid", "esser", "gaussian", "constant", "true"]
    bars = panel_table("fig3c", tables_with_plugin(0.94), PARAMS)
    assert list(bars["shape"]) == ["superspike", "sigmoid", "esser", "gaussian", "constant", "true"]


class Files(dict):
    """Snakemake's named input files: by attribute and by key."""

    __getattr__ = dict.__getitem__


def run_figure(script: str, inputs: dict, params: dict, tmp_path: Path, monkeypatch):
    """Run a figure script in this process with a stand-in ``snakemake`` object; return the saved figure."""
    from surrogate_study.figures import style as figstyle

    saved = []
    monkeypatch.setattr(figstyle, "save", lambda fig, pdf, png, **provenance: saved.append(fig))
    files = {}
    for name, table in inputs.items():
        files[name] = str(tmp_path / f"{name}.csv")
        table.to_csv(files[name], index=False)
    files["studies"] = [files[name] for name in ("scale",) if name in files]  # the caption's reconstruction choices
    smk = SimpleNamespace(input=Files(files), params=SimpleNamespace(**params),
                          output=SimpleNamespace(pdf=str(tmp_path / "f.pdf"), png=str(tmp_path / "f.png")),
                          log=[str(tmp_path / "f.log")])
    stderr = sys.stderr
    try:
        runpy.run_path(str(ROOT / "workflow" / "scripts" / script), init_globals={"snakemake": smk})
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    assert len(saved) == 1
    return saved[0]


def test_fig3_draws_the_plugin_shape(with_plugin, tmp_path, monkeypatch):
    from surrogate_study.figures.style import shape_color

    tables = tables_with_plugin(0.94)
    fig = run_figure("fig3.py", {"heat": panel_table("fig3b", tables, PARAMS),
                                 "best": panel_table("fig3c", tables, PARAMS)},
                     {"betas": [1.0, 10.0]}, tmp_path, monkeypatch)
    titles = [ax.get_title() for ax in fig.axes]
    assert "gaussian" in titles  # its σ′ panel (a)
    assert any(t.startswith("gaussian: test accuracy") for t in titles)  # its heat map (b)
    bars = [ax for ax in fig.axes if [t.get_text() for t in ax.get_xticklabels()][:1] == ["SuperSpike"]][0]
    assert [t.get_text() for t in bars.get_xticklabels()] == ["SuperSpike", "Sigmoid′", "Esser", "gaussian",
                                                              "constant", "true gradient"]
    colors = [tuple(p.get_facecolor()[:3]) for p in bars.patches]
    assert len(set(colors)) == 6 and colors[3] == pytest.approx(tuple(shape_color("gaussian")))


def test_fig5_draws_the_shape_its_scale_study_trained(with_plugin, tmp_path, monkeypatch):
    scale = scale_table().assign(shape="gaussian")
    tables = {**all_tables(scale=scale), "scale_depth": scale}
    history = pd.DataFrame([{"cell": c, "epoch": e, "train_accuracy": 0.5} for c in scale["cell"] for e in (1, 2)])
    panels = {name: panel_table(f"fig5{'_' if name == 'beta' else ''}{name}", tables, PARAMS)
              for name in ("beta", "c", "d", "e", "f")}
    fig = run_figure("fig5.py", {"scale": scale, "scale_history": history, **panels},
                     {"best_runs": 2, "top_cells": 2, "claim_top_cells": 2, "betas": [1.0, 10.0], "large_beta": 100.0},
                     tmp_path, monkeypatch)
    panel_a = fig.axes[0]
    assert panel_a.get_ylabel() == "asymptotic gaussian σ′"
    x = torch.linspace(-1.0, 1.0, 801)
    expected = Surrogate("gaussian", 10.0, "asymptotic").derivative(x).numpy()
    assert any(line.get_ydata().shape == expected.shape and abs(line.get_ydata() - expected).max() < 1e-6
               for line in panel_a.get_lines())


def fake_distribution(site: Path, name: str, entry_points: str) -> None:
    """A distribution's metadata only (what pip writes), with the given entry points."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[surrogate_study.surrogates]\n{entry_points}\n")


def test_broken_plugins_fail_in_one_line(tmp_path, monkeypatch):
    fake_distribution(tmp_path / "broken", "broken_plugin", "broken = no_such_module:fn")
    monkeypatch.syspath_prepend(str(tmp_path / "broken"))
    shapes.refresh_plugins()
    try:
        assert "broken" in shapes.surrogate_names()
        with pytest.raises(ValueError, match=r"^surrogate plugin 'broken': entry point 'no_such_module:fn' cannot be "
                                             r"loaded \(ModuleNotFoundError"):
            Surrogate("broken")
        fake_distribution(tmp_path / "clash", "clash_plugin", "superspike = no_such_module:fn")
        monkeypatch.syspath_prepend(str(tmp_path / "clash"))
        shapes.refresh_plugins()
        with pytest.raises(ValueError, match=r"surrogate plugin 'superspike' \(no_such_module:fn\) has the name of a "
                                             r"built-in shape"):
            shapes.surrogate_names()
    finally:
        monkeypatch.undo()
        shapes.refresh_plugins()
    assert "broken" not in shapes.surrogate_names()
