"""Read files a repository controls without trusting them: regular files only, with a size cap.

A cloned repository can hold a symbolic link named ``.gitignore`` that points at
``/dev/zero`` (read until memory runs out) or ``/dev/stdin``, or a FIFO named
``aurora.toml`` (a read that never returns). :func:`read_regular` opens without blocking,
checks on the open file that it is a regular file, and reads no more than a cap, so none
of these can stall or exhaust a run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class UntrustedFileError(OSError):
    """A file that is not read: not a regular file, a link leaving its folder, or larger than the cap."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.strerror = reason  # what callers print for any OSError

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[type[UntrustedFileError], tuple[Path, str]]:
        """Rebuild from the path and reason (an index worker sends it back to the indexing process)."""
        return (UntrustedFileError, (self.path, self.reason))


def read_regular(path: Path, max_bytes: int, inside: Path | None = None) -> bytes:
    """Return the bytes of ``path`` if it is a regular file of at most ``max_bytes`` bytes.

    With ``inside``, a symbolic link is followed only to a file under that folder.
    Raise :class:`FileNotFoundError` when it does not exist, :class:`UntrustedFileError`
    when it is not read, or another ``OSError`` when it cannot be.
    """
    if inside is not None and path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(inside.resolve()):
            raise UntrustedFileError(path, "a symbolic link that leaves the project: not read")
    descriptor = os.open(path, _FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedFileError(path, "not a regular file: not read")
        if info.st_size > max_bytes:
            raise UntrustedFileError(path, f"larger than {max_bytes:,} bytes: not read")
        chunks = []
        left = max_bytes + 1
        while left > 0 and (chunk := os.read(descriptor, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # grew while read
        raise UntrustedFileError(path, f"larger than {max_bytes:,} bytes: not read")
    return data
