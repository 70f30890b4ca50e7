"""Checksummed downloads of the raw dataset files into ``data/raw/`` (pooch).

A file already in ``data/raw/`` with the pinned MD5 is used as is (air-gapped users copy
files there). A file there with another MD5 is removed and reported with both hashes.
A download goes to a temporary file that only becomes the target after its MD5 matches
(pooch), so no partial or unverified file is left behind; transient network errors are
retried. Without network the error names the file, its URL and where to put it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import pooch
import requests

from surrogate_study.plan.dataset_catalog import RemoteFile


class DatasetUnavailable(RuntimeError):
    """A raw file could not be obtained (no network and not in data/raw/)."""


class ChecksumMismatch(RuntimeError):
    """A raw file's MD5 differs from the pinned one; the file has been removed."""


def _verify_existing(path: Path, md5: str) -> bool:
    if not path.exists():
        return False
    actual = pooch.file_hash(str(path), alg="md5")
    if actual != md5:
        path.unlink()
        raise ChecksumMismatch(f"{path}: md5 {actual} does not match the expected {md5}; the file was removed")
    return True


def fetch(remote: RemoteFile, raw_dir: str | Path, retries: int = 3, backoff_s: float = 1.0,
          timeout_s: float = 60.0) -> Path:
    """The verified local path of ``remote``, downloading it if needed."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / remote.name
    if _verify_existing(target, remote.md5):
        return target
    errors: list[str] = []
    for url in remote.urls:
        for attempt in range(retries):
            try:
                pooch.retrieve(url, known_hash=f"md5:{remote.md5}", fname=remote.name, path=raw_dir,
                               downloader=pooch.HTTPDownloader(timeout=timeout_s, progressbar=False),
                               progressbar=False)
                return target
            except ValueError as error:  # pooch: the downloaded file's hash does not match
                raise ChecksumMismatch(f"{url}: {error}; nothing was kept in {raw_dir}") from None
            except (requests.exceptions.RequestException, OSError) as error:
                errors.append(f"{url}: {type(error).__name__}")
                if attempt + 1 < retries:
                    time.sleep(backoff_s * 2**attempt)
    raise DatasetUnavailable(
        f"cannot download {remote.name} ({'; '.join(errors[-len(remote.urls):])}). Without network, get it from "
        f"{' or '.join(remote.urls)} and put it at {target} (md5 {remote.md5})."
    )


def fetch_all(remotes: Sequence[RemoteFile], raw_dir: str | Path, **kwargs) -> list[Path]:
    return [fetch(remote, raw_dir, **kwargs) for remote in remotes]
