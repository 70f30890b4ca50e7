"""Provenance records: embedded in figures (PNG text chunk, PDF info), Markdown/LaTeX/HTML comments and
JSON, read back by `surrogate-study provenance FILE`; a figure made from a dirty tree says so."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from surrogate_study.provenance import stamps as provenance  # noqa: E402
from surrogate_study.cli import main  # noqa: E402
from surrogate_study.figures.style import save  # noqa: E402

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A committed git work tree with a config, an input table and a tracked dvc.lock; the cwd."""
    repo = tmp_path / "project"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "run.yaml").write_text("studies: {}\n")
    (repo / "table.csv").write_text("x,y\n0,1\n")
    (repo / "dvc.lock").write_text("schema: '2.0'\n")
    (repo / ".gitignore").write_text("figures/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "project")
    monkeypatch.chdir(repo)
    monkeypatch.setenv(provenance.CONFIG_ENV, str(repo / "config" / "run.yaml"))
    return repo


def make_figure(name: str) -> tuple[Path, Path]:
    """A figure drawn and saved as a workflow script does (its Snakemake object: inputs and config)."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    pdf, png = Path("figures") / f"{name}.pdf", Path("figures") / f"{name}.png"
    save(fig, str(pdf), str(png), snakemake=SimpleNamespace(input=["table.csv"], config={"studies": {}}))
    return pdf, png


def test_a_figure_from_a_clean_tree_names_commit_config_inputs_and_versions(repo):
    pdf, png = make_figure("clean")
    head = git(repo, "rev-parse", "HEAD")
    for path in (pdf, png):
        record = provenance.read(path)
        assert record["commit"] == head and record["dirty"] is False, path
        assert record["config"] == ["config/run.yaml"]
        assert record["config_sha256"] == {"config/run.yaml": provenance.sha256_file("config/run.yaml")}
        assert record["inputs"] == {"table.csv": provenance.sha256_file("table.csv")}
        assert record["inputs_sha256"] == provenance.inputs_digest(record["inputs"])
        assert record["versions"]["matplotlib"] == matplotlib.__version__
        assert "torch" in record["versions"] and record["date"].endswith("+00:00")


def test_a_figure_from_a_dirty_tree_says_dirty(repo, capsys):
    (repo / "table.csv").write_text("x,y\n0,2\n")  # a tracked file changed, not committed
    pdf, png = make_figure("dirty")
    assert provenance.read(png)["dirty"] is True and provenance.read(pdf)["dirty"] is True
    assert main(["provenance", str(png)]) == 0
    printed = capsys.readouterr().out
    assert f"commit: {git(repo, 'rev-parse', 'HEAD')}" in printed and "dirty: True" in printed
    git(repo, "checkout", "-q", "table.csv")
    (repo / "new_module.py").write_text("x = 1\n")  # an untracked, not ignored file also counts
    assert provenance.read(make_figure("untracked")[1])["dirty"] is True


def test_the_pipelines_own_tracked_outputs_do_not_make_the_tree_dirty(repo):
    (repo / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    assert provenance.git_state(repo) == (git(repo, "rev-parse", "HEAD"), False)
    assert provenance.read(make_figure("after_repro")[1])["dirty"] is False


def test_outside_git_commit_and_dirty_are_null(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_state(tmp_path) == (None, None)


def test_text_and_json_artifacts_round_trip(repo, capsys):
    record = provenance.collect(["config/run.yaml"], ["table.csv"])
    for name, text in (("table1.md", "# Table\n\n| a |\n|---|\n| 1 |\n"), ("table1.tex", "\\begin{tabular}{l}\n"),
                       ("report.html", "<html><body>report</body></html>\n")):
        Path(name).write_text(text)
        provenance.stamp_text(name, record)
        provenance.stamp_text(name, record)  # stamping twice keeps one record
        content = Path(name).read_text()
        assert content.startswith(text.rstrip("\n")) and content.count(provenance.KEY) == 1, name
        assert provenance.read(name) == record
    Path("metrics.json").write_text(json.dumps({"best": 0.9, "provenance": record}))
    assert provenance.read("metrics.json") == record
    Path("run_metrics.json").write_text(json.dumps({"versions": {"torch": "2", "commit": "abc", "dirty": False}}))
    assert provenance.read("run_metrics.json")["commit"] == "abc"
    assert main(["provenance", "--json", "table1.md", "metrics.json"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [record, record]


def test_a_file_without_a_record_is_one_line_error(repo):
    result = subprocess.run([sys.executable, "-m", "surrogate_study", "provenance", "table.csv"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: table.csv: no {provenance.KEY} record in this file"
