"""Load models in the background: one loader per process, one daemon thread per model.

A search that will want a model starts its load as soon as it knows the model is on
disk (the filesystem-only cache check), then does its lexical work while the model
loads; it takes the model only if it is ready (or once it is, when the user asked to
wait). Each load's state (idle, loading, ready, failed), result, error and duration
sit behind one lock; nothing here ever blocks the caller except :meth:`wait`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

IDLE, LOADING, READY, FAILED = "idle", "loading", "ready", "failed"


class _Load:
    """The state of one model's load."""

    def __init__(self) -> None:
        self.state = LOADING
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = time.perf_counter()
        self.duration: float | None = None
        self.done = threading.Event()


class BackgroundLoader:
    """Loads values (models) by key in daemon threads; thread-safe. Use :func:`loader` for the process's one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loads: dict[str, _Load] = {}

    def start(self, key: str, load: Callable[[], Any]) -> bool:
        """Start loading ``key`` with ``load()`` in a daemon thread, unless it is loading or loaded.

        A failed load is started again. Return whether a new load started.
        """
        with self._lock:
            current = self._loads.get(key)
            if current is not None and current.state != FAILED:
                return False
            entry = self._loads[key] = _Load()
        threading.Thread(target=self._run, args=(entry, load), name=f"aurora-load-{key}", daemon=True).start()
        return True

    def _run(self, entry: _Load, load: Callable[[], Any]) -> None:
        value, error = None, None
        try:
            value = load()
        except BaseException as exc:  # reported to the caller through error(), never raised in this thread
            error = exc
        with self._lock:  # state, result and duration change together
            entry.state, entry.value, entry.error = (FAILED, None, error) if error else (READY, value, None)
            entry.duration = time.perf_counter() - entry.started
        entry.done.set()

    def state(self, key: str) -> str:
        """Return ``idle`` (never started), ``loading``, ``ready`` or ``failed``."""
        with self._lock:
            entry = self._loads.get(key)
            return entry.state if entry is not None else IDLE

    def is_ready(self, key: str) -> bool:
        """Return whether ``key`` is loaded."""
        return self.state(key) == READY

    def is_loading(self, key: str) -> bool:
        """Return whether ``key`` is being loaded now."""
        return self.state(key) == LOADING

    def used(self) -> bool:
        """Return whether any load was ever started in this process."""
        with self._lock:
            return bool(self._loads)

    def get(self, key: str) -> Any | None:
        """Return the loaded value, or None when ``key`` is not ready."""
        with self._lock:
            entry = self._loads.get(key)
            return entry.value if entry is not None and entry.state == READY else None

    def wait(self, key: str, timeout: float) -> Any | None:
        """Wait up to ``timeout`` seconds for ``key``; return its value if it is ready by then, else None."""
        with self._lock:
            entry = self._loads.get(key)
        if entry is None:
            return None
        entry.done.wait(timeout)
        return self.get(key)

    def error(self, key: str) -> BaseException | None:
        """Return the exception the last load of ``key`` failed with, if it failed."""
        with self._lock:
            entry = self._loads.get(key)
            return entry.error if entry is not None else None

    def loads(self) -> dict[str, tuple[str, float | None]]:
        """Return every load started in this process: key -> (state, duration in seconds or None)."""
        with self._lock:
            return {key: (entry.state, entry.duration) for key, entry in self._loads.items()}

    def duration(self, key: str) -> float | None:
        """Return how many seconds the finished load of ``key`` took (None while loading or never started)."""
        with self._lock:
            entry = self._loads.get(key)
            return entry.duration if entry is not None else None


_instance: BackgroundLoader | None = None
_instance_lock = threading.Lock()


def loader() -> BackgroundLoader:
    """Return the process's background loader (created on first use)."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = BackgroundLoader()
        return _instance
