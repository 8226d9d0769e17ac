"""Keep an index fresh: watch a project's tree and re-index what changes as it changes.

Each batch of file-system events (gathered until the tree has been quiet for
:data:`QUIET_MS`) triggers one incremental indexing run (:func:`aurora.index.indexer.index_tree`):
the walker decides what is indexed, with every rule of ``aurora index`` (``.gitignore``,
``.auroraignore``, ``[index] exclude``, hidden files, size limit), files are compared by
size and modification time and re-read only when they changed, the lexical index gets a
delta rather than a rebuild (:mod:`aurora.index.lexical`), and only new chunks are
embedded, by an embedder loaded once for the watcher's life. Events on paths the walker
surely leaves out (``.aurora/``, ``.git/``, hidden names, what the root's ignore rules and
``[index] exclude`` ignore) are dropped before they wake anything.

``watchfiles`` is imported when watching starts, never by the CLI's other commands.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora.common.layout import DATABASE_NAME, index_dir
from aurora.errors import AuroraError, IndexInterruptedError, IndexLockedError
from aurora.index.walker import ALWAYS_SKIPPED_DIRS, IGNORE_FILES, NeverIndexed

if TYPE_CHECKING:
    from aurora.api import Project
    from aurora.host.contract import Embedder
    from aurora.index.indexer import IndexReport

#: Milliseconds the tree must stay quiet before a batch of changes is indexed.
QUIET_MS = 50
#: The longest a batch gathers changes (a checkout, a formatter over the tree) before it is indexed.
MAX_BATCH_MS = 1600
#: Milliseconds between checks of the stop event and retries of an update that found the index locked.
IDLE_MS = 1000


def watch(
    project: Project,
    *,
    pipeline: str | None = None,
    backend: str | None = None,
    stop: threading.Event | None = None,
    on_update: Callable[[IndexReport], None] | None = None,
    on_error: Callable[[AuroraError], None] | None = None,
    ready: threading.Event | None = None,
    create: bool = True,
) -> None:
    """Re-index ``project`` whenever files under its root change, until ``stop`` is set.

    Watching starts with an update that catches up with changes made meanwhile, then
    ``ready`` is set. ``on_update`` gets the report of every update that changed the
    index; ``on_error`` gets each error that kept an update from finishing (the next
    change retries; a locked index is retried every :data:`IDLE_MS`). With ``create``
    false, nothing happens while the project has no index (a server started before
    ``aurora index``). Ctrl-C ends the watch with ``KeyboardInterrupt``, the index intact.
    """
    import watchfiles

    from aurora.index.indexer import walk_settings

    updater = _Updater(project, pipeline, backend, create)
    events = _Filter(project.root, NeverIndexed(project.root, walk_settings(project.config)))
    pending = True  # the catch-up update, done once the watch is set up
    for changes in watchfiles.watch(
        project.root,
        watch_filter=events,
        debounce=MAX_BATCH_MS,
        step=QUIET_MS,
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
        stop_event=stop,
        raise_interrupt=True,
    ):
        if not (changes or pending):
            continue
        if any(Path(path).name in IGNORE_FILES for _, path in changes):
            events.never_indexed.refresh()
        try:
            report = updater.update()
        except IndexLockedError:
            pending = True  # another `aurora index` writes: retry when it is done
            continue
        except IndexInterruptedError:  # Ctrl-C while embedding: the watch ends too
            raise KeyboardInterrupt from None
        except AuroraError as exc:
            if on_error is not None:
                on_error(exc)
        else:
            if report is not None and on_update is not None and (report.added or report.changed or report.removed):
                on_update(report)
        if pending and ready is not None:
            ready.set()
        pending = False


def watch_in_foreground(
    project: Project, *, pipeline: str | None = None, backend: str | None = None, as_json: bool = False
) -> int:
    """Run ``aurora index --watch``: index, then print one line per update until Ctrl-C; return the exit code (0).

    Each line is the update's summary, or with ``as_json`` its report as one JSON object;
    errors are one line on stderr each and the watch goes on.
    """

    def updated(report: IndexReport) -> None:
        print(json.dumps(report.to_dict()) if as_json else report.summary(), flush=True)

    def failed(error: AuroraError) -> None:
        hint = f" ({error.hint})" if error.hint else ""
        print(f"aurora: error: {error.message}{hint}", file=sys.stderr, flush=True)

    ready = threading.Event()
    announce = threading.Thread(target=_announce, args=(ready, project.root), daemon=True)
    announce.start()
    try:
        watch(project, pipeline=pipeline, backend=backend, on_update=updated, on_error=failed, ready=ready)
    except KeyboardInterrupt:
        print("aurora: stopped watching; the index is up to date with the last update", file=sys.stderr, flush=True)
    return 0


def _announce(ready: threading.Event, root: Path) -> None:
    ready.wait()
    print(f"aurora: watching {root} for changes (Ctrl-C stops)", file=sys.stderr, flush=True)


class _Updater:
    """Runs the incremental indexing runs of one watch, keeping the loaded embedders between them."""

    def __init__(self, project: Project, pipeline: str | None, backend: str | None, create: bool) -> None:
        self._project = project
        self._pipeline = pipeline
        self._backend = backend
        self._create = create
        self._embedders: dict[str, Embedder] = {}

    def update(self) -> IndexReport | None:
        """Bring the index up to date with the tree; None when there is no index and creating one is not wanted."""
        project = self._project
        if not self._create and not (index_dir(project.root) / DATABASE_NAME).is_file():
            return None
        return project.index(pipeline=self._pipeline, backend=self._backend, embedders=self._embedders)


class _Filter:
    """Keeps the events of paths the walker may index (see :class:`~aurora.index.walker.NeverIndexed`)."""

    def __init__(self, root: Path, never_indexed: NeverIndexed) -> None:
        self._root = root.resolve()
        self.never_indexed = never_indexed

    def __call__(self, change: Any, path: str) -> bool:
        """Return whether an event on ``path`` may concern an indexed file."""
        try:
            relative = Path(path).relative_to(self._root).as_posix()
        except ValueError:  # reported under another spelling of the root (a symbolic link)
            return ALWAYS_SKIPPED_DIRS.isdisjoint(Path(path).parts)
        return relative != "." and not self.never_indexed(relative)
