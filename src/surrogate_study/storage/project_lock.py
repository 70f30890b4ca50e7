"""The project lock for a Snakemake started by hand: the same ``flock(2)`` on ``.project.lock`` that
workflow/scripts/run_locked.py takes for `make reproduce`, `make repro` and every DVC stage.

The Snakefile calls :func:`hold_project_lock` before planning, so a plain ``snakemake …`` beside a locked run
(or a locked run, a DVC stage, `dvc repro` beside a plain ``snakemake``) is refused in one line, and nothing
trains twice. The lock is held by an open descriptor until the Snakemake process exits; processes started
under it (and the same process reading the Snakefile again) find ``SURROGATE_STUDY_LOCK`` set and go on under
it. Dry runs (``-n``) take no lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import time
from pathlib import Path

LOCK_FILE = ".project.lock"
ENV_KEY = "SURROGATE_STUDY_LOCK"

_held: list[int] = []  # the descriptor that holds the lock, kept open until the process exits


#: Snakemake options that run no job (the Snakefile is read before Snakemake says whether it will run jobs).
NO_JOB_OPTIONS = frozenset({"-n", "--dry-run", "--dryrun", "--lint", "--list", "-l", "--list-rules",
                            "--list-target-rules", "--summary", "-S", "--detailed-summary", "--dag",
                            "--rulegraph", "--filegraph", "--list-changes", "--lc"})


def runs_no_job(argv: list[str]) -> bool:
    """Whether a snakemake command line takes no lock: it only looks (dry run, lint, listings, graphs), or it is
    the step of one job (``--target-jobs``: a cluster job, run for a main Snakemake that holds the lock)."""
    return any(arg in NO_JOB_OPTIONS or arg.startswith("--target-jobs")
               or re.fullmatch(r"-[a-zA-Z]*n[a-zA-Z]*", arg) is not None for arg in argv[1:])


class ProjectLocked(RuntimeError):
    """Another run of this project holds the lock (the message is one line naming it)."""


def _holder(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "unknown process"
    except OSError:
        return "unknown process"


def hold_project_lock(lock: str | Path = LOCK_FILE, what: str | None = None) -> bool:
    """Take the project lock for the rest of this process; False when a parent run already holds it for us.

    Raises :class:`ProjectLocked` (one line) when another run holds it.
    """
    lock = Path(lock)
    if os.environ.get(ENV_KEY) == str(lock.resolve()):
        return False
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ProjectLocked(
            f"error: another run of this project is in progress ({_holder(lock)}; it holds {lock}); not starting "
            f"`{what or ' '.join(sys.argv)}`: wait for it to finish, or stop it first") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}: `{what or ' '.join(sys.argv)}` since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n".encode())
    _held.append(fd)
    os.environ[ENV_KEY] = str(lock.resolve())  # jobs and nested Snakemake runs go on under this lock
    return True
