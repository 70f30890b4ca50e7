"""Atomic file output: write to a temporary file beside the target, then rename.

A reader (or Snakemake) therefore sees either the old file or the complete new one,
never a half-written file, even if the process is killed mid-write.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence



class CorruptFileError(ValueError):
    """An input file that exists but cannot be used (truncated, invalid); the message is one line
    that names the file, what is wrong and the command that rebuilds it."""


@contextmanager
def corrupt_input_ends_job() -> Iterator[None]:
    """For a workflow script reading its inputs: a :class:`CorruptFileError` ends the job with its one line, in the
    job's log (``sys.stderr``, which the scripts point at it) and on the terminal (``sys.__stderr__``), exit 1."""
    try:
        yield
    except CorruptFileError as error:
        print(f"error: {error}", file=sys.stderr)
        print(f"error: {error}", file=sys.__stderr__)
        sys.exit(1)


class DiskFullError(OSError):
    """No space left for an output: the message is one line naming the file and "no space left"; the
    temporary file is removed, the old file (if any) is untouched."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(errno.ENOSPC, f"{path}: no space left on device; nothing was written (free some space, "
                                       "then rerun the same command)")

    def __str__(self) -> str:
        return str(self.strerror)


def _disk_full(error: BaseException, folder: Path) -> bool:
    """Whether ``error`` (an OSError with ENOSPC, or a writer's own error such as torch.save's
    ``RuntimeError: ... iostream error``) came from a full file system under ``folder``."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(error, (RuntimeError, OSError)):
        try:
            return os.statvfs(folder).f_bavail == 0
        except OSError:
            return False
    return False


def write_atomically(path: str | Path, write: Callable[[Path], None], suffix: str = ".tmp") -> None:
    """Call ``write(temporary)`` on a file beside ``path``, then rename it to ``path``.

    The file gets the usual mode (0666 minus the umask, 0644 typically) like any other output.
    ``suffix`` ends the temporary name, for writers that choose the format by extension (matplotlib).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as error:
        if _disk_full(error, path.parent):
            raise DiskFullError(path) from None
        raise
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
    try:
        write(Path(temporary))
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if not isinstance(error, DiskFullError) and _disk_full(error, path.parent):
            raise DiskFullError(path) from None
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomically(path, lambda tmp: tmp.write_text(text))


def finite_or_none(value: Any) -> Any:
    """Replace NaN and ±inf floats (also nested in lists and dicts) by None, for strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def write_json_atomic(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented, strict JSON (non-finite floats become null)."""
    write_text_atomic(path, json.dumps(finite_or_none(data), indent=2, allow_nan=False) + "\n")


def write_csv_atomic(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``rows`` as CSV with a header of ``columns``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def write_frame_atomic(path: str | Path, frame: Any, **to_csv: Any) -> None:
    """``frame.to_csv(path, index=False, **to_csv)`` atomically (a pandas DataFrame)."""
    write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False, **to_csv))


def torch_save_atomic(path: str | Path, obj: Any) -> None:
    """``torch.save`` to ``path`` atomically."""
    import torch  # only here: figure scripts import this module without needing torch
    write_atomically(path, lambda tmp: torch.save(obj, tmp))


def save_npz_atomic(path: str | Path, **arrays: Any) -> None:
    """``np.savez_compressed`` to ``path`` atomically, with the usual file mode (see :func:`write_atomically`)."""
    import numpy as np  # only the dataset writers need it

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    write_atomically(Path(path), write, suffix=".npz")
