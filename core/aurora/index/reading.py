"""Read and chunk the files an index run queued, in worker processes when there is enough to read.

Parsing holds the GIL (tree-sitter allocates through Python's allocator), so threads
cannot share the work; processes can. Workers are started from a fresh interpreter
(``forkserver`` where the platform has it, else ``spawn``), never forked from this
process, which may hold a loaded model's threads and locks. Each loads the run's
chunkers from a :class:`~aurora.index.chunking.ChunkerRecipe` and ignores Ctrl-C, which
reaches this process alone to act on: the workers are ended and the run rolled back.

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

import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aurora.host.registry import PluginHost
from aurora.index.chunking import ChunkerRecipe, Chunkers, cannot_split
from aurora.index.sources import SourceFile, read_file
from aurora.index.walker import FoundFile

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.connection import Connection

#: Bytes of files each worker should have to read at least: below 2 MB in all (a break-even measured at about
#: 1.5 MB on 2 cores), files are read here, since starting workers would cost more than it saves.
PARALLEL_MIN_BYTES = 2_000_000
#: Files per batch handed to a worker.
BATCH_FILES = 16
#: Batches in flight per worker: enough to keep workers busy while this process stores what came back.
BATCHES_PER_WORKER = 4

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

    ``configured`` is ``[index] workers`` (0: automatic). Never more than the cores,
    nor than the files hold :data:`PARALLEL_MIN_BYTES` halves; automatic only where a
    worker's import of the main script is harmless.
    """
    if configured == 0 and not _main_script_is_safe_to_import():
        return 0
    wanted = configured or available_cores()
    return min(wanted, available_cores(), 2 * sum(item.size for item in items) // PARALLEL_MIN_BYTES)


def _main_script_is_safe_to_import() -> bool:
    """Say whether a new worker's import of ``__main__`` does nothing more than import.

    True for ``python -m package``, an interactive session or notebook (no script), and
    the ``aurora`` command (its script calls Aurora only under a ``__main__`` guard).
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        return name.endswith(".__main__")  # multiprocessing leaves a package's __main__ alone
    if getattr(main, "__file__", None) is None:
        return True
    entry = sys.modules.get("aurora.entry")
    return entry is not None and getattr(main, "main", None) is getattr(entry, "main", None)


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

    done = 0
    try:
        for outcome in _read_in_workers(root, items, recipe, workers):
            yield outcome
            done += 1
    except (BrokenProcessPool, _WorkerUnavailable, OSError) as exc:  # OSError: no process or pipe could be made
        warn(f"reading in worker processes failed ({type(exc).__name__}: {exc}); the rest was read in one process")
        yield from _read_here(root, items[done:], chunkers)


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
    """Read ``items`` in batches in ``workers`` processes, with a bounded number in flight, in order.

    A language's "cannot split" warning is said once, as in one process, not once per worker.
    """
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
    said: set[str] = set()
    pool = None
    try:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(recipe, run_alive))
        batches = (items[start : start + BATCH_FILES] for start in range(0, len(items), BATCH_FILES))
        for batch in batches:
            pending.append(pool.submit(_read_batch, root, batch))
            if len(pending) >= workers * BATCHES_PER_WORKER:
                yield from _said_once(pending.popleft().result(), said)
        while pending:
            yield from _said_once(pending.popleft().result(), said)
    except BaseException:  # Ctrl-C, a broken pool, a caller that stopped early: no batch is worth waiting for
        if pool is not None:
            _stop_now(pool)
        raise
    else:
        pool.shutdown()
    finally:
        run_alive.close()
        alive_token.close()


def _said_once(outcomes: list[Outcome], said: set[str]) -> list[Outcome]:
    """Drop the "cannot split" warnings of languages a file before has already warned about."""
    kept = []
    for outcome in outcomes:
        if isinstance(outcome, SourceFile) and outcome.warnings:
            mark = cannot_split(outcome.language)
            warnings = tuple(w for w in outcome.warnings if mark not in w or mark not in said)
            said.update(mark for w in outcome.warnings if mark in w)
            outcome = replace(outcome, warnings=warnings)
        kept.append(outcome)
    return kept


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """End the workers without waiting for the batches under way, then drop the others."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # no public way before Python 3.14
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


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
