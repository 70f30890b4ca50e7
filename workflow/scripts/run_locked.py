"""Run a workflow command under the project lock; recover a stale Snakemake lock after a kill.

    python workflow/scripts/run_locked.py snakemake --cores 2          (what `make reproduce` runs)
    python workflow/scripts/run_locked.py dvc repro                    (what `make repro` runs)
    python workflow/scripts/run_locked.py snakemake grid --configfile F (each DVC stage command)

1. Takes an exclusive ``flock(2)`` on ``.project.lock`` in the current folder (the lock util-linux
   ``flock .project.lock CMD`` takes). When another run holds it, prints one line naming that run
   and exits 75 without starting anything: two runs never train or delete the same files at once
   (Snakemake's own lock does not cover this: a finishing Snakemake removes all of
   ``.snakemake/locks``, also those of a run beside it). Commands started by a locked command (the
   stages of a locked ``dvc repro``) find ``SURROGATE_STUDY_LOCK`` set and run under their parent's lock.
2. Checks the workflow config files a ``snakemake`` command reads (``--configfile``, else
   ``config/config.yaml``) before Snakemake reads them (Snakemake evaluates a config holding ``__use_yte__``
   as a yte template, running its expressions): a syntax error is one line with the file, line and column;
   a yte key or a ``?``-expression anywhere, an empty file or a file name with a shell's special character
   is one line naming it; exit 2. Configs are data.
3. With the project lock held no other run is alive, so a Snakemake lock left in
   ``.snakemake/locks`` is stale (a killed run): it is removed (``snakemake --unlock``, said on one
   line), and the run resumes from what the killed run finished (training resumes from checkpoints).
4. Replaces itself by the command (``exec``), which holds the lock until it exits.

It imports only the package's light planning layer (no torch): it runs before anything else, also as a DVC stage
command.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from surrogate_study.plan.config import ConfigError, check_workflow_config_file

LOCK_FILE = ".project.lock"
ENV_KEY = "SURROGATE_STUDY_LOCK"
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later
DEFAULT_CONFIG = "config/config.yaml"


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text().strip()
    except OSError:
        text = ""
    return text or "unknown process"


def acquire(lock: Path) -> int | None:
    """The open, exclusively locked lock file's descriptor; None when a parent run holds the lock.

    Exits 75 with one line when another run holds it.
    """
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        if os.environ.get(ENV_KEY) == str(lock.resolve()):
            return None  # started by the run that holds the lock (a stage of a locked `dvc repro`)
        print(f"error: another run of this project is in progress ({_holder(lock)}; it holds {lock}); "
              f"not starting `{' '.join(sys.argv[1:])}`: wait for it to finish, or stop it first",
              file=sys.stderr)
        sys.exit(EXIT_LOCKED)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}: `{' '.join(sys.argv[1:])}` since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n".encode())
    os.set_inheritable(fd, True)  # kept across exec: the command itself holds the lock
    return fd


def is_snakemake(command: list[str]) -> bool:
    return Path(command[0]).name == "snakemake" or command[1:3] == ["-m", "snakemake"]


def config_files(command: list[str]) -> list[str]:
    """The workflow config files a snakemake command line reads."""
    files: list[str] = []
    args = iter(command[1:])
    for arg in args:
        if arg in ("--configfile", "--configfiles"):
            for value in args:
                if value.startswith("-"):
                    break
                files.append(value)
        elif arg.startswith("--configfile="):
            files.append(arg.split("=", 1)[1])
    return files or [DEFAULT_CONFIG]


def check_yaml(path: str) -> None:
    """Exit 2 with one line when ``path`` is not a plain-data workflow config: a YAML error (file, line, column),
    an empty file, a yte template key or a ``?``-expression (the Snakefile's check too:
    :func:`surrogate_study.plan.config.check_workflow_config_file`)."""
    try:
        check_workflow_config_file(path)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        sys.exit(2)


def check_name(path: str) -> None:
    """Exit 2 with one line when a config file name holds a character outside :data:`SAFE_NAME`."""
    bad = sorted(set(path) - SAFE_NAME)
    if bad or not path:
        print(f"config error: config file name {path!r} is not allowed: use letters, digits and . _ - / + @ , = : "
              f"only (found {''.join(bad) or 'an empty name'})", file=sys.stderr)
        sys.exit(2)


#: Characters a config file name may hold (it is passed on to commands; never a shell's special character).
SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+@,=:")


def ancestors() -> set[int]:
    """This process and its ancestors (the shell of a DVC stage command names snakemake too)."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def other_snakemake_here() -> list[int]:
    """Pids of live snakemake processes (other than this one and its ancestors) working in this folder
    (Linux /proc)."""
    here, pids, mine = Path.cwd().resolve(), [], ancestors()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int(proc.name) in mine or Path(os.readlink(proc / "cwd")).resolve() != here:
                continue
            if b"snakemake" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


def recover_stale_lock(command: list[str]) -> None:
    """Remove a Snakemake lock that no live run holds (only called with the project lock held).

    A snakemake started by hand beside us (not through this script) is looked for in /proc as well;
    while one runs here its lock is left alone (Snakemake then refuses with its own LockException).
    """
    locks = Path(".snakemake/locks")
    if not (locks.is_dir() and any(locks.iterdir())):
        return
    if other_snakemake_here():
        return
    print("note: removing a stale Snakemake lock left by an interrupted run (no other run holds "
          f"{LOCK_FILE}); the run resumes from the finished outputs and checkpoints", file=sys.stderr)
    unlock = subprocess.run([*command, "--unlock"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if unlock.returncode != 0:
        sys.stderr.write(unlock.stderr)
        sys.exit(unlock.returncode)


def main(command: list[str]) -> None:
    if not command:
        print(f"usage: {sys.argv[0]} COMMAND [ARGS...]", file=sys.stderr)
        sys.exit(2)
    lock = Path(LOCK_FILE)
    acquire(lock)
    others = other_snakemake_here()
    if others and os.environ.get(ENV_KEY) != str(lock.resolve()):
        # a snakemake started by hand before the Snakefile took the project lock (an older checkout): refused
        print(f"error: a snakemake run started by hand is in progress here (pid {others[0]}); not starting "
              f"`{' '.join(command)}`: wait for it to finish, or stop it first", file=sys.stderr)
        sys.exit(EXIT_LOCKED)
    os.environ[ENV_KEY] = str(lock.resolve())  # also for `snakemake --unlock` below: the Snakefile sees our lock
    if is_snakemake(command):
        for path in config_files(command):
            check_name(path)
            check_yaml(path)
        recover_stale_lock(command)
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"error: cannot run {command[0]}: {error.strerror}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])
