"""What an SQLite error means for the user, and the one-line error that says so.

Every SQLite database Aurora keeps (the index, the access history) reports its errors
through :func:`database_error`: a damaged file asks for a rebuild (or a deletion), a
locked one to try again, anything else to check the folder. :func:`classify` is the
finer answer for code that acts on the kind (retry while locked, replace a file whose
schema is foreign).
"""

from __future__ import annotations

import enum
import os
import sqlite3

from aurora.errors import AuroraError, CorruptIndexError, DiskFullError, IndexUnavailableError

#: Files SQLite keeps beside a database ``NAME``: ``NAME-wal``, ``NAME-shm``, ``NAME-journal``.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class Problem(enum.Enum):
    """The kinds of SQLite error that call for different answers."""

    DAMAGED = "damaged"  #: the file is not a database, or a corrupt one: rebuild or delete it
    LOCKED = "locked"  #: another connection holds it: try again
    READ_ONLY = "read-only"  #: it cannot be written (permissions, a read-only mount)
    SCHEMA = "schema"  #: a plain SQL error: a table or column is missing (a foreign or older file)
    FULL = "full"  #: the disk or the user's quota is full
    OTHER = "other"  #: anything else (I/O, a full disk, a file that cannot be opened)


def primary_code(exc: sqlite3.Error) -> int:
    """Return SQLite's primary result code of ``exc`` (``SQLITE_BUSY``, ...), or 0 when it has none."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def classify(exc: sqlite3.Error) -> Problem:
    """Say what kind of problem ``exc`` reports."""
    code = primary_code(exc)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return Problem.DAMAGED
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return Problem.LOCKED
    if code == sqlite3.SQLITE_READONLY:
        return Problem.READ_ONLY
    if code == sqlite3.SQLITE_ERROR:
        return Problem.SCHEMA
    if code == sqlite3.SQLITE_FULL:
        return Problem.FULL
    return Problem.LOCKED if "locked" in str(exc) else Problem.OTHER  # an error without a code says it in words


def database_error(what: str, path: str | os.PathLike[str], exc: sqlite3.Error, damaged_hint: str) -> AuroraError:
    """Return the user's error for ``exc``, met on the database ``what`` (e.g. ``"the index database"``) at ``path``.

    A damaged file gives :class:`CorruptIndexError` with ``damaged_hint``, a full disk
    :class:`DiskFullError`; anything else :class:`IndexUnavailableError` (the file is not
    damaged), whose hint says to try again when the database is locked and to check the
    folder otherwise.
    """
    problem = classify(exc)
    if problem is Problem.DAMAGED:
        return CorruptIndexError(f"{what} {path} is damaged: {exc}", hint=damaged_hint)
    if problem is Problem.FULL:
        return disk_full(os.path.dirname(os.fspath(path)))
    locked = problem is Problem.LOCKED
    hint = "another process holds it; try again" if locked else "check the folder's permissions and space"
    return IndexUnavailableError(f"cannot use {what} {path}: {exc}", hint=hint)


def disk_full(folder: str | os.PathLike[str], hint: str = "free some space and try again") -> DiskFullError:
    """Return the error for a disk (or quota) that filled up while Aurora wrote in ``folder``.

    Every write of Aurora is atomic or transactional, so what was there before is kept.
    """
    return DiskFullError(f"the disk is full: cannot write in {folder}; what was there before is kept", hint=hint)
