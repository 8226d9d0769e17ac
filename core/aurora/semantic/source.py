"""The semantic side of a search: start loading the model early, use it when it is ready.

:meth:`SemanticSource.prepare` asks the embedder plugin where its model is
(filesystem only) and checks that the plugin's libraries are installed (without
importing them) and that the index has vectors of it; when all hold,
:meth:`SemanticSource.start` starts the background load (model plus vector table). A
search that waits for the model calls :meth:`SemanticSource.wait` outside the
project's lock (other searches go on meanwhile); :meth:`SemanticSource.outcome` then
says what the search can use: the loaded model, or why not (still loading, not loaded,
not on this machine, not installed, failed), as one line for the user, and, when the
index is only partly embedded (an interrupted ``aurora index``), how much of it the
model's answer covers. Whether to wait
is the caller's choice; ``auto`` waits when the same model loaded within
:data:`AUTO_WAIT_S` the last time it was loaded on this machine (or was never loaded
here), and the load times are kept in the user's cache folder. See
docs/architecture.md, "Answer first, improve later".
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import time
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, NamedTuple

from aurora.common.atomic import write_text_atomically
from aurora.common.dirs import user_cache_dir
from aurora.common.layout import DATABASE_NAME
from aurora.errors import AuroraError, BackendNotInstalledError, VectorIndexError
from aurora.host.contract import Embedder, ModelLocation, VectorStore
from aurora.host.pipeline import Pipeline, plugin_description
from aurora.host.registry import PluginHost
from aurora.index.store import Store
from aurora.semantic import vectors
from aurora.semantic.coverage import Coverage, measure
from aurora.semantic.loader import FAILED, IDLE, LOADING, READY, loader

#: ``wait = "auto"`` waits for a model that loaded within this many seconds last time (docs/benchmarks.md).
AUTO_WAIT_S = 3.0
#: Load times older than this are measured again (the machine or the model may have changed).
LOAD_TIME_TTL_S = 7 * 86400
#: The state of a model a search did not load (a one-shot process loads a model only to wait for it).
NOT_LOADED = "not-loaded"
#: Query embeddings kept per loaded model.
QUERY_CACHE_SIZE = 512


class SemanticIndex(NamedTuple):
    """A loaded model and its opened vector table, ready to answer queries."""

    embedder: Embedder
    table: VectorStore
    embed_query: Callable[[str], Any]


class SemanticOutcome(NamedTuple):
    """What the semantic side can give a search, and, when nothing, why.

    ``state`` is ``ready``, ``loading`` (not waited for), ``not-loaded`` (not waited for,
    and not loaded by a process that would not live to use it), ``timeout``,
    ``not-cached``, ``not-installed``, ``no-vectors`` or ``failed``; ``error`` is the
    reason as an AuroraError (None when ready). ``note`` is a warning for a search the
    model answers, when it answers for part of the index only (None otherwise).
    """

    index: SemanticIndex | None
    state: str
    model: str
    load_s: float | None = None
    error: AuroraError | None = None
    note: str | None = None


class SemanticSource:
    """Finds, loads (in the background) and hands out one pipeline's model and vector table."""

    def __init__(self, index_folder: Path, pipeline: Pipeline, host: PluginHost, fetch_hint: str) -> None:
        self._index_folder = index_folder
        self._pipeline = pipeline
        self._host = host
        self._fetch_hint = fetch_hint
        self._role: vectors.SemanticRole | None = None
        self._location: ModelLocation | None = None
        self._problem: SemanticOutcome | None = None
        self._store: Store | None = None
        self._coverage: tuple[tuple[int, int], Coverage] | None = None  # (vectors, chunks) when measured, coverage
        self.key = self.model_key = ""

    def prepare(self, store: Store) -> None:
        """Find the model and check that it can serve: installed, on this machine, and the index has vectors of it.

        Filesystem and store metadata only (nothing is imported, no vector table is
        opened), so that a load that could not serve is never started; checked again
        on every search, since the user may have fixed a problem meanwhile.
        """
        role = self._role = self._pipeline.semantic(self._index_folder)
        self._store = store
        self._problem = self._location = None
        self.model_key = _model_key(role)
        self.key = f"{self.model_key}:{role.uri}"  # the loaded value holds this store's vector table
        if loader().state(self.key) in (READY, LOADING):
            return
        try:
            _check_installed(self._host, role)
        except BackendNotInstalledError as exc:
            self._problem = SemanticOutcome(None, "not-installed", role.model_id, error=exc)
            return
        self._location = vectors.locate(self._host, role)
        if self._location is None:
            error = AuroraError(f"model {role.model_id} is not on this machine", hint=self._fetch_hint)
            self._problem = SemanticOutcome(None, "not-cached", role.model_id, error=error)
            return
        try:
            vectors.check_recorded(store, role)
        except VectorIndexError as exc:
            self._problem = SemanticOutcome(None, "no-vectors", role.model_id, error=exc)

    def start(self) -> None:
        """Start loading the model in the background (after :meth:`prepare`), unless it cannot serve or is loading."""
        if self._problem is None and self._role is not None and self._location is not None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are here: no hub request from this process
            loader().start(self.key, functools.partial(self._load, self._role, self._location))

    def wait(self, timeout: float, waiting: Callable[[str], AbstractContextManager[Any]]) -> None:
        """Wait up to ``timeout`` seconds for a model that is loading; ``waiting(message)`` wraps it (a spinner)."""
        if self._problem is None and loader().is_loading(self.key):
            assert self._role is not None, "prepare() first"
            with waiting(f"Loading {self._role.model_id} (--no-wait answers lexically at once)"):
                loader().wait(self.key, timeout)

    def outcome(self, waited: bool, timeout: float) -> SemanticOutcome:
        """Return the loaded model if it is ready, else why not; ``waited``: the search waited ``timeout`` s for it."""
        if self._problem is not None:
            return self._problem
        assert self._role is not None, "prepare() first"
        model = self._role.model_id
        background = loader()
        index = background.get(self.key)
        load_s = background.duration(self.key)
        if index is not None:
            try:
                coverage = self._measure(index.table)
            except VectorIndexError as exc:  # damaged since it opened: answer lexically, say how to repair
                return SemanticOutcome(None, FAILED, model, load_s, exc)
            return SemanticOutcome(index, READY, model, load_s, note=coverage.warning() if coverage.partial else None)
        if background.state(self.key) == FAILED:
            error = background.error(self.key)
            if not isinstance(error, AuroraError):  # a plugin bug: keep its type and message
                error = AuroraError(f"cannot load model {model}: {type(error).__name__}: {error}")
            return SemanticOutcome(None, FAILED, model, load_s, error)
        if waited:
            error = AuroraError(f"model {model} did not load within {timeout:g} s", hint="raise --wait-timeout")
            return SemanticOutcome(None, "timeout", model, error=error)
        last = _load_time(self.model_key)
        took = f" (it takes {last:.1f} s here)" if last else ""
        if background.state(self.key) == IDLE:
            error = AuroraError(
                f"model {model} was not loaded{took}",
                hint="--wait loads it and waits; `aurora serve` keeps it loaded for every search",
            )
            return SemanticOutcome(None, NOT_LOADED, model, error=error)
        error = AuroraError(
            f"model {model} is still loading{took}",
            hint="--wait waits for it; in a long-running process (aurora.open) later searches turn hybrid",
        )
        return SemanticOutcome(None, "loading", model, error=error)

    def should_wait(self) -> bool:
        """Decide ``wait = "auto"``: wait for a model that loads within AUTO_WAIT_S here, or that is not known here."""
        known = _load_time(self.model_key)
        return known is None or known <= AUTO_WAIT_S

    def _measure(self, table: VectorStore) -> Coverage:
        """Return how much of the index ``table`` covers; measured again when its vectors or the chunks change."""
        assert self._store is not None, "prepare() first"
        counts = (table.count(), self._store.counts()["chunks"])
        if self._coverage is None or self._coverage[0] != counts:
            self._coverage = counts, measure(self._store, table)
        return self._coverage[1]

    def _load(self, role: vectors.SemanticRole, location: ModelLocation) -> SemanticIndex:
        """Load the model and open its vector table (runs in the loader's thread)."""
        started = time.perf_counter()
        embedder = vectors.load_embedder(self._host, role, location)
        store = Store.open(self._index_folder / DATABASE_NAME)  # this thread's own connection
        try:
            table, dimension = vectors.open_for_search(store, self._host, role)
        finally:
            store.close()
        vectors.check_dimension(embedder, dimension)
        _remember_load_time(self.model_key, time.perf_counter() - started)
        return SemanticIndex(embedder, table, functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(embedder.embed_query))


def no_spinner(message: str) -> AbstractContextManager[None]:
    """Wait silently (the ``waiting`` argument of :meth:`SemanticSource.outcome` off a terminal)."""
    return nullcontext()


def _model_key(role: vectors.SemanticRole) -> str:
    """Return a key naming this model as this plugin loads it, with these options (load times are kept by it)."""
    options = json.dumps(dict(role.embedder_options), sort_keys=True, default=str)
    return f"{role.embedder.name}:{role.model_id}:{zlib.crc32(options.encode()):08x}"


def _check_installed(host: PluginHost, role: vectors.SemanticRole) -> None:
    """Raise BackendNotInstalledError if a library the embedder plugin needs is missing (no import)."""
    description = plugin_description(host, role.embedder)
    if description is None:
        return
    for module in description.requires:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            distribution = role.embedder.distribution or "aurora-search"
            raise BackendNotInstalledError(module, distribution, description.extra or role.embedder.name)


def _load_times_path() -> Path:
    """Return the file that keeps each model's load time on this machine."""
    return user_cache_dir() / "load-times.json"


def _load_times() -> dict[str, dict[str, float]]:
    """Return ``{model key: {"s": best load time, "at": when it was last updated}}``."""
    try:
        times = json.loads(_load_times_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return times if isinstance(times, dict) else {}


def _load_time(key: str) -> float | None:
    """Return how long ``key`` takes to load here: its best time of the past week, or None when unknown."""
    entry = _load_times().get(key)
    if not isinstance(entry, dict) or time.time() - entry.get("at", 0) > LOAD_TIME_TTL_S:
        return None
    return entry.get("s")


def _remember_load_time(key: str, seconds: float) -> None:
    """Record a load of ``key`` that took ``seconds`` (keeping the best of the week; a failed write is ignored).

    The best rather than the last time: one load slowed by a busy machine must not make
    ``auto`` stop waiting for good, since a search that does not wait never measures again.
    """
    times = _load_times()
    known = _load_time(key)
    times[key] = {"s": round(min(seconds, known) if known is not None else seconds, 2), "at": time.time()}
    path = _load_times_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(times, sort_keys=True))
    except OSError:
        pass
