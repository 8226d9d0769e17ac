"""Usage as a ranking signal: the ACT-R activation of chunks, recorded as they are used.

A use is explicit: ``aurora read`` (and the server's and MCP's ``read``) records the
chunks it showed with weight ``read_weight``, ``aurora feedback`` a chunk the user found
useful with ``feedback_weight``. A search records its top ``record_top`` results only
when that setting asks for it (0 by default: a result that was merely shown is not a
use; bench/activation.py measured why). At query time each candidate's retrieval
probability (:mod:`aurora.activation.actr`) raises its fused score (the ``activation``
signal, :mod:`aurora.search.engine`). History is keyed by path and symbol (or first
line, for a chunk without one) rather than chunk id, so it survives re-indexing an
edited file. It lives in ``.aurora/activation.db``, apart from the index, so that a
long indexing transaction never holds up a search that records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from aurora.activation.actr import AccessHistory, ActivationParams
from aurora.host.contract import Hit
from aurora.index.store import Store

HISTORY_NAME = "activation.db"


def chunk_key(path: str, symbol: str | None, line_start: int) -> str:
    """Return the history key of a chunk: ``path::symbol``, or ``path:line`` without a symbol."""
    return f"{path}::{symbol}" if symbol else f"{path}:{line_start}"


class ActiveChunk(NamedTuple):
    """A chunk in the history: its key, activation, retrieval probability, accesses and last access."""

    key: str
    base_level: float
    probability: float
    accesses: float
    last_access: float


#: Where the time of an access, and of a search, comes from (seconds since the epoch).
Clock = Callable[[], float]


class Usage:
    """The access history of one index, with the ``[activation]`` settings.

    ``clock`` gives the time of every access recorded and every activation read: the
    wall clock, or a simulated one (bench/activation.py replays a session on its own).
    """

    def __init__(self, history: AccessHistory, settings: Any, clock: Clock = time.time) -> None:
        self._history = history
        self._clock = clock
        self.record_top: int = settings.get("activation", "record_top")
        self.read_weight: float = settings.get("activation", "read_weight")
        self.feedback_weight: float = settings.get("activation", "feedback_weight")

    @classmethod
    def open(cls, index_folder: Path, settings: Any, clock: Clock = time.time) -> tuple[Usage | None, str | None]:
        """Open the history (None when activation is off); the string warns that a damaged one was replaced."""
        if not settings.get("activation", "enabled"):
            return None, None
        params = ActivationParams(
            decay=settings.get("activation", "decay"),
            threshold=settings.get("activation", "threshold"),
            noise=settings.get("activation", "noise"),
            max_history=settings.get("activation", "max_history"),
        )
        history, warning = AccessHistory.open(index_folder / HISTORY_NAME, params)
        return cls(history, settings, clock), warning

    def signal(self, store: Store, candidates: Sequence[int]) -> list[Hit]:
        """Return (chunk id, retrieval probability) of the candidates with a history, most active first."""
        keys = _keys(store, candidates)
        probabilities = self._history.probabilities(set(keys.values()), self._clock())
        hits = [(chunk_id, probabilities[key]) for chunk_id, key in keys.items() if key in probabilities]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))

    def record_results(self, store: Store, chunk_ids: Sequence[int]) -> None:
        """Record the first ``record_top`` of ``chunk_ids`` (search results, best first) as shown (weight 1)."""
        shown = list(chunk_ids[: self.record_top])
        if shown:
            keys = _keys(store, shown)
            self._history.record([keys[chunk_id] for chunk_id in shown if chunk_id in keys], at=self._clock())

    def record_read(self, keys: Sequence[str]) -> None:
        """Record chunks that were read (``aurora read``; weight ``read_weight``)."""
        self._history.record(list(keys), weight=self.read_weight, at=self._clock())

    def record_feedback(self, keys: Sequence[str]) -> None:
        """Record chunks the user marked as useful (weight ``feedback_weight``)."""
        self._history.record(list(keys), weight=self.feedback_weight, at=self._clock())

    def probabilities(self, keys: Sequence[str]) -> dict[str, float]:
        """Return the retrieval probability of each key that has a history."""
        return self._history.probabilities(set(keys), self._clock())

    def most_active(self, limit: int) -> list[ActiveChunk]:
        """Return the ``limit`` chunks with the highest activation now."""
        return [ActiveChunk(*item) for item in self._history.most_active(limit, self._clock())]

    def accesses(self) -> int:
        """Return how many accesses are recorded."""
        return self._history.count()

    def close(self) -> None:
        """Close the history file."""
        self._history.close()


def _keys(store: Store, chunk_ids: Sequence[int]) -> dict[int, str]:
    return {chunk_id: chunk_key(*location) for chunk_id, location in store.locations(chunk_ids).items()}
