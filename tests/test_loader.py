"""The background loader: states, errors, waiting, one load per key, one loader per process.

The loader is generic (it runs any callable in a daemon thread), so these tests drive it
with callables that block on an event; the real model paths are in test_instant.py.
"""

from __future__ import annotations

import threading
import time

from aurora.semantic.loader import FAILED, IDLE, LOADING, READY, BackgroundLoader, loader


def gated(value: object, gate: threading.Event, calls: list[int] | None = None):
    def load() -> object:
        if calls is not None:
            calls.append(1)
        assert gate.wait(10)
        return value

    return load


def test_states_from_idle_to_ready_without_blocking_the_caller() -> None:
    background, gate = BackgroundLoader(), threading.Event()
    assert background.state("m") == IDLE and background.get("m") is None and not background.used()
    started = time.perf_counter()
    assert background.start("m", gated("model", gate))
    assert time.perf_counter() - started < 0.5  # start() returns at once
    assert background.state("m") == LOADING and background.is_loading("m") and background.used()
    assert background.get("m") is None and background.duration("m") is None
    gate.set()
    assert background.wait("m", timeout=10) == "model"
    assert background.state("m") == READY and background.is_ready("m")
    assert background.duration("m") is not None and background.duration("m") >= 0
    assert background.error("m") is None


def test_a_wait_that_times_out_returns_none_and_the_load_goes_on() -> None:
    background, gate = BackgroundLoader(), threading.Event()
    background.start("m", gated("model", gate))
    started = time.perf_counter()
    assert background.wait("m", timeout=0.05) is None
    assert 0.04 <= time.perf_counter() - started < 2
    assert background.is_loading("m")
    gate.set()
    assert background.wait("m", timeout=10) == "model"


def test_errors_are_captured_and_reported_and_a_failed_load_can_start_again() -> None:
    background = BackgroundLoader()

    def broken() -> object:
        raise MemoryError("out of memory while loading")

    background.start("m", broken)
    assert background.wait("m", timeout=10) is None
    assert background.state("m") == FAILED
    assert isinstance(background.error("m"), MemoryError)
    assert background.duration("m") is not None
    assert background.start("m", lambda: "second try")  # a failed load is started again
    assert background.wait("m", timeout=10) == "second try" and background.error("m") is None


def test_many_threads_starting_the_same_key_load_it_once() -> None:
    background, gate, calls = BackgroundLoader(), threading.Event(), []
    started = []
    threads = [
        threading.Thread(target=lambda: started.append(background.start("m", gated("model", gate, calls))))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gate.set()
    assert background.wait("m", timeout=10) == "model"
    assert started.count(True) == 1 and len(calls) == 1


def test_keys_load_independently() -> None:
    background, slow = BackgroundLoader(), threading.Event()
    background.start("slow", gated("a", slow))
    background.start("fast", lambda: "b")
    assert background.wait("fast", timeout=10) == "b" and background.is_loading("slow")
    slow.set()
    assert background.wait("slow", timeout=10) == "a"


def test_one_loader_per_process() -> None:
    assert loader() is loader()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(loader())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(found is loader() for found in seen)
