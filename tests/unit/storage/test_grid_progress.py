"""The grid's progress line: jobs done and the predicted rest, scaled by how this run's jobs compared."""

import json

import pytest

from surrogate_study.storage.grid_progress import (
    duration,
    job_done_message,
    start_message,
    write_progress_plan,
)


@pytest.mark.parametrize("seconds, text", [(42.4, "42 s"), (450, "7 min 30 s"), (7500, "2 h 05 min"), (-3, "0 s")])
def test_durations_read_as_hours_minutes_seconds(seconds, text):
    assert duration(seconds) == text


def test_the_eta_counts_the_jobs_left_on_the_runs_slots_at_the_measured_speed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "jobs").mkdir(parents=True)
    jobs = {f"results/jobs/{name}_2cells.json": seconds for name, seconds in
            (("a-000", 100.0), ("b-000", 200.0), ("c-000", 300.0), ("d-000", 400.0))}
    (tmp_path / "results/jobs/a-000_2cells.json").write_text("{}")  # finished before this run
    plan = write_progress_plan("progress.json", jobs, cores=2, threads=1)
    assert plan["todo_at_start"] == list(jobs)[1:]
    assert start_message(plan) == ("grid: 3 of 4 training jobs not yet done, predicted 0.25 core-hours, about 7 min 30 s "
                                   "on 2 cores (cost model: benchmarks/cost_rates.csv)")  # 900 s on 2 slots
    # b took twice its prediction: the rest (c, d: 700 s predicted) is expected at that speed, on 2 slots
    line = job_done_message("progress.json", "results/jobs/b-000_2cells.json", 400.0)
    assert line == ("progress: b-000_2cells trained in 6 min 40 s (predicted 3 min 20 s); 2 of 4 training jobs done, "
                    "about 11 min 40 s left on 2 cores")
    assert json.loads((tmp_path / "progress.json").read_text())["finished_this_run"] == {
        "results/jobs/b-000_2cells.json": 400.0}


def test_a_grid_with_nothing_left_to_train_says_so_in_one_short_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "jobs").mkdir(parents=True)
    jobs = {"results/jobs/a-000_1cells.json": 100.0, "results/jobs/b-000_1cells.json": 300.0}
    for job in jobs:
        (tmp_path / job).write_text("{}")
    assert start_message(write_progress_plan("progress.json", jobs, cores=2, threads=1)) == (
        "grid: all 2 training jobs done")
    # one of them retrained (a cell file deleted): not done
    assert start_message(write_progress_plan("progress.json", jobs, cores=2, threads=1, retrained=list(jobs)[:1])
                         ).startswith("grid: 1 of 2 training jobs not yet done")


def test_a_job_that_kept_all_its_cells_is_done_but_not_a_measure_of_speed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = {"results/jobs/a-000_1cells.json": 100.0, "results/jobs/b-000_1cells.json": 300.0}
    write_progress_plan("p.json", jobs, cores=1, threads=1)
    line = job_done_message("p.json", "results/jobs/a-000_1cells.json", 0.5, trained=False)
    assert line.endswith("1 of 2 training jobs done, about 5 min 00 s left on 1 cores")  # b at its prediction
    assert json.loads((tmp_path / "p.json").read_text())["finished_this_run"] == {}


def test_without_a_plan_or_for_a_job_it_does_not_know_nothing_is_printed(tmp_path):
    assert job_done_message(tmp_path / "absent.json", "results/jobs/a-000_1cells.json", 1.0) is None
    write_progress_plan(tmp_path / "p.json", {"results/jobs/a-000_1cells.json": 1.0}, cores=1, threads=1)
    assert job_done_message(tmp_path / "p.json", "results/jobs/z-000_1cells.json", 1.0) is None


def test_a_job_ending_while_another_records_itself_waits_and_both_are_kept(tmp_path, monkeypatch):
    """The record is a read-modify-write of one file: a second job waits for the first one's lock instead of
    overwriting its record."""
    import fcntl
    import subprocess
    import sys
    import time

    monkeypatch.chdir(tmp_path)
    jobs = {"results/jobs/a-000_1cells.json": 100.0, "results/jobs/b-000_1cells.json": 300.0}
    write_progress_plan("progress.json", jobs, cores=2, threads=1)
    record_b = ("from surrogate_study.storage.grid_progress import job_done_message; "
                "print(job_done_message('progress.json', 'results/jobs/b-000_1cells.json', 250.0))")
    with open("progress.json.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # job a is recording itself
        other = subprocess.Popen([sys.executable, "-c", record_b], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert other.poll() is None, "job b recorded itself while job a held the lock"
        line_a = json.loads((tmp_path / "progress.json").read_text())
        line_a["finished_this_run"]["results/jobs/a-000_1cells.json"] = 90.0
        (tmp_path / "progress.json").write_text(json.dumps(line_a) + "\n")
    out, _ = other.communicate(timeout=60)
    assert "1 of 2 training jobs done" in out  # a's manifest is not written here: only b counts as done
    assert json.loads((tmp_path / "progress.json").read_text())["finished_this_run"] == {
        "results/jobs/a-000_1cells.json": 90.0, "results/jobs/b-000_1cells.json": 250.0}


def test_a_job_retrained_for_a_deleted_cell_file_is_to_do_until_it_ends(tmp_path, monkeypatch):
    """Its manifest exists from the earlier run, but this run retrains it (train_jobs.smk: the stale jobs): the
    start line counts it, and it is done only once it has ended in this run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "jobs").mkdir(parents=True)
    jobs = {f"results/jobs/{name}_1cells.json": 100.0 for name in ("a-000", "b-000", "c-000")}
    for manifest in jobs:
        (tmp_path / manifest).write_text("{}")
    plan = write_progress_plan("progress.json", jobs, cores=2, threads=1,
                               retrained=["results/jobs/a-000_1cells.json", "results/jobs/c-000_1cells.json"])
    assert start_message(plan).startswith("grid: 2 of 3 training jobs not yet done, predicted 0.06 core-hours")
    line = job_done_message("progress.json", "results/jobs/a-000_1cells.json", 100.0)
    assert "2 of 3 training jobs done, about 50 s left" in line  # c is still to retrain
    line = job_done_message("progress.json", "results/jobs/c-000_1cells.json", 100.0, trained=False)
    assert "3 of 3 training jobs done, about 0 s left" in line
