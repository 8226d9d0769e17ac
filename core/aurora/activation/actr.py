"""Usage activation: ACT-R base-level activation over an access history kept in SQLite.

The model (Anderson & Schooler 1991; ACT-R's base-level learning equation):

* Every time an item (an opaque key such as ``"path::symbol"``) is accessed, the time
  and a weight are recorded: 1.0 for a result shown to the user, more (e.g. 5.0) for
  explicit feedback. The weight is just a parameter of :meth:`AccessHistory.record`.
* The base-level activation of an item is ``B = ln(sum_j w_j * t_j ** -d)``, where
  ``t_j`` is the number of seconds since access ``j`` (at least 1.0), ``w_j`` its
  weight and ``d`` the decay (``0 < d < 1``, 0.5 by default). It is computed at query
  time from the stored timestamps, so it decays as time passes; nothing is precomputed.
* The retrieval probability is ``P = 1 / (1 + exp((tau - B) / s))`` with the threshold
  ``tau`` (-4.0 by default: one access about 50 minutes ago gives ``P = 0.5``) and the
  noise ``s`` (> 0, 1.0 by default). ``P`` lies in (0, 1) and grows with ``B``; an item
  without history has ``B = -inf`` and ``P = 0`` and is not returned at all.
* Every term of the sum is positive, so recording an access never lowers ``B`` or ``P``.

Bounded history: per key, the latest ``max_history`` accesses are kept as rows; older
ones are folded into one aggregate per key (total weight ``W``, count, time of the first
and the last folded access). Following Petrov (2006), an aggregate contributes ``W``
times the mean of ``t ** -d`` over ``[a, b]``, with ``a`` the age of its last access and
``b`` that of its first: ``W * (b**(1-d) - a**(1-d)) / ((1-d) * (b - a))``, or
``W * a**-d`` when ``b == a``. Folding never drops weight, and because folded accesses
are the oldest ones (where ``t ** -d`` varies slowly) the approximation is close.

Storage: an SQLite file of its own (``<root>/.aurora/activation.db``), separate from the
index database so that a long indexing transaction never blocks recording. WAL journal,
``synchronous=NORMAL``, a busy timeout so that concurrent writers wait instead of
failing, and every write in one short ``BEGIN IMMEDIATE`` transaction. The schema
version is ``PRAGMA user_version``. A damaged or foreign file found at open (checked
cheaply: the version and one read of each table, not a full integrity check) is moved
aside to ``<name>.corrupt``, with its -wal/-shm/-journal, and replaced by an empty
history, with a warning: losing usage history is better than failing a search. Processes
take turns replacing it (a lock on ``<name>.replacing``, :mod:`aurora.common.locks`).
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from aurora.common.locks import LockHeld, ProcessLock
from aurora.common.private import private_file
from aurora.common.sqlite import COMPANION_SUFFIXES, Problem, classify, database_error, primary_code
from aurora.errors import AuroraError, IndexUnavailableError

SCHEMA_VERSION = 1
#: Seconds a writer waits for another one before SQLite gives up ("database is locked").
BUSY_TIMEOUT_S = 10.0
#: The youngest age an access is given, in seconds (t ** -d is unbounded at 0).
MIN_AGE_S = 1.0
#: Keys per ``IN (...)`` query; reads bind each key twice (SQLite allows 32,766 parameters).
_KEY_BATCH = 5000

_SCHEMA = (
    """CREATE TABLE accesses (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at REAL NOT NULL,  -- epoch seconds
    weight REAL NOT NULL
)""",
    # Covering index: activation reads and folding never touch the table itself.
    "CREATE INDEX accesses_by_key ON accesses(key, at, weight)",
    """CREATE TABLE folded (
    key TEXT PRIMARY KEY,
    weight REAL NOT NULL,  -- total weight W of the accesses folded into this row
    accesses INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL
) WITHOUT ROWID""",
)
#: Reads that fail with "no such table/column" unless the file has this schema.
_SCHEMA_PROBES = (
    "SELECT id, key, at, weight FROM accesses LIMIT 1",
    "SELECT key, weight, accesses, first_at, last_at FROM folded LIMIT 1",
)
#: One row per access or aggregate: key, first_at, last_at, weight, accesses (one snapshot).
_READ_HISTORY = """
SELECT key, at, at, weight, 1 FROM accesses {where}
UNION ALL
SELECT key, first_at, last_at, weight, accesses FROM folded {where}
"""
_UPSERT_FOLDED = """
INSERT INTO folded (key, weight, accesses, first_at, last_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    weight = weight + excluded.weight,
    accesses = accesses + excluded.accesses,
    first_at = min(first_at, excluded.first_at),
    last_at = max(last_at, excluded.last_at)
"""


class ActivationParams(NamedTuple):
    """The model's parameters: decay ``d``, threshold ``tau``, noise ``s`` and rows kept per key."""

    decay: float = 0.5
    threshold: float = -4.0
    noise: float = 1.0
    max_history: int = 100

    def validate(self) -> None:
        """Raise :class:`ValueError` naming the first parameter out of its range."""
        if not 0.0 < self.decay < 1.0:
            raise ValueError(f"activation decay must be between 0 and 1 (exclusive), not {self.decay}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"activation threshold must be a finite number, not {self.threshold}")
        if not (self.noise > 0.0 and math.isfinite(self.noise)):
            raise ValueError(f"activation noise must be greater than 0, not {self.noise}")
        if isinstance(self.max_history, bool) or not isinstance(self.max_history, int) or self.max_history < 1:
            raise ValueError(f"activation max_history must be a whole number of at least 1, not {self.max_history}")


class ActiveItem(NamedTuple):
    """An item with history: its activation, probability, total accesses and last access (epoch s)."""

    key: str
    base_level: float
    probability: float
    accesses: int
    last_access: float


def retrieval_probability(base_level: float, params: ActivationParams) -> float:
    """Return ``1 / (1 + exp((tau - B) / s))``: 0.0 for ``B = -inf`` (no history)."""
    x = (base_level - params.threshold) / params.noise
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0: no overflow, and -inf gives exactly 0
    return e / (1.0 + e)


def _contribution(weight: float, first_at: float, last_at: float, now: float, decay: float) -> float:
    """Return ``weight`` times the mean of ``t ** -decay`` over the ages of ``[first_at, last_at]``."""
    a = max(now - last_at, MIN_AGE_S)
    b = max(now - first_at, MIN_AGE_S)
    if b <= a:  # one access, or several at the same time
        return weight * a**-decay
    # b**(1-d) - a**(1-d), written so that it stays accurate when b is close to a.
    rest = 1.0 - decay
    difference = a**rest * math.expm1(rest * math.log1p((b - a) / a))
    return weight * difference / (rest * (b - a))


class _Totals:
    """Running sums for one key while reading its history."""

    __slots__ = ("activation", "accesses", "last_access")

    def __init__(self) -> None:
        self.activation = 0.0
        self.accesses = 0
        self.last_access = -math.inf


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _distinct(keys: Iterable[str]) -> list[str]:
    """Return the keys without duplicates, in first-seen order; refuse a bare string."""
    if isinstance(keys, str):
        raise TypeError("keys must be a collection of strings, not a single string")
    return list(dict.fromkeys(keys))


def _error(path: Path, exc: sqlite3.DatabaseError) -> AuroraError:
    """Return the user's error for an SQLite error met after opening (a damaged file, or a passing problem)."""
    return database_error(
        "the access history", path, exc, damaged_hint=f"delete {path}; Aurora starts a new, empty one"
    )


def _patiently(db: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
    """Run ``sql``, retrying for up to the busy timeout while SQLite answers "busy" at once.

    SQLite does not wait (nor call the busy handler) where waiting could deadlock, as when
    several connections switch a new file to WAL at the same moment.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.001
    while True:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            if primary_code(exc) != sqlite3.SQLITE_BUSY or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.05)


@contextmanager
def _replacing(path: Path) -> Iterator[None]:
    """Hold the lock on ``<name>.replacing`` so that one process at a time replaces the file."""
    lock = ProcessLock(path.with_name(path.name + ".replacing"))
    try:
        lock.acquire(BUSY_TIMEOUT_S)
    except LockHeld:
        raise IndexUnavailableError(
            f"cannot replace the unreadable access history {path}: another process is replacing it",
            hint="try again",
        ) from None
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot replace the unreadable access history {path}: {exc}", hint=f"delete {path}"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class AccessHistory:
    """The access history of one project: record accesses, read activations."""

    def __init__(self, connection: sqlite3.Connection, path: Path, params: ActivationParams) -> None:
        self._db = connection
        self.path = path
        self.params = params

    # --- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, params: ActivationParams = ActivationParams()) -> tuple[AccessHistory, str | None]:  # noqa: B008
        """Open (creating) the history file; also return a warning if an unreadable one was replaced.

        The warning (one line, ``None`` when all went well) says that the file at ``path``
        was damaged or foreign, was moved aside and a new, empty history started.
        Other problems (permissions, a full disk) raise :class:`AuroraError`.
        """
        params.validate()
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            private_file(path)  # SQLite gives its journals the file's mode
        except OSError as exc:
            raise IndexUnavailableError(
                f"cannot create the access history in {path.parent}: {exc}",
                hint="check the folder's permissions and space",
            ) from None
        warning = None
        for _ in range(3):  # after a replacement (ours or another process's), look again
            db, found, problem = cls._try_open(path)
            if problem is None:
                return cls(db, path, params), warning
            with _replacing(path):
                # Another process may have replaced the file since we looked: then use theirs.
                if found is not None and _identity(path) == found:
                    cls._move_aside(path, problem)
                    warning = f"the access history in {path} was unreadable ({problem}); started a new one"
        raise IndexUnavailableError(
            f"cannot use the access history {path}: it is still unreadable after being replaced ({problem})",
            hint=f"delete {path}",
        )

    @classmethod
    def _try_open(cls, path: Path) -> tuple[sqlite3.Connection, tuple[int, int] | None, str | None]:
        """Connect and check the schema: (connection, file identity, what is wrong or ``None``)."""
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        except sqlite3.DatabaseError as exc:
            raise _error(path, exc) from None
        found = _identity(path)
        try:
            _patiently(db, "PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            problem = cls._check_schema(db)
        except sqlite3.DatabaseError as exc:
            if classify(exc) is not Problem.DAMAGED:
                db.close()
                raise _error(path, exc) from None
            problem = str(exc)
        except BaseException:
            db.close()
            raise
        if problem is not None:
            db.close()
        return db, found, problem

    @staticmethod
    def _check_schema(db: sqlite3.Connection) -> str | None:
        """Create the schema in an empty file; return what is wrong with a foreign one, or ``None``."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            db.execute("BEGIN IMMEDIATE")  # concurrent first opens: only one creates the tables
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if version == 0 and tables == 0:
                    for statement in _SCHEMA:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    version = SCHEMA_VERSION
            except BaseException:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the original error says more
                raise
            db.execute("COMMIT")
            if version == 0:
                return "not an access history: it holds other tables"
        if version != SCHEMA_VERSION:
            return f"schema version {version}, expected {SCHEMA_VERSION}"
        for probe in _SCHEMA_PROBES:
            try:
                db.execute(probe).fetchall()
            except sqlite3.OperationalError as exc:
                if classify(exc) is not Problem.SCHEMA:
                    raise
                return str(exc)
        return None

    @staticmethod
    def _move_aside(path: Path, problem: str) -> None:
        """Move an unreadable history and its companion files to ``<name>.corrupt[-wal|-shm|-journal]``.

        Moved, not deleted: a process that still has the old file open keeps using it undisturbed.
        """
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
            for suffix in COMPANION_SUFFIXES:
                companion = path.with_name(path.name + suffix)
                if companion.exists():
                    os.replace(companion, aside.with_name(aside.name + suffix))
                else:  # not to be paired with the file now moved aside
                    aside.with_name(aside.name + suffix).unlink(missing_ok=True)
        except OSError as exc:
            raise IndexUnavailableError(
                f"the access history in {path} is unreadable ({problem}) and cannot be moved aside: {exc}",
                hint=f"delete {path}",
            ) from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> AccessHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        """Run the block in one transaction; turn SQLite errors into :class:`AuroraError`."""
        try:
            self._db.execute(begin)
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the original error says more
                raise
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None

    # --- writing ---------------------------------------------------------------------

    def record(self, keys: Sequence[str], weight: float = 1.0, at: float | None = None) -> None:
        """Record one access of weight ``weight`` at ``at`` (default: now) to each distinct key.

        One short write transaction for all keys, which then folds the rows beyond
        ``max_history`` of those keys into their aggregates. No keys: nothing happens.
        """
        if not (weight > 0.0 and math.isfinite(weight)):
            raise ValueError(f"an access weight must be a positive number, not {weight}")
        when = time.time() if at is None else float(at)
        if not math.isfinite(when):
            raise ValueError(f"an access time must be a finite number, not {at}")
        distinct = _distinct(keys)
        if not distinct:
            return
        with self._transaction("BEGIN IMMEDIATE"):
            self._db.executemany(
                "INSERT INTO accesses (key, at, weight) VALUES (?, ?, ?)", [(key, when, weight) for key in distinct]
            )
            self._fold(distinct)

    def _fold(self, keys: Sequence[str]) -> None:
        """Fold every row beyond the latest ``max_history`` of these keys into the key's aggregate."""
        folded_rows: list[tuple[int]] = []
        aggregates = []
        for key in keys:
            # Walks the covering index backwards from the newest access: no sort, no table access.
            rows = self._db.execute(
                "SELECT id, at, weight FROM accesses WHERE key = ? ORDER BY at DESC LIMIT -1 OFFSET ?",
                (key, self.params.max_history),
            ).fetchall()
            if rows:
                folded_rows += [(row[0],) for row in rows]
                ats = [row[1] for row in rows]
                aggregates.append((key, math.fsum(row[2] for row in rows), len(rows), min(ats), max(ats)))
        if aggregates:
            self._db.executemany(_UPSERT_FOLDED, aggregates)
            self._db.executemany("DELETE FROM accesses WHERE id = ?", folded_rows)

    # --- reading ---------------------------------------------------------------------

    def _totals(self, keys: Sequence[str] | None, now: float) -> dict[str, _Totals]:
        """Sum the activation terms of these keys (``None``: all keys) in one read snapshot."""
        decay = self.params.decay
        totals: dict[str, _Totals] = {}
        if keys is None:
            queries = [(_READ_HISTORY.format(where=""), ())]
        else:
            queries = []
            for batch in _batches(keys, _KEY_BATCH):
                where = f"WHERE key IN ({','.join('?' * len(batch))})"
                queries.append((_READ_HISTORY.format(where=where), (*batch, *batch)))
        with self._transaction("BEGIN"):
            for sql, parameters in queries:
                for key, first_at, last_at, weight, accesses in self._db.execute(sql, parameters):
                    entry = totals.get(key)
                    if entry is None:
                        entry = totals[key] = _Totals()
                    if first_at == last_at:  # the common case, inlined: one access
                        age = now - last_at
                        entry.activation += weight * (age if age > MIN_AGE_S else MIN_AGE_S) ** -decay
                    else:
                        entry.activation += _contribution(weight, first_at, last_at, now, decay)
                    entry.accesses += accesses
                    if last_at > entry.last_access:
                        entry.last_access = last_at
        return totals

    def base_levels(self, keys: Collection[str], now: float | None = None) -> dict[str, float]:
        """Return the base-level activation ``B`` of each of these keys that has history."""
        now = time.time() if now is None else now
        distinct = _distinct(keys)
        if not distinct:
            return {}
        return {key: math.log(entry.activation) for key, entry in self._totals(distinct, now).items()}

    def probabilities(self, keys: Collection[str], now: float | None = None) -> dict[str, float]:
        """Return the retrieval probability ``P`` of each of these keys that has history."""
        return {key: retrieval_probability(level, self.params) for key, level in self.base_levels(keys, now).items()}

    def most_active(self, limit: int, now: float | None = None) -> list[ActiveItem]:
        """Return the ``limit`` items with the highest activation, highest first (ties: by key)."""
        if limit <= 0:
            return []
        now = time.time() if now is None else now
        items = []
        for key, entry in self._totals(None, now).items():
            level = math.log(entry.activation)
            items.append(
                ActiveItem(key, level, retrieval_probability(level, self.params), entry.accesses, entry.last_access)
            )
        items.sort(key=lambda item: (-item.base_level, item.key))
        return items[:limit]

    def count(self) -> int:
        """Return the number of accesses recorded, folded ones included."""
        with self._transaction("BEGIN"):
            row = self._db.execute(
                "SELECT (SELECT count(*) FROM accesses) + (SELECT coalesce(sum(accesses), 0) FROM folded)"
            ).fetchone()
        return int(row[0])
