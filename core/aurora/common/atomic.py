"""Atomic writes: a file or a folder appears complete under its final name, or not at all.

Both build under a temporary name in the same folder (so that the final rename stays on
one filesystem), then rename with :func:`os.replace`, which readers see as one step. A
crash or Ctrl-C before the rename leaves the previous file or folder untouched; the
temporary one is removed when Python can still do it. ``durable=True`` also syncs the
data and the folder to disk, for what must survive a power loss (an index), not for a
cache that can be rebuilt.

Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def write_text_atomically(path: str | os.PathLike[str], text: str, *, durable: bool = False) -> None:
    """Replace the content of ``path`` with ``text`` (UTF-8): readers see the old file or the new one, never a part."""
    path = os.fspath(path)
    temporary = _temporary_name(path)
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    if durable:
        _sync_folder(os.path.dirname(path) or ".")


@contextmanager
def staged_folder(final: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield an empty folder beside ``final`` to fill; when the block succeeds, rename it to ``final`` in one step.

    When another process published ``final`` first (it exists and is not empty), the
    staged copy is discarded and theirs kept. When the block fails, the staged folder is
    removed and ``final`` is left as it was.
    """
    import shutil

    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(_temporary_name(os.fspath(final)))
    staging.mkdir()
    try:
        yield staging
        if durable:
            _sync_tree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        os.replace(staging, final)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not final.is_dir():
            raise
        return  # another process published it meanwhile: theirs is as good
    if durable:
        _sync_folder(final.parent)


def _sync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (names created, renamed or removed in it) to disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk (links are not followed)."""
    for parent, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        _sync_folder(parent)


def _temporary_name(path: str) -> str:
    """Return a hidden name beside ``path``, unique to this process and call."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
