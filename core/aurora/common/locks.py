"""Exclusive locks between processes, on a lock file: held with filelock, probed with the standard library.

A :class:`ProcessLock` (an indexing run, a server's whole life) is filelock's
``FileLock``: ``flock`` on POSIX, released by the kernel when its holder dies, so a lock
is never stale. It can record who holds it (``pid N``) in the lock file, for the message
of whoever finds it taken.

:func:`held_if_free` asks "is anyone holding it?" on the client path of ``aurora
search``, which must stay cheap: importing filelock costs 12-40 ms there, more than the
whole client, so the probe takes the same ``flock`` with :mod:`fcntl` directly. Both
exclude each other, which is why filelock's soft-lock fallback (a marker file, on
filesystems without ``flock``) is turned off.

Nothing but the standard library is imported with this module; filelock is imported
when a :class:`ProcessLock` is taken.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LockHeld(Exception):
    """The lock is held by another process (or another lock object of this one)."""

    def __init__(self, path: str, holder: str | None) -> None:
        super().__init__(f"{path} is held by {holder or 'another process'}")
        self.path = path
        #: What the holder recorded in the lock file (``pid N``), or None when it recorded nothing.
        self.holder = holder


class ProcessLock:
    """An exclusive lock on the file at ``path`` (created if missing, with ``mode`` or the umask's default).

    With ``holder`` (e.g. ``f"pid {os.getpid()}"``), the text is written into the lock
    file while the lock is held and erased at release. A context manager takes it
    without waiting.
    """

    def __init__(self, path: str | os.PathLike[str], holder: str | None = None, mode: int | None = None) -> None:
        self.path = os.fspath(path)
        self.holder = holder
        self._mode = mode
        self._lock: Any = None
        self._descriptor: int | None = None

    def acquire(self, patience_s: float = 0.0) -> None:
        """Take the lock, trying for ``patience_s`` seconds; raise :class:`LockHeld` when it stays held.

        Other problems (a folder that cannot be written) raise :class:`OSError`.
        """
        import filelock

        options: dict[str, Any] = {"mode": self._mode} if self._mode is not None else {}
        lock = filelock.FileLock(
            self.path, thread_local=False, fallback_to_soft=False, on_acquired=self._record, **options
        )
        try:
            lock.acquire(timeout=patience_s)
        except filelock.Timeout:
            raise LockHeld(self.path, _recorded_holder(self.path)) from None
        self._lock = lock

    def release(self) -> None:
        """Erase the holder's record and let go of the lock (nothing happens when it is not held)."""
        if self._lock is None:
            return
        try:
            if self._descriptor is not None and self.holder:
                os.ftruncate(self._descriptor, 0)
        finally:
            self._descriptor = None
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _record(self, descriptor: int) -> None:
        """Write the holder into the lock file just taken (filelock's ``on_acquired``; the descriptor is its own)."""
        self._descriptor = descriptor
        if self.holder:
            try:
                os.ftruncate(descriptor, 0)
                os.pwrite(descriptor, self.holder.encode("utf-8"), 0)
            except OSError:  # a full disk: the lock is held all the same, only its holder goes unsaid
                pass


def _recorded_holder(path: str) -> str | None:
    """Return what the holder of the lock at ``path`` recorded in it, or None (nothing recorded, or unreadable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(200).strip() or None
    except OSError:
        return None


@contextmanager
def held_if_free(path: str) -> Iterator[bool]:
    """Hold the lock at ``path`` for the block if nobody holds it; yield whether it was free.

    No lock file means free (and nothing is created); a lock file that cannot be opened
    counts as held. Standard library only: the client path of ``aurora search`` uses it.
    """
    import fcntl

    try:
        descriptor: int | None = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        descriptor, free = None, True
    except OSError:
        descriptor, free = None, False
    else:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            free = True
        except OSError:
            os.close(descriptor)
            descriptor, free = None, False
    try:
        yield free
    finally:
        if descriptor is not None:
            os.close(descriptor)
