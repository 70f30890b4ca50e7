"""DVC lineage around the Snakemake DAG, in a temporary git repository holding this project.

One `dvc repro` of the smoke config (config/active.yaml switched to config/smoke.yaml) feeds
every test: status clean, the stage graph, the lock's lineage, the provenance records of the
artifacts, the headline metrics, `dvc plots show`, a changed grid parameter, push -> fresh clone ->
`make pull` -> Snakemake has nothing to do, the same from a remote published read-only over HTTP
(`make pull REMOTE=http://...`), and (last: it changes the workspace) `dvc exp run -S`.
"""

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml

from surrogate_study.provenance import stamps as provenance

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
GIT = ["git", "-c", "user.name=lineage-test", "-c", "user.email=lineage-test@localhost"]


def run(*args, cwd, timeout=900):
    result = subprocess.run(list(args), cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def dvc(*args, cwd, timeout=900):
    return run(str(BIN / "dvc"), *args, cwd=cwd, timeout=timeout)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_each_stage_depends_on_the_package_folders_its_scripts_import():
    """Every package module a stage's scripts load lies in a folder (or is a file) the stage depends on, and the
    stages name layer folders, not a hand list of modules."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        deps = set(stage["deps"])
        package_files = {dep for dep in deps if dep.startswith("src/") and (ROOT / dep).is_file()}
        assert package_files == {"src/surrogate_study/__init__.py"}, (name, "depend on layer folders")
        scripts = [dep for dep in deps if dep.startswith("workflow/scripts/")]
        assert scripts, name
        imported = {m for script in scripts
                    for m in re.findall(r"^from (surrogate_study[\w.]*) import", (ROOT / script).read_text(), re.M)}
        probe = ("import sys\n" + "".join(f"import {m}\n" for m in sorted(imported))
                 + "print('\\n'.join(m.__file__ for k, m in sys.modules.items() if k.startswith('surrogate_study')))")
        files = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        needed = {Path(f).resolve().relative_to(ROOT).as_posix() for f in files}
        uncovered = {f for f in needed if not any(f == dep or f.startswith(dep.rstrip("/") + "/") for dep in deps)}
        assert uncovered == set(), (name, sorted(uncovered))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """This project (tracked and new files) as a fresh git repository, after `dvc repro` on the smoke config."""
    repo = tmp_path_factory.mktemp("lineage") / "repo"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    active = repo / "config" / "active.yaml"
    active.write_text(active.read_text().replace("configfile: config/config.yaml", "configfile: config/smoke.yaml"))
    run("git", "init", "-q", cwd=repo)
    run("git", "add", "-A", cwd=repo)
    run(*GIT, "commit", "-qm", "project", cwd=repo)
    dvc("repro", cwd=repo)
    return repo


def test_repro_leaves_status_clean_and_records_lineage(repo):
    assert "Data and pipelines are up to date." in dvc("status", cwd=repo)
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert set(lock) == {"raw", "data", "grid", "figures"}
    # the figure's content hash, and the config keys and code the grid behind it read
    figure_outs = {out["path"]: out["md5"] for out in lock["figures"]["outs"]}
    assert figure_outs["figures/fig3.pdf"] == md5(repo / "figures" / "fig3.pdf")
    smoke = yaml.safe_load((repo / "config" / "smoke.yaml").read_text())
    assert lock["grid"]["params"]["config/smoke.yaml"]["studies"]["shape"] == smoke["studies"]["shape"]
    assert lock["figures"]["params"]["config/smoke.yaml"]["claims"] == smoke["claims"]
    grid_deps = {dep["path"] for dep in lock["grid"]["deps"]}
    assert {"data/processed", "src/surrogate_study/fused", "src/surrogate_study/kernels", "workflow/scripts/train_cells.py"} <= grid_deps
    assert "snakemake grid --configfile 'config/smoke.yaml'" in lock["grid"]["cmd"]
    # per-cell folders are outputs, but not in the DVC cache
    cells = next(out for out in lock["grid"]["outs"] if out["path"] == "results/cells")
    assert cells["nfiles"] >= 3 * 20
    assert not any((repo / ".dvc" / "cache").rglob("model.pt"))


def test_every_artifact_names_the_commit_config_and_inputs_it_came_from(repo):
    head = run("git", "rev-parse", "HEAD", cwd=repo).strip()
    config_hash = provenance.sha256_file(repo / "config" / "smoke.yaml")
    artifacts = [f"figures/fig{i}.{ext}" for i in range(1, 7) for ext in ("png", "pdf")]
    artifacts += ["figures/table1.md", "figures/table1.tex", "figures/claims.md", "figures/report.html",
                  "results/metrics.json"]
    for name in artifacts:
        record = provenance.read(repo / name)
        # dvc repro rewrote only the pipeline's own tracked outputs (dvc.lock, results/metrics.json): clean
        assert record["commit"] == head and record["dirty"] is False, (name, record)
        assert record["config"] == ["config/smoke.yaml"] and record["config_sha256"] == {"config/smoke.yaml": config_hash}
        assert record["inputs"] and all(digest == provenance.sha256_file(repo / path)
                                        for path, digest in record["inputs"].items()), name
        assert record["versions"]["surrogate-study"] and record["versions"]["numpy"], name
    assert set(provenance.read(repo / "figures" / "fig3.png")["inputs"]) == {
        "results/panels/fig3b.csv", "results/panels/fig3c.csv",  # what it draws
        "results/studies/shape.csv", "results/studies/shape_control.csv"}  # its caption's reconstruction choices
    printed = run(str(BIN / "surrogate-study"), "provenance", "figures/fig3.pdf", cwd=repo)
    assert f"commit: {head}" in printed and "dirty: False" in printed and "results/panels/fig3b.csv" in printed
    run_metrics = json.loads(next((repo / "results" / "cells").glob("*/metrics.json")).read_text())
    assert run_metrics["versions"]["commit"] == head and run_metrics["versions"]["dirty"] is False


def test_plots_show_draws_learning_curves_accuracy_vs_beta_and_figures(repo, tmp_path):
    shown = json.loads(dvc("plots", "show", "--json", cwd=repo))
    assert not shown.get("errors"), shown.get("errors")
    plots = shown["data"]
    studies = yaml.safe_load((repo / "config" / "smoke.yaml").read_text())["studies"]
    for study in studies:
        curve = plots[f"results/studies/{study}_history.csv"][0]["content"]
        history = pd.read_csv(repo / "results" / "studies" / f"{study}_history.csv")
        assert len(curve["data"]["values"]) == len(history) > 0, study
        assert curve["encoding"]["color"]["field"] == "cell"  # one line per cell (.dvc/plots/by_cell.json)
    beta = plots["accuracy_vs_beta"][0]["content"]
    panel = pd.read_csv(repo / "results" / "panels" / "fig5_beta.csv")
    assert len(beta["data"]["values"]) == len(panel) > 0 and beta["encoding"]["color"]["field"] == "axis:variant"
    assert {f"figures/fig{i}.png" for i in range(1, 7)} <= {k for k, v in plots.items() if v[0]["type"] == "image"}
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=repo)
    html = (tmp_path / "plots" / "index.html").read_text()
    assert html.count("vegaEmbed(") == len(studies) + 1 and html.count("<img") == 6


def test_dag_runs_from_raw_data_to_figures(repo):
    dot = dvc("dag", "--dot", cwd=repo)
    edges = {tuple(part.strip().strip('"') for part in line.rstrip(";").split("->"))
             for line in dot.splitlines() if "->" in line}
    assert edges == {("raw", "data"), ("data", "grid"), ("grid", "figures")}, dot


def test_metrics_hold_the_headline_numbers_of_the_tables(repo):
    numbers = json.loads((repo / "results" / "metrics.json").read_text())
    assert set(numbers) == {"best_test_accuracy", "best_test_accuracy_sd", "seeds", "scale_sensitivity_gap",
                            "critical_activity", "provenance", "shape_spread_by_dataset",
                            "critical_activity_by_dataset", "critical_activity_interval_by_dataset",
                            "critical_activity_imprecise_by_dataset"}
    # claims 1 and 3 per dataset: the smoke config's MNIST-5k cells (SuperSpike only) give claim 1 no spread
    assert numbers["shape_spread_by_dataset"]["mnist5k"] is None
    assert numbers["critical_activity_by_dataset"] == {"randman": numbers["critical_activity"]}
    low, high = numbers["critical_activity_interval_by_dataset"]["randman"]
    assert low <= numbers["critical_activity"] <= high
    assert set(numbers["best_test_accuracy"]) == {"superspike", "sigmoid", "esser", "constant", "true"}
    # per seed the best SuperSpike cell of the shape study (highest validation accuracy, ties by cell id);
    # mean and SD over the seeds
    shape = pd.read_csv(repo / "results" / "studies" / "shape.csv")
    best = (shape[(shape["shape"] == "superspike") & (shape["status"] == "ok")]
            .sort_values(["valid_accuracy", "cell"], ascending=[False, True]).groupby("seed").head(1))
    assert numbers["seeds"]["superspike"] == len(best) == shape["seed"].nunique()
    assert numbers["best_test_accuracy"]["superspike"] == pytest.approx(best["test_accuracy"].mean())
    assert numbers["best_test_accuracy_sd"]["superspike"] == pytest.approx(best["test_accuracy"].std(ddof=1))
    shown = json.loads(dvc("metrics", "show", "--json", cwd=repo))  # what `dvc metrics show` reads
    shown = next(iter(shown.values()))["data"]["results/metrics.json"]["data"]
    assert shown["best_test_accuracy"] == {k: v for k, v in numbers["best_test_accuracy"].items() if v is not None}


def test_a_changed_grid_parameter_makes_the_grid_stale(repo):
    config = repo / "config" / "smoke.yaml"
    original = config.read_text()
    try:
        smoke = yaml.safe_load(original)
        smoke["studies"]["shape"]["axes"]["training.lr"] = [0.01, 0.02]
        config.write_text(yaml.safe_dump(smoke, sort_keys=False))
        status = dvc("status", cwd=repo)
        stale = {line.rstrip(":").strip() for line in status.splitlines() if line and not line[0].isspace()}
        assert stale == {"grid"}, status
        assert "studies" in status
        params = dvc("params", "diff", "--all", cwd=repo)
        assert "studies.shape.axes.training.lr" in params, params
    finally:
        config.write_text(original)
    assert "Data and pipelines are up to date." in dvc("status", cwd=repo)


def test_push_fresh_clone_pull_leaves_nothing_to_do(repo):
    run("git", "add", "dvc.lock", "results/metrics.json", cwd=repo)
    run(*GIT, "commit", "-qm", "results of dvc repro", cwd=repo)
    dvc("push", cwd=repo)
    storage = repo.parent / "surrogate-study-dvc-storage"  # the default remote: next to the clone
    assert (storage / "files" / "md5").is_dir()

    clone = repo.parent / "clone"
    run("git", "clone", "-q", str(repo), str(clone), cwd=repo.parent)
    assert not (clone / "figures" / "fig3.pdf").exists()
    run("make", "pull", f"VENV={sys.prefix}", "STAMP=", cwd=clone)
    for name in ("figures/fig3.pdf", "figures/report.html", "results/studies/shape.csv", "data/processed/mnist5k.npz"):
        assert md5(clone / name) == md5(repo / name), name
    dry_run = run(sys.executable, "-m", "snakemake", "-n", "--configfile", "config/smoke.yaml", cwd=clone)
    assert "Nothing to be done" in dry_run, dry_run[-3000:]


def test_a_remote_published_over_http_serves_make_pull_in_a_fresh_clone(repo, tmp_path):
    if run("git", "status", "--porcelain", "dvc.lock", "results/metrics.json", cwd=repo).strip():
        run("git", "add", "dvc.lock", "results/metrics.json", cwd=repo)
        run(*GIT, "commit", "-qm", "results of dvc repro", cwd=repo)
    # the lab publishes: push to a directory that a plain static web server serves
    site = tmp_path / "site"
    dvc("remote", "add", "--local", "--force", "site", str(site), cwd=repo)
    dvc("push", "--remote", "site", cwd=repo)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # a reader: a fresh clone with no access to the lab's storage, only to the URL
        clone = tmp_path / "reader"
        run("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run("make", "pull", f"REMOTE={url}", f"VENV={sys.prefix}", "STAMP=", cwd=clone)
    finally:
        server.shutdown()
        server.server_close()
    assert url in (clone / ".dvc" / "config.local").read_text()
    for name in ("figures/fig3.pdf", "figures/fig5.png", "figures/report.html", "figures/claims.md",
                 "results/studies/shape.csv", "results/panels/fig3c.csv"):
        assert md5(clone / name) == md5(repo / name), name
    dry_run = run(sys.executable, "-m", "snakemake", "-n", "--configfile", "config/smoke.yaml", cwd=clone)
    assert "Nothing to be done" in dry_run, dry_run[-3000:]
    assert not (clone / "results" / "cells").exists()  # nothing was retrained


def test_exp_run_sets_a_key_of_the_active_config_file(repo):
    """`dvc exp run -S '<config file>:<dotted key>=<value>'` (README): here a claims threshold, so that only
    the figures stage reruns; a training key (base.training.epochs) works the same way and reruns the grid."""
    before = json.loads((repo / "results" / "metrics.json").read_text())
    dvc("exp", "run", "-n", "loose-spread", "-S", "config/smoke.yaml:claims.shape_spread_max=0.5", cwd=repo)
    assert yaml.safe_load((repo / "config" / "smoke.yaml").read_text())["claims"]["shape_spread_max"] == 0.5
    shown = json.loads(dvc("exp", "show", "--json", cwd=repo))
    experiments = [exp for rev in shown for branch in (rev.get("experiments") or []) for exp in branch["revs"]]
    run_ = next(exp for exp in experiments if exp["name"] == "loose-spread")
    params = run_["data"]["params"]["config/smoke.yaml"]["data"]
    assert params["claims"]["shape_spread_max"] == 0.5
    metrics = run_["data"]["metrics"]["results/metrics.json"]["data"]
    assert metrics["best_test_accuracy"] == {k: v for k, v in before["best_test_accuracy"].items() if v is not None}
    # the figures stage reran on the changed config (the grid did not) and its artifacts say so
    record = provenance.read(repo / "figures" / "claims.md")
    assert record["config_sha256"]["config/smoke.yaml"] == provenance.sha256_file(repo / "config" / "smoke.yaml")
    assert record["dirty"] is True  # made from the experiment's changed config, before DVC committed it
