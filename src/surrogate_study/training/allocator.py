"""Keep freed memory in the process (glibc) so that large tensors are not page-faulted anew.

PyTorch's CPU allocator returns large blocks to glibc, which by default serves blocks
above 128 KiB–32 MiB with fresh ``mmap`` calls and unmaps them on free; every training
step then pays a page fault per 4 KiB of every activation tensor. Raising glibc's mmap
and trim thresholds (``mallopt``) keeps such blocks on the heap for reuse. No effect
(and no error) on other C libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_applied = False


def keep_freed_memory(mmap_threshold: int = 1 << 30, trim_threshold: int = (1 << 31) - 1) -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when applied."""
    global _applied
    if _applied:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _applied = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
    return _applied
