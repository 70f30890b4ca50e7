"""Provenance of an artifact: which code, config and inputs made it, embedded in the file itself.

A provenance record is a flat JSON object::

    {"tool": "surrogate-study", "commit": <HEAD sha1 or null>, "dirty": <bool or null>,
     "config": [<config file>, ...], "config_sha256": {<file>: <sha256>},
     "resolved_config_sha256": sha256(canonical JSON of the config actually run),
     "inputs": {<input file>: <sha256>}, "inputs_sha256": sha256 over the sorted "path\\tsha256\\n" lines,
     "versions": {<package>: <version>}, "date": <UTC, ISO 8601>}

``dirty`` is true when ``git status`` lists any change to a tracked file or any new, not ignored
file, except the pipeline's own tracked outputs (:data:`PIPELINE_OUTPUTS`: ``dvc.lock`` and
``results/metrics.json``, rewritten by every run). Where it is embedded (:func:`embed_*`) and read back
(:func:`read`): PNG text chunk ``surrogate-study provenance``, PDF info dictionary ``/Subject``,
Markdown/HTML comment ``<!-- surrogate-study provenance: {...} -->``, LaTeX comment ``% surrogate-study
provenance: {...}``, JSON key ``provenance``. Versions are read from the installed distributions'
metadata (no heavy package is imported). Only the standard library is imported here.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

#: The key of every embedding (PNG text chunk keyword, comment prefix).
KEY = "surrogate-study provenance"
#: Tracked files the pipeline itself rewrites; a change to them does not make the tree dirty.
PIPELINE_OUTPUTS = ("dvc.lock", "results/metrics.json")
#: Distributions whose versions are recorded.
PACKAGES = ("surrogate-study", "torch", "numpy", "numba", "pandas", "matplotlib", "seaborn", "snakemake", "dvc")
#: Environment variable with the workflow's config file(s), os.pathsep-separated (set by the Snakefile).
CONFIG_ENV = "SURROGATE_STUDY_CONFIGFILES"

_COMMENT = re.compile(r"(?:<!--|%)\s*" + re.escape(KEY) + r":\s*(\{.*\})\s*(?:-->)?\s*$", re.M)


class ProvenanceError(ValueError):
    """A file without a readable provenance record (one line naming the file)."""


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_digest(hashes: Mapping[str, str]) -> str:
    """sha256 over the lines ``path\\tsha256\\n`` of the inputs, sorted by path."""
    return hashlib.sha256("".join(f"{p}\t{h}\n" for p, h in sorted(hashes.items())).encode()).hexdigest()


def git_state(root: str | Path = ".") -> tuple[Optional[str], Optional[bool]]:
    """``(commit, dirty)`` of the git work tree holding ``root``; ``(None, None)`` outside git."""
    def git(*args: str) -> Optional[str]:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "--verify", "-q", "HEAD")
    top = git("rev-parse", "--show-toplevel")
    if commit is None or top is None:
        return None, None
    excluded = [f":(top,exclude){path}" for path in PIPELINE_OUTPUTS]
    status = git("status", "--porcelain", "--untracked-files=normal", "--", ":(top)", *excluded)
    return commit.strip(), None if status is None else bool(status.strip())


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (absent ones left out) and Python's."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def collect(config_files: Iterable[str | Path] = (), inputs: Iterable[str | Path] = (),
            config: Optional[Mapping[str, Any]] = None, root: str | Path = ".") -> dict[str, Any]:
    """The provenance record of an artifact made from ``inputs`` under ``config_files`` (module docstring)."""
    commit, dirty = git_state(root)
    config_files = [str(path) for path in config_files]
    hashes = {str(path): sha256_file(path) for path in inputs}
    record: dict[str, Any] = {
        "tool": "surrogate-study",
        "commit": commit,
        "dirty": dirty,
        "config": config_files,
        "config_sha256": {path: sha256_file(path) for path in config_files if Path(path).is_file()},
    }
    if config is not None:
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
        record["resolved_config_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    record.update({
        "inputs": hashes,
        "inputs_sha256": inputs_digest(hashes),
        "versions": package_versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    })
    return record


def export_config_files(paths: Iterable[str | Path]) -> None:
    """Export the workflow's config file(s) (:data:`CONFIG_ENV`) to the processes of its jobs (the Snakefile)."""
    os.environ[CONFIG_ENV] = os.pathsep.join(map(str, paths))


def workflow_config_files() -> list[str]:
    """The workflow's config file(s), as the Snakefile exported them (:data:`CONFIG_ENV`)."""
    files = [Path(path) for path in os.environ.get(CONFIG_ENV, "").split(os.pathsep) if path]
    cwd = Path.cwd()
    return [str(path.relative_to(cwd) if path.is_absolute() and path.is_relative_to(cwd) else path)
            for path in files]


def from_snakemake(snakemake: Any) -> dict[str, Any]:
    """The record of a Snakemake script's outputs: every input file, the workflow's config (file and values)."""
    return collect(workflow_config_files(), [str(path) for path in snakemake.input], dict(snakemake.config))


def to_json(record: Mapping[str, Any]) -> str:
    """One line of ASCII JSON (fits a PNG text chunk, a PDF string and a comment)."""
    return json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def matplotlib_metadata(record: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    """``savefig(metadata=...)`` for ``fmt`` (png or pdf): the record as a PNG text chunk / PDF /Subject."""
    creator = f"surrogate-study {record.get('versions', {}).get('surrogate-study', '')}".strip()
    if fmt == "png":
        return {KEY: to_json(record), "Software": creator}
    if fmt == "pdf":
        return {"Subject": f"{KEY}: {to_json(record)}", "Creator": creator}
    raise ValueError(f"no provenance metadata for format {fmt!r}; allowed: png, pdf")


def comment(record: Mapping[str, Any], style: str = "html") -> str:
    """The record as one comment line: ``html`` (Markdown too) or ``tex``."""
    if style == "html":
        return f"<!-- {KEY}: {to_json(record)} -->\n"
    if style == "tex":
        return f"% {KEY}: {to_json(record)}\n"
    raise ValueError(f"unknown comment style {style!r}; allowed: html, tex")


def stamp_text(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append (or replace) the record's comment in a text file (.md, .html, .tex), atomically."""
    from surrogate_study.storage.atomic import write_text_atomic

    path = Path(path)
    text = _COMMENT.sub("", path.read_text(encoding="utf-8")).rstrip("\n") + "\n"
    style = "tex" if path.suffix == ".tex" else "html"
    write_text_atomic(path, text + ("\n" if style == "html" else "") + comment(record, style))


def _pdf_string(data: bytes, start: int) -> str:
    """The PDF literal string starting after the ``(`` at ``start`` (escapes undone)."""
    out, depth, i = bytearray(), 1, start
    while i < len(data):
        char = data[i]
        if char == 0x5C:  # backslash
            out.append(data[i + 1])
            i += 2
            continue
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return out.decode("latin-1")
        out.append(char)
        i += 1
    raise ValueError("unterminated string")


def read(path: str | Path) -> dict[str, Any]:
    """The provenance record embedded in a PNG, PDF, Markdown, HTML, LaTeX or JSON file.

    Raises :class:`ProvenanceError` (one line naming the file) when it has none.
    """
    path = Path(path)
    if not path.is_file():
        raise ProvenanceError(f"{path}: no such file")
    data = path.read_bytes()
    found: Optional[str] = None
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            from PIL import Image

            with Image.open(path) as image:
                found = image.text.get(KEY)  # type: ignore[attr-defined]
        elif data.startswith(b"%PDF-"):
            marker = data.rfind(b"/Subject (")
            if marker >= 0:
                subject = _pdf_string(data, marker + len(b"/Subject ("))
                if subject.startswith(f"{KEY}: "):
                    found = subject[len(KEY) + 2:]
        elif path.suffix == ".json":
            document = json.loads(data)
            record = document.get("provenance") if isinstance(document, dict) else None
            if record is None and isinstance(document, dict) and "commit" in document.get("versions", {}):
                record = document["versions"]  # a training run's metrics.json
            found = None if record is None else json.dumps(record)
        else:
            matches = _COMMENT.findall(data.decode("utf-8", errors="replace"))
            found = matches[-1] if matches else None
        if found is None:
            raise ProvenanceError(f"{path}: no {KEY} record in this file")
        record = json.loads(found)
    except ProvenanceError:
        raise
    except (ValueError, OSError) as error:
        raise ProvenanceError(f"{path}: unreadable {KEY} record ({error})") from None
    if not isinstance(record, dict):
        raise ProvenanceError(f"{path}: the {KEY} record is not a JSON object")
    return record


def format_record(record: Mapping[str, Any]) -> str:
    """Human-readable lines: one ``key: value`` per field, inputs and versions indented."""
    lines = []
    for key, value in record.items():
        if isinstance(value, Mapping):
            lines.append(f"{key}:")
            lines.extend(f"  {name}: {item}" for name, item in value.items())
        elif isinstance(value, list):
            lines.append(f"{key}: {', '.join(map(str, value)) or '-'}")
        else:
            lines.append(f"{key}: {'-' if value is None else value}")
    return "\n".join(lines)
