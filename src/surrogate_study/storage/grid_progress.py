"""Progress and ETA of a long grid, from the cost model's prediction of every training job.

When a workflow run starts (Snakemake's ``onstart``), :func:`write_progress_plan` writes
``.snakemake/grid_progress.json``: the predicted wall seconds of every planned training job (by its manifest,
``results/jobs/<job>_<n>cells.json``), the run's cores and threads per job. Each training job reads it when it
ends and prints one line (:func:`job_done_message`): how long it took against its prediction, how many
training jobs of the grid are done, and the rest's predicted time on this run's cores,

    remaining wall ≈ Σ predicted seconds of the jobs not done / ⌊cores / threads⌋

(not done: no manifest yet, or one this run retrains because a cell file was deleted or cut short and that
has not ended yet),

scaled by measured / predicted of the jobs this run trained so far, so that a machine slower or faster than
the one the rates were measured on is seen after the first jobs (1 before the first; a job whose cells were
all kept from an earlier run trained nothing and does not count). Light: imported while planning.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from surrogate_study.storage.atomic import write_text_atomic

#: Where the run's predictions are kept (Snakemake's own folder: not a result).
PROGRESS_FILE = Path(".snakemake") / "grid_progress.json"


def duration(seconds: float) -> str:
    """'2 h 05 min', '7 min 30 s', '42 s'."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def slots(plan: Mapping[str, Any]) -> int:
    """Training jobs that run at a time: ⌊cores / threads per job⌋, at least 1."""
    return max(1, int(plan["cores"]) // max(1, int(plan["threads"])))


def write_progress_plan(path: str | Path, predicted: Mapping[str, float], cores: int, threads: int,
                        retrained: Iterable[str] = ()) -> dict:
    """Write the run's predictions (manifest -> wall seconds) and what of them is still to train, return it: the
    jobs without a manifest, and ``retrained``, manifests of jobs this run retrains although they exist (a cell
    file deleted or cut short)."""
    again = set(retrained)
    todo = [job for job in predicted if job in again or not os.path.exists(job)]
    plan = {"cores": int(cores), "threads": int(threads), "jobs": dict(predicted), "todo_at_start": todo,
            "retrained": sorted(again & set(predicted)), "finished_this_run": {}, "ended_this_run": []}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(plan) + "\n")
    return plan


def start_message(plan: Mapping[str, Any]) -> str:
    """One line: the training jobs still to train (no manifest, or retrained) and their predicted wall time on
    this run's cores (a job Snakemake reruns for changed code or params is not counted here); with none left,
    that all are done (``make repro`` starts Snakemake once per DVC stage: the later starts find the grid done)."""
    todo = plan["todo_at_start"]
    if not todo:
        return f"grid: all {len(plan['jobs'])} training jobs done"
    seconds = sum(plan["jobs"][job] for job in todo)
    return (f"grid: {len(todo)} of {len(plan['jobs'])} training jobs not yet done, predicted "
            f"{seconds * plan['threads'] / 3600:.2f} core-hours, about {duration(seconds / slots(plan))} on "
            f"{plan['cores']} cores (cost model: benchmarks/cost_rates.csv)")


@contextlib.contextmanager
def progress_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock (``flock``) on ``<path>.lock`` while the progress file is read, changed and
    written, so that two jobs ending at the same instant do not lose one of their records. Where the file
    system refuses locks, no lock (the speed estimate may then miss a job; nothing else depends on it)."""
    try:
        handle = open(f"{path}.lock", "a")
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:
            pass
        yield  # closing the file releases the lock


def job_done_message(path: str | Path, manifest: str, wall_s: float, trained: bool = True) -> str | None:
    """Record a finished job in the run's progress file and return its progress line (None without a plan).

    ``trained`` False (every cell of the job was already finished and kept) counts the job as done but leaves it
    out of the measured speed. The record is made under :func:`progress_lock`."""
    if not Path(path).is_file():
        return None
    with progress_lock(path):
        return _record_job(path, manifest, wall_s, trained)


def _record_job(path: str | Path, manifest: str, wall_s: float, trained: bool) -> str | None:
    try:
        plan = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    jobs = plan.get("jobs", {})
    if manifest not in jobs:
        return None
    if trained:
        plan["finished_this_run"][manifest] = wall_s
    ended = plan.setdefault("ended_this_run", [])
    if manifest not in ended:
        ended.append(manifest)
    write_text_atomic(path, json.dumps(plan) + "\n")
    finished = plan["finished_this_run"]
    predicted = sum(jobs[job] for job in finished if job in jobs)
    speed = sum(finished.values()) / predicted if finished and predicted > 0 else 1.0
    # done: a manifest on disk, unless the job is one this run retrains and it has not ended yet
    pending = set(plan.get("retrained", [])) - set(ended)
    done = [job for job in jobs if job in ended or (os.path.exists(job) and job not in pending)]
    left = sum(seconds for job, seconds in jobs.items() if job not in done) * speed / slots(plan)
    return (f"progress: {Path(manifest).stem} trained in {duration(wall_s)} (predicted {duration(jobs[manifest])}); "
            f"{len(done)} of {len(jobs)} training jobs done, about {duration(left)} left on {plan['cores']} cores")
