"""Read and chunk the files an index run queued, in worker processes when there is enough to read.

Parsing holds the GIL (tree-sitter allocates through Python's allocator), so threads
cannot share the work; processes can. Workers are started from a fresh interpreter
(``forkserver`` where the platform has it, else ``spawn``), never forked from this
process, which may hold a loaded model's threads and locks. Each loads the run's
chunkers from a :class:`~aurora.index.chunking.ChunkerRecipe` and ignores Ctrl-C, which
reaches this process alone to act on: it drops the batches not started, waits for the
ones under way (a worker killed mid-answer would leave the pool waiting for the rest of
it forever) and rolls the run back.

Files are handed out in batches and answered in order, with a bounded number of
batches in flight, so memory stays bounded whatever the size of the tree. A worker
whose run was killed (``kill -9``) ends once its current file is done: it waits on a
pipe only the run holds. A worker that cannot load the chunkers, or that dies, makes
the rest of the run read here, with a warning, as a small run always is.

A new worker imports the program's main script again, as multiprocessing does: with
``[index] workers = 0`` (automatic) workers are used only when that is harmless (the
``aurora`` command, ``python -m``, an interactive session); a script that sets
``workers`` itself must keep its top level under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import itertools
import os
import pickle
import re
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aurora.host.registry import PluginHost
from aurora.index.chunking import FALLBACK_FAILED, ChunkerRecipe, Chunkers, cannot_split
from aurora.index.sources import SourceFile, read_file
from aurora.index.walker import FoundFile

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future
    from multiprocessing.connection import Connection

#: Bytes of files a run needs for workers: below it, starting workers would cost more than it saves (an ad-hoc
#: timing of seven code-search repositories on 2 cores, 2026-12-03, put the break-even near 1.5 MB). Each worker
#: then gets at least half of it to read.
PARALLEL_MIN_BYTES = 2_000_000
#: Files per batch handed to a worker.
BATCH_FILES = 16
#: Batches in flight per worker: enough to keep workers busy while this process stores what came back.
BATCHES_PER_WORKER = 4

#: The guard under which a script may call Aurora, as pip's console scripts do.
GUARD = re.compile(r"^if __name__ == ['\"]__main__['\"]:", re.MULTILINE)

#: What a read gives: the file's chunks, or the OSError that kept it from being read.
Outcome = SourceFile | OSError

_worker_chunkers: Chunkers | None = None
_worker_problem: str | None = None


class _WorkerUnavailable(Exception):
    """A worker could not load the run's chunkers."""


def available_cores() -> int:
    """Return how many CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(configured: int, items: Sequence[FoundFile]) -> int:
    """Return how many workers should read ``items``: 0 or 1 means none.

    ``configured`` is ``[index] workers`` (0: automatic). Never more than the cores, nor
    than one per half of :data:`PARALLEL_MIN_BYTES` in the files; automatic only where a
    worker's import of the main script is harmless.
    """
    if configured == 0 and not _main_script_is_safe_to_import():
        return 0
    wanted = configured or available_cores()
    return min(wanted, available_cores(), 2 * sum(item.size for item in items) // PARALLEL_MIN_BYTES)


def _main_script_is_safe_to_import() -> bool:
    """Say whether a new worker's import of ``__main__`` does nothing more than import.

    True for ``python -m package``, a folder or zip run as a program, an interactive
    session or notebook (no script), and the ``aurora`` command: a script that calls
    Aurora's entry point only under an ``if __name__ == "__main__":`` guard.
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:  # multiprocessing leaves a package's or a folder's __main__ alone
        return name == "__main__" or name.endswith(".__main__")
    script = getattr(main, "__file__", None)
    if script is None:
        return True
    entry = sys.modules.get("aurora.entry")
    if entry is None or getattr(main, "main", None) is not getattr(entry, "main", None):
        return False
    try:
        text = Path(script).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return GUARD.search(text) is not None


def read_files(
    root: Path, items: Sequence[FoundFile], chunkers: Chunkers, workers: int, warn: Callable[[str], None]
) -> Iterator[Outcome]:
    """Yield the outcome of reading each of ``items`` under ``root``, in order.

    With ``workers`` of 2 or more (see :func:`worker_count`), worker processes share
    the work; a problem with them is passed to ``warn`` and the rest is read here.
    """
    recipe = chunkers.recipe()
    if workers < 2 or len(items) < 2 or recipe is None:
        yield from _read_here(root, items, chunkers)
        return
    from concurrent.futures.process import BrokenProcessPool

    said: set[str] = set()
    done = 0
    try:
        with closing(_read_in_workers(root, items, recipe, workers)) as outcomes:
            for outcome in outcomes:
                yield _said_once(outcome, said)
                done += 1
    except (BrokenProcessPool, _WorkerUnavailable, OSError) as exc:  # OSError: no process or pipe could be made
        warn(f"reading in worker processes failed ({type(exc).__name__}: {exc}); the rest was read in one process")
        for outcome in _read_here(root, items[done:], chunkers):
            yield _said_once(outcome, said)


def _read_here(root: Path, items: Sequence[FoundFile], chunkers: Chunkers) -> Iterator[Outcome]:
    """Read ``items`` one by one in this process."""
    for item in items:
        yield _read(root, item, chunkers)


def _read(root: Path, item: FoundFile, chunkers: Chunkers) -> Outcome:
    """Read one file, answering the OSError instead of raising it."""
    try:
        return read_file(root, item, chunkers)
    except OSError as exc:
        return exc


def _read_in_workers(root: Path, items: Sequence[FoundFile], recipe: ChunkerRecipe, workers: int) -> Iterator[Outcome]:
    """Read ``items`` in batches in ``workers`` processes, with a bounded number in flight, in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        pickle.dumps(recipe)
    except Exception as exc:  # a chunker option that cannot cross to another process
        raise _WorkerUnavailable(f"the chunker options cannot be sent to a worker: {exc}") from None
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    run_alive, alive_token = context.Pipe(duplex=False)  # the token's end stays here: EOF says the run is gone
    pending: deque[Future[list[Outcome]]] = deque()
    pool = None
    batches = (items[start : start + BATCH_FILES] for start in range(0, len(items), BATCH_FILES))
    try:
        with _interrupts_deferred():  # a worker interrupted while it starts would print a traceback
            if context.get_start_method() == "forkserver":
                _start_fork_server(context)
            pool = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(recipe, run_alive))
            for batch in itertools.islice(batches, workers):  # a process starts with each of the first submits
                pending.append(pool.submit(_read_batch, root, batch))
        for batch in batches:
            pending.append(pool.submit(_read_batch, root, batch))
            if len(pending) >= workers * BATCHES_PER_WORKER:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BaseException:  # Ctrl-C, a broken pool, a caller that stopped early: drop the batches not started
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # batches under way end first: see the module docstring
        raise
    else:
        pool.shutdown()
    finally:
        run_alive.close()
        alive_token.close()


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C back until the block is done, then act on it as it would have been (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, caught[0])


def _start_fork_server(context: multiprocessing.context.ForkServerContext) -> None:
    """Start this process's fork server (once) so that it and its workers ignore Ctrl-C from the first instant.

    From the main thread, the server is started with Ctrl-C ignored, which it keeps and
    passes on (a Ctrl-C in the few milliseconds of its start is lost); from another thread, which
    cannot change signal handlers, the server ignores it once it has imported
    :mod:`aurora.index.ignore_interrupts`, and so do its workers.
    """
    from multiprocessing import forkserver

    context.set_forkserver_preload(["aurora.index.ignore_interrupts", "aurora.index.reading"])
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _said_once(outcome: Outcome, said: set[str]) -> Outcome:
    """Say a language's "cannot split" warning once per run, as one process does, not once per worker.

    For a later file, one process says only how its fallback failed, if it did.
    """
    if not isinstance(outcome, SourceFile) or not outcome.warnings:
        return outcome
    mark = cannot_split(outcome.language)
    warnings = []
    for warning in outcome.warnings:
        if mark in warning and mark in said:
            _, failed, fallback = warning.partition(FALLBACK_FAILED)
            warning = f"fallback {fallback}" if failed else ""
        elif mark in warning:
            said.add(mark)
        if warning:
            warnings.append(warning)
    return replace(outcome, warnings=tuple(warnings))


def _start_worker(recipe: ChunkerRecipe, run_alive: Connection) -> None:
    """Load the run's chunkers in a new worker; Ctrl-C is left to the process that started it."""
    global _worker_chunkers, _worker_problem
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(run_alive,), daemon=True).start()
    try:
        _worker_chunkers = recipe.load(PluginHost())
    except Exception as exc:  # answered by every task, so the run reads here instead
        _worker_problem = f"{type(exc).__name__}: {exc}"


def _exit_when_orphaned(run_alive: Connection) -> None:
    """End this worker once the run that started it is gone (killed): its pool would wait for work forever."""
    with suppress(EOFError, OSError):
        run_alive.recv()  # nothing is ever sent: this returns when the run's end of the pipe closes
    os._exit(1)


def _read_batch(root: Path, batch: Sequence[FoundFile]) -> list[Outcome]:
    """Read one batch in a worker."""
    if _worker_chunkers is None:
        raise _WorkerUnavailable(_worker_problem or "the worker's chunkers are not loaded")
    return [_read(root, item, _worker_chunkers) for item in batch]
