"""Issue 32: configs are data (no yte, no `?`-expression, no shell in a file name), base URLs are http(s), a plain
`snakemake` takes the project lock, a huge grid or a bogus cell id is refused before any work."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from surrogate_study.plan.config import ConfigError, validate_workflow_config

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCKED = [sys.executable, str(ROOT / "workflow" / "scripts" / "run_locked.py")]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
ENV = {k: v for k, v in os.environ.items() if k != "SURROGATE_STUDY_LOCK"}
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def run(command, cwd=ROOT, timeout=300):
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


def _smoke() -> dict:
    return yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())


@pytest.fixture
def workflow_copy(tmp_path):
    """The workflow files in a folder of their own (its own .project.lock and .snakemake)."""
    work = tmp_path / "work"
    work.mkdir()
    for item in ("Snakefile", "workflow", "config", "profiles", "benchmarks"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / item)
    return work


def test_a_yte_config_is_refused_naming_the_key_before_snakemake_reads_it(tmp_path):
    evil = tmp_path / "evil.yaml"
    marker = tmp_path / "PWNED"
    evil.write_text("__use_yte__: true\n" + yaml.safe_dump(_smoke())
                    + f"figures_note: ?__import__('os').system('touch {marker}')\n")
    result = run([*RUN_LOCKED, *SNAKEMAKE, "-n", "--configfile", str(evil)])
    assert result.returncode == 2 and not marker.exists()
    assert result.stderr.startswith("config error at __use_yte__: ") and len(result.stderr.splitlines()) == 1
    expression = tmp_path / "expression.yaml"  # a `?`-value without the yte switch is refused too
    expression.write_text(yaml.safe_dump({**_smoke(), "job_size": "?2 * 8"}))
    result = run([*RUN_LOCKED, *SNAKEMAKE, "-n", "--configfile", str(expression)])
    assert result.returncode == 2
    assert result.stderr.startswith("config error at job_size: ") and "plain data" in result.stderr


def test_a_plain_snakemake_refuses_a_yte_config_naming_the_key(tmp_path):
    templated = tmp_path / "templated.yaml"
    templated.write_text("__use_yte__: true\n" + yaml.safe_dump({**_smoke(), "job_size": "?2 * 8"}))
    result = run([*SNAKEMAKE, "-n", "--configfile", str(templated)])
    assert result.returncode != 0
    assert "config error at __use_yte__: " in result.stdout + result.stderr and "Job stats" not in result.stdout


def test_an_empty_config_or_a_shell_in_its_name_is_one_line(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    result = run([*RUN_LOCKED, *SNAKEMAKE, "-n", "--configfile", str(empty)])
    assert result.returncode == 2 and result.stderr == f"config error: {empty} is empty (no keys); give a workflow " \
                                                       "config such as config/config.yaml\n"
    marker = tmp_path / "PWNED"
    named = tmp_path / "a;touch PWNED;.yaml"
    named.write_text(yaml.safe_dump(_smoke()))
    result = run([*RUN_LOCKED, *SNAKEMAKE, "-n", "--configfile", named.name], cwd=tmp_path)
    assert result.returncode == 2 and "config file name" in result.stderr and not marker.exists()
    assert len(result.stderr.splitlines()) == 1


def test_config_file_names_reach_no_shell_unquoted(tmp_path):
    odd = tmp_path / "a b;c"
    odd.mkdir()
    shutil.copy(ROOT / "config" / "smoke.yaml", odd / "smoke.yaml")
    result = run([*SNAKEMAKE, "-n", "-p", "-f", "figures/report.html", "--configfile", str(odd / "smoke.yaml")])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"--configfile '{odd / 'smoke.yaml'}'" in result.stdout + result.stderr
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert "--configfile '${configfile}'" in stage["cmd"], name
    assert "--configfile '$(ACTIVE_CONFIG)'" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("url", ["file:///etc/", "ftp://example.org/mnist/", "/data/mnist/", "https://a b/"])
def test_raw_data_base_urls_must_be_http(url):
    config = {**_smoke(), "raw_sources": {"mnist": {"base_urls": [url]}}}
    with pytest.raises(ConfigError, match=r"^config error at raw_sources\.mnist\.base_urls\.0: value "):
        validate_workflow_config(config, SCHEMA)
    validate_workflow_config({**_smoke(), "raw_sources": {"mnist": {"base_urls": ["http://127.0.0.1:8000/"]}}},
                             SCHEMA)


def test_a_plain_snakemake_is_refused_beside_a_run_and_deletes_no_lock(workflow_copy):
    import fcntl

    locks = workflow_copy / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text("results/cells/x/metrics.json\n")  # the running workflow's lock
    with open(workflow_copy / ".project.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by the running workflow
        handle.write("pid 1: `snakemake --cores 2` since today\n")
        handle.flush()
        for command in ([*SNAKEMAKE, "raw_data", "--cores", "1", "--configfile", "config/smoke.yaml"],
                        [*SNAKEMAKE, "--cores", "1", "--configfile", "config/smoke.yaml"]):
            result = run(command, cwd=workflow_copy)
            assert result.returncode != 0
            assert "another run of this project is in progress (pid 1: `snakemake --cores 2`" in result.stdout + result.stderr
        dry = run([*SNAKEMAKE, "-n", "--configfile", "config/smoke.yaml"], cwd=workflow_copy)  # looking is fine
        assert dry.returncode == 0, dry.stderr[-2000:]
    assert (locks / "0.output.lock").exists()  # `snakemake raw_data` used to remove all of .snakemake/locks


def test_a_huge_grid_is_refused_before_planning_unless_confirmed(tmp_path):
    config = _smoke()
    config["studies"]["shape"]["axes"]["seed"] = list(range(200_000))
    huge = tmp_path / "huge.yaml"
    huge.write_text(yaml.safe_dump(config))
    result = run([*SNAKEMAKE, "-n", "--configfile", str(huge)], timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    line = next(line for line in output.splitlines() if line.startswith("config error at max_cells"))
    assert "the grid has 1,200,0" in line and "core-hours" in line and "allow_large_grid=true" in line
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(_smoke()))
    result = run([*SNAKEMAKE, "-n", "--quiet", "--configfile", str(small), "--config", "max_cells=50"])
    assert "more than max_cells = 50" in result.stdout + result.stderr
    result = run([*SNAKEMAKE, "-n", "--quiet", "--configfile", str(small), "--config", "max_cells=50",
                  "allow_large_grid=true"])
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_job_id_not_in_the_plan_is_named():
    result = run([*SNAKEMAKE, "-n", "results/jobs/abc-1_3cells.json", "--configfile", "config/smoke.yaml"])
    assert result.returncode != 0
    assert "no training job abc-1 with 3 cells in this config" in result.stdout + result.stderr


def test_the_planning_benchmark_generates_a_grid_of_the_asked_size():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from planning_scale import grid_config
    finally:
        sys.path.pop(0)
    from surrogate_study.plan.grid_limit import grid_size
    from surrogate_study.plan.study import plan_studies

    config = grid_config(1000)
    assert 950 <= sum(grid_size(config).values()) <= 1050
    assert 900 <= len(plan_studies(config).cells) <= 1050


def test_a_dvc_stage_whose_shell_names_snakemake_is_not_refused(tmp_path):
    """A DVC stage runs `... run_locked.py snakemake ...` through a shell whose command line names snakemake: that
    ancestor is no snakemake started by hand beside it."""
    shell = f"{sys.executable} {RUN_LOCKED[1]} {sys.executable} -c 'print(\"ran\")' # snakemake grid"
    result = run(["sh", "-c", shell], cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ran", result.stderr
