"""profiles/slurm against a real single-node SLURM cluster (tests/slurm_cluster.sh: munged, slurmctld and
slurmd on localhost, no accounting database).

A one-epoch, one-seed copy of the smoke config runs through a copy of profiles/slurm with the local-test overrides
this machine needs (everything else is the profile as shipped):

- no GPU here: `gpu: 0`; 2 cores: `cpus_per_task: 1` and one thread per training job (the smoke config's
  `train_threads`, so that the numbers can equal a local run's);
- no account, the test partition `test`; no conda (the profile's per-rule environments);
- no accounting database: `slurm-status-command: squeue`; status checks every few seconds.

Asserted: every training job ran as a SLURM job (its id in each cell's metrics.json and in the job's
manifest, and squeue lists exactly those jobs, all of rule `train`, all completed); preprocessing,
aggregation and the figure ran on the submitting machine; the study tables equal a local run's; the
runtime and memory the profile computes from each job's cell count, the CPUs and the partition reached
SLURM (`scontrol show job`). The daemons are stopped whatever happens (fixture finalizer).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from surrogate_study.plan.study import plan_studies

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "tests" / "slurm_cluster.sh"
TARGETS = ["grid", "figures/fig2.pdf"]
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")  # where the `srun` inside each job reads the configuration

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(shutil.which("slurmctld") is None,
                       reason="slurmctld is not installed (apt-get install slurm-wlm munge; .ci/run does)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the single-node test cluster runs its daemons as root"),
    pytest.mark.skipif(SYSTEM_CONF.is_file() and "# test cluster of tests/slurm_cluster.sh" not in
                       SYSTEM_CONF.read_text().splitlines(),
                       reason=f"{SYSTEM_CONF} belongs to another SLURM installation (the test cluster needs that path)"),
]


def test_profile(profile: dict) -> dict:
    """profiles/slurm with the local-test overrides of the module docstring."""
    profile = json.loads(json.dumps(profile))
    profile.pop("software-deployment-method")
    profile["set-threads"]["train"] = 1
    train = profile["set-resources"]["train"]
    train.pop("slurm_account")
    train.update({"gpu": 0, "cpus_per_task": 1, "slurm_partition": "test"})
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2,
                    "latency-wait": 5, "jobs": 4})
    return profile


test_profile.__test__ = False  # a helper, not a test


def workflow_copy(directory: Path) -> Path:
    """The workflow and a one-epoch smoke config in ``directory``."""
    for item in ("Snakefile", "workflow", "config", "profiles", "benchmarks"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, directory / item)
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config["base"]["training"]["epochs"] = 1
    for study in config["studies"].values():  # one seed: fewer cells, fewer and smaller jobs
        if "seed" in study["axes"]:
            study["axes"]["seed"] = [0]
    (directory / "config" / "slurm_test.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return directory


def run(command, cwd, env=None, timeout=900):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node cluster; the environment that reaches it (SLURM_CONF)."""
    state = tmp_path_factory.mktemp("slurm")
    try:
        run([str(CLUSTER), "start", str(state)], cwd=ROOT, timeout=180)
        yield {**os.environ, "SLURM_CONF": str(state / "slurm.conf")}
    finally:
        subprocess.run([str(CLUSTER), "stop", str(state)], timeout=180)


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The one-epoch, one-seed smoke config through the SLURM profile and, at the same time, locally (the
    README's command): (SLURM run's folder, Snakemake's output there, local run's folder)."""
    work = workflow_copy(tmp_path_factory.mktemp("slurm_run"))
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    (work / "profiles" / "slurm-test").mkdir()
    (work / "profiles" / "slurm-test" / "config.yaml").write_text(yaml.safe_dump(test_profile(profile)))
    local = workflow_copy(tmp_path_factory.mktemp("local_run"))
    local_run = subprocess.Popen([sys.executable, "-m", "snakemake", *TARGETS, "--cores", "2", "--configfile",
                                  "config/slurm_test.yaml"], cwd=local, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    try:
        output = run([sys.executable, "-m", "snakemake", *TARGETS, "--profile", "profiles/slurm-test",
                      "--configfile", "config/slurm_test.yaml"], cwd=work, env=cluster)
    finally:
        local_output = local_run.communicate(timeout=900)[0]
    assert local_run.returncode == 0, local_output[-4000:]
    return work, output, local


@pytest.fixture(scope="module")
def slurm_run(runs):
    return runs[:2]


@pytest.fixture(scope="module")
def local_run(runs):
    return runs[2]


def manifests(work: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in (work / "results" / "jobs").glob("*.json")}


def slurm_jobs(env) -> dict[str, tuple[str, str]]:
    """SLURM job id -> (state, comment) of every job the cluster knows (finished ones for MinJobAge)."""
    listing = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%T|%k"], env=env, capture_output=True,
                             text=True, check=True).stdout
    return {job: (state, comment) for job, state, comment in (line.split("|", 2) for line in listing.split())}


def test_every_training_job_ran_as_a_slurm_job(slurm_run, cluster):
    work, _ = slurm_run
    plan = plan_studies(yaml.safe_load((work / "config" / "slurm_test.yaml").read_text()))
    jobs = manifests(work)
    assert sorted(jobs) == sorted(f"{job}_{len(cells)}cells" for job, cells in plan.jobs.items())
    ids = {name: manifest["slurm_job_id"] for name, manifest in jobs.items()}
    assert all(ids.values()) and len(set(ids.values())) == len(ids), ids
    for name, manifest in jobs.items():
        for cell in manifest["cells"]:
            metrics = json.loads((work / "results" / "cells" / cell / "metrics.json").read_text())
            assert metrics["slurm_job_id"] == ids[name], cell
    # the cluster ran exactly these jobs, each one of rule `train`, all to completion
    listed = slurm_jobs(cluster)
    assert set(listed) == set(ids.values()), listed
    for name, slurm_id in ids.items():
        state, comment = listed[slurm_id]
        job, cells = re.fullmatch(r"(.+)_(\d+)cells", name).groups()
        assert state == "COMPLETED" and comment.startswith("rule_train_wildcards_"), listed[slurm_id]
        assert job in comment and cells in comment, comment


def test_data_aggregation_and_figures_ran_on_the_submitting_machine(slurm_run, cluster):
    work, output = slurm_run
    for rule in ("preprocess_dataset", "aggregate_study", "network_traces", "fig2"):
        assert re.search(rf"^localrule {rule}:", output, re.M), rule
    assert not re.search(r"^rule (?!train:)\w+:", output, re.M)  # only `train` jobs went to SLURM
    assert (work / "figures" / "fig2.pdf").read_bytes()[:5] == b"%PDF-"
    assert all(comment.startswith("rule_train_") for _, comment in slurm_jobs(cluster).values())


def test_results_tables_equal_a_local_runs(slurm_run, local_run):
    work, _ = slurm_run
    tables = sorted(p.relative_to(local_run) for p in (local_run / "results").glob("*/*.csv")
                    if p.parent.name in ("studies", "figure_data"))
    assert len(tables) >= 2 * 8 + 3
    for table in tables:  # every number but the wall time
        slurm, local = (pd.read_csv(root / table).drop(columns="wall_time_s", errors="ignore")
                        for root in (work, local_run))
        pd.testing.assert_frame_equal(slurm, local, obj=str(table))
    for manifest in manifests(local_run).values():  # outside SLURM the field is there, and null
        assert manifest["slurm_job_id"] is None
        cell = manifest["cells"][0]
        assert json.loads((local_run / "results" / "cells" / cell / "metrics.json").read_text())["slurm_job_id"] is None


def test_resources_the_profile_asks_for_reach_slurm(slurm_run, cluster):
    work, _ = slurm_run
    profile = test_profile(yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text()))
    train = profile["set-resources"]["train"]
    requested = set()
    for name, manifest in manifests(work).items():
        cells = str(len(manifest["cells"]))
        # the profile's expressions, evaluated as Snakemake evaluates them for this job
        runtime = eval(train["runtime"], {"wildcards": SimpleNamespace(cells=cells)})
        mem_mb = eval(train["mem_mb"], {"wildcards": SimpleNamespace(cells=cells)})
        shown = subprocess.run(["scontrol", "show", "job", manifest["slurm_job_id"]], env=cluster,
                               capture_output=True, text=True, check=True).stdout
        fields = dict(re.findall(r"(\S+?)=(\S*)", shown))
        hours, minutes = divmod(runtime, 60)
        assert fields["TimeLimit"] == f"{hours:02d}:{minutes:02d}:00", (name, fields["TimeLimit"])
        assert fields["MinMemoryNode"] == f"{mem_mb}M", (name, fields["MinMemoryNode"])
        assert fields["NumCPUs"] == str(train["cpus_per_task"]) and fields["Partition"] == "test", fields
        requested.add((runtime, mem_mb))
    assert len(requested) > 1  # jobs of different sizes asked for different runtime and memory
