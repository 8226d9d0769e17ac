"""The SQLite store in ``<root>/.aurora/aurora.db``: files, chunks and index metadata.

One writer at a time (see :mod:`aurora.index.indexer`), any number of readers (WAL mode).
All changes of an indexing run happen in one transaction, so an interrupted run leaves
the previous index intact.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from aurora.common import sqlite
from aurora.common.private import private_file, private_folder
from aurora.errors import REPAIR_HINT, AuroraError, CorruptIndexError, IndexVersionError, NewerIndexError, NoIndexError
from aurora.host.contract import Chunk

SCHEMA_VERSION = 2
#: The statements that upgrade a database of schema version N to N + 1, by N. Version 2 records
#: the chunkers that made each file's chunks; files indexed before get '' (unknown), which no
#: chunker's identity matches, so the next ``aurora index`` chunks them again.
_UPGRADES: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE files ADD COLUMN chunker TEXT", "UPDATE files SET chunker = '' WHERE skipped IS NULL"),
}
#: Chunk ids per ``IN (...)`` query (SQLite allows 32,766 parameters).
_ID_BATCH = 5000

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    language TEXT NOT NULL,
    skipped TEXT,  -- why a file has no chunks (binary); NULL when it is indexed
    chunker TEXT  -- name@version of the chunkers that made its chunks; NULL when none ran (skipped)
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: vector stores key on it
    path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    symbol TEXT,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    context TEXT NOT NULL,  -- indexed with the text but not shown: path and symbol, or a title
    text TEXT NOT NULL
);
CREATE INDEX chunks_by_path ON chunks(path);
"""


class FileState(NamedTuple):
    """What the store remembers of a file, to decide whether it changed or must be chunked again.

    ``chunker`` is the identity of the chunkers that made its chunks (see :mod:`aurora.index.chunking`),
    ``None`` when no chunker ran.
    """

    size: int
    mtime_ns: int
    content_hash: str
    chunker: str | None = None


class StoredChunk(NamedTuple):
    """A chunk as stored, with its id; ``path`` is relative to the index root."""

    id: int
    path: str
    line_start: int
    line_end: int
    symbol: str | None
    kind: str
    language: str
    text: str


def _indexed(context: str, text: str) -> str:
    """Return what gets indexed for a chunk: its context line, then its text."""
    return f"{context}\n{text}" if context else text


class NewChunk(NamedTuple):
    """A chunk to store: the chunker's output plus the text indexed alongside it."""

    chunk: Chunk
    context: str
    content_hash: str


def database_error(path: Path, exc: sqlite3.DatabaseError) -> AuroraError:
    """Return the user's error for an SQLite error on the index database (damaged: `aurora index` repairs it)."""
    return sqlite.database_error("the index database", path, exc, damaged_hint=REPAIR_HINT)


class Store:
    """Access to one index database.

    ``read_only`` is true for an index this process cannot write (a read-only mount, a
    shared checkout): it is opened for reading only, and nothing may be recorded in it.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, read_only: bool = False) -> None:
        self._db = connection
        self.path = path
        self.read_only = read_only

    # --- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open an existing index (for reading only when it cannot be written); raise a clear error if unusable.

        A file that holds no Aurora index (empty, or another program's database) raises
        :class:`CorruptIndexError`; one written by a newer Aurora :class:`NewerIndexError`.
        """
        if not path.is_file():
            raise NoIndexError(f"no index at {path.parent.parent}", hint="run `aurora index` in the project root first")
        read_only = not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
        store = cls(cls._connect_read_only(path) if read_only else cls._connect(path), path, read_only)
        try:
            version = store._schema_version()
            if version in _UPGRADES:
                version = store._upgrade()
        except BaseException:
            store.close()
            raise
        if version != SCHEMA_VERSION:
            store.close()
            if version is not None and version > SCHEMA_VERSION:
                raise NewerIndexError(
                    f"this index was made by a newer Aurora (schema {version}; this one reads {SCHEMA_VERSION})",
                    hint="upgrade Aurora, or pass --rebuild to `aurora index` to replace it",
                )
            raise IndexVersionError(
                f"the index at {path.parent} has schema version {version}; this Aurora needs {SCHEMA_VERSION}",
                hint="run `aurora index` to rebuild it",
            )
        return store

    @classmethod
    def create(cls, path: Path) -> Store:
        """Create a fresh, empty index database at ``path`` (which must not exist), readable by its owner only."""
        private_folder(path.parent)
        private_file(path)
        store = cls(cls._connect(path), path)
        try:
            store._db.executescript(
                f"BEGIN; {_SCHEMA} INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
            )
        except sqlite3.DatabaseError as exc:
            store.close()
            raise database_error(path, exc) from None
        return store

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise database_error(path, exc) from None
        return db

    @staticmethod
    def _connect_read_only(path: Path) -> sqlite3.Connection:
        """Open a database this process cannot write, without writing anything.

        SQLite reads a WAL database in a read-only folder only when its ``-shm`` file is
        there; otherwise the file is opened as immutable (nobody can be writing it here).
        """
        error: sqlite3.DatabaseError | None = None
        for mode in ("ro", "ro&immutable=1"):
            try:
                db = sqlite3.connect(
                    f"{path.as_uri()}?mode={mode}", uri=True, isolation_level=None, timeout=30, check_same_thread=False
                )
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return db
            except sqlite3.DatabaseError as exc:
                error = exc
        assert error is not None
        raise database_error(path, error) from None

    def _schema_version(self) -> int | None:
        try:
            if not self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
                raise CorruptIndexError(
                    f"the index database {self.path} holds no Aurora index (it is empty or another program's)",
                    hint=REPAIR_HINT,
                )
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise database_error(self.path, exc) from None
        try:
            return int(row[0]) if row else None
        except ValueError:
            raise CorruptIndexError(
                f"the index database {self.path} records no valid schema version ({row[0]!r})", hint=REPAIR_HINT
            ) from None

    def _upgrade(self) -> int | None:
        """Bring an older schema up to date in place and return the version reached.

        The version is read again under the write lock: of processes opening the same old
        index at once, the first upgrades it and the others find it done.
        """
        try:
            with self.transaction():
                version = self._schema_version()
                while version in _UPGRADES:
                    for statement in _UPGRADES[version]:
                        self._db.execute(statement)
                    version += 1
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
        except sqlite3.DatabaseError as exc:
            raise database_error(self.path, exc) from None
        return version

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # --- transactions and metadata ---------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one write transaction; any exception (Ctrl-C too) rolls it back."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a COMMIT that failed (a full disk) leaves it open
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the original error says more
            raise

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the block's reads in one read transaction: they all see the same committed state."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        """Return a metadata value, or ``None``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta_items(self, prefix: str) -> list[tuple[str, str]]:
        """Return every metadata (key, value) whose key starts with ``prefix``, the one written last last."""
        rows = self._db.execute(
            "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY rowid", (len(prefix), prefix)
        )
        return list(rows)

    def delete_meta(self, key: str) -> None:
        """Remove a metadata value."""
        self._db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # --- files and chunks ------------------------------------------------------------

    def file_states(self, paths: Sequence[str] | None = None) -> dict[str, FileState]:
        """Return the remembered state of every file (or of those of ``paths`` the index holds), by path."""
        columns = "SELECT path, size, mtime_ns, content_hash, chunker FROM files"
        if paths is None:
            return {path: FileState(*state) for path, *state in self._db.execute(columns)}
        states = {}
        for start in range(0, len(paths), _ID_BATCH):
            batch = list(paths[start : start + _ID_BATCH])
            rows = self._db.execute(f"{columns} WHERE path IN ({', '.join('?' * len(batch))})", batch)
            states.update({path: FileState(*state) for path, *state in rows})
        return states

    def put_file(
        self,
        path: str,
        state: FileState,
        language: str,
        chunks: Sequence[NewChunk],
        skipped: str | None = None,
    ) -> None:
        """Insert or replace a file and all of its chunks."""
        self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
        self._db.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, content_hash, language, skipped, chunker)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (path, state.size, state.mtime_ns, state.content_hash, language, skipped, state.chunker),
        )
        self._db.executemany(
            "INSERT INTO chunks (path, line_start, line_end, symbol, kind, language, content_hash, context, text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    path,
                    c.chunk.line_start,
                    c.chunk.line_end,
                    c.chunk.symbol,
                    c.chunk.kind,
                    language,
                    c.content_hash,
                    c.context,
                    c.chunk.text,
                )
                for c in chunks
            ],
        )

    def touch_file(self, path: str, state: FileState) -> None:
        """Record a new size and modification time for a file whose content did not change."""
        self._db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (state.size, state.mtime_ns, path))

    def delete_files(self, paths: Iterable[str]) -> None:
        """Remove files and their chunks."""
        self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])

    def indexed_texts(self) -> tuple[list[int], list[str]]:
        """Return every chunk id and its indexed text (context and text), ordered by id."""
        ids, texts = [], []
        for chunk_id, context, text in self._db.execute("SELECT id, context, text FROM chunks ORDER BY id"):
            ids.append(chunk_id)
            texts.append(_indexed(context, text))
        return ids, texts

    def chunk_ids(self) -> list[int]:
        """Return every chunk id, in increasing order."""
        return [chunk_id for (chunk_id,) in self._db.execute("SELECT id FROM chunks ORDER BY id")]

    def texts(self, ids: Sequence[int]) -> dict[int, str]:
        """Return the indexed text (context and text) of each chunk id."""
        return {
            chunk_id: _indexed(context, text) for chunk_id, context, text in self._rows_by_id("id, context, text", ids)
        }

    def chunk_hashes(self, ids: Sequence[int] | None = None) -> dict[int, str]:
        """Return the content hash of the given chunks (of every chunk when ``ids`` is None)."""
        if ids is None:
            return dict(self._db.execute("SELECT id, content_hash FROM chunks"))
        return dict(self._rows_by_id("id, content_hash", ids))

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Return the stored chunks with the given ids, by id."""
        columns = "id, path, line_start, line_end, symbol, kind, language, text"
        return {row[0]: StoredChunk(*row) for row in self._rows_by_id(columns, ids)}

    def locations(self, ids: Sequence[int]) -> dict[int, tuple[str, str | None, int]]:
        """Return (path, symbol, first line) of each chunk id."""
        return {row[0]: row[1:] for row in self._rows_by_id("id, path, symbol, line_start", ids)}

    def chunks_at(self, path: str, line: int | None = None) -> list[StoredChunk]:
        """Return the chunks of ``path`` (those spanning ``line`` when given), innermost first."""
        columns = "id, path, line_start, line_end, symbol, kind, language, text"
        query = f"SELECT {columns} FROM chunks WHERE path = ?"
        parameters: list[object] = [path]
        if line is not None:
            query += " AND line_start <= ? AND line_end >= ?"
            parameters += [line, line]
        rows = self._db.execute(query + " ORDER BY line_end - line_start, line_start", parameters)
        return [StoredChunk(*row) for row in rows]

    def paths(self, ids: Sequence[int]) -> dict[int, str]:
        """Return the file path of each chunk id."""
        return dict(self._rows_by_id("id, path", ids))

    def _rows_by_id(self, columns: str, ids: Sequence[int]) -> Iterator[tuple]:
        for start in range(0, len(ids), _ID_BATCH):
            batch = list(ids[start : start + _ID_BATCH])
            marks = ",".join("?" * len(batch))
            yield from self._db.execute(f"SELECT {columns} FROM chunks WHERE id IN ({marks})", batch)

    def counts(self) -> dict[str, int]:
        """Return the number of indexed files (skipped ones left out) and of chunks."""
        (files,) = self._db.execute("SELECT COUNT(*) FROM files WHERE skipped IS NULL").fetchone()
        (chunks,) = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()
        return {"files": files, "chunks": chunks}
