"""The Python API that the CLI (and every other front end) goes through.

Example::

    import aurora

    project = aurora.open(".")
    project.index()
    response = project.search("where do we refresh auth tokens", limit=5)
    for result in response.results:
        print(result.chunk.path, result.chunk.line_start, result.score)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from aurora.cli.progress import Progress
from aurora.common.layout import DATABASE_NAME, find_root, index_dir
from aurora.config import layers as config_module
from aurora.config.layers import Config
from aurora.errors import AuroraError
from aurora.host.pipeline import Pipeline, embedder_installed, names_embedder, resolve
from aurora.host.registry import PluginHost
from aurora.index.store import Store
from aurora.search.engine import Searcher, Waiting, run_search
from aurora.search.options import SearchRequest, request_from
from aurora.search.results import SearchResponse

if TYPE_CHECKING:
    from aurora.activation.reading import Passage
    from aurora.activation.usage import Usage
    from aurora.host.contract import Embedder
    from aurora.index.indexer import IndexReport


class _OpenSearcher(NamedTuple):
    """A searcher kept open, with the warning its pipeline choice gives every search (None: none)."""

    searcher: Searcher
    notice: str | None


class Project:
    """An indexed (or to-be-indexed) folder; create one with :func:`aurora.open`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config: Config = config_module.load(root)
        self._host: PluginHost | None = None
        self._pipelines: dict[tuple[str | None, str | None, str | None], Pipeline] = {}
        self._searchers: dict[tuple[str | None, str | None], _OpenSearcher] = {}
        self._lock = threading.RLock()  # one search at a time: a project may be shared (aurora.open)

    @property
    def host(self) -> PluginHost:
        """The plugin host, created on first use."""
        if self._host is None:
            self._host = PluginHost()
        return self._host

    def pipeline(
        self, name: str | None = None, backend: str | None = None, indexed: dict[str, Any] | None = None
    ) -> Pipeline:
        """Return the resolved pipeline ``name`` (default pipeline if None), ``backend`` applied.

        ``indexed`` is an index's record of its vectors, whose embedder a pipeline that
        names none takes (:func:`aurora.host.pipeline.resolve`); searches and indexing runs
        pass the index's own (:meth:`pipeline_for_index`).
        """
        key = (name, backend, json.dumps(indexed, sort_keys=True) if indexed is not None else None)
        if key not in self._pipelines:
            self._pipelines[key] = resolve(self.config, self.host, self.root, name, backend, indexed)
        return self._pipelines[key]

    def pipeline_for_index(
        self, store: Store | None, name: str | None = None, backend: str | None = None
    ) -> tuple[Pipeline, str | None]:
        """Return the pipeline that searches or updates the index in ``store``, and a warning about the choice.

        Explicit choices win (a configured embedder, ``backend``, ``plugin = "none"``); a
        pipeline that names no embedder takes the one the index's vectors were made with.
        When that plugin is no longer installed, the pipeline stays lexical and the warning
        says so and how to fix it.
        """
        if store is None or names_embedder(self.config, name, backend):
            return self.pipeline(name, backend), None
        indexed = _recorded_embedder(store)
        if indexed is None:
            return self.pipeline(name, backend), None
        if not embedder_installed(indexed):
            return self.pipeline(name, backend), (
                f"the index was embedded with {indexed['model']} by the embedder plugin '{indexed['embedder']}', "
                "which is not installed, so its vectors are not used (install that plugin again, or embed with an "
                "installed one: `aurora index --backend NAME`; `aurora plugins list` shows them)"
            )
        return self.pipeline(name, backend, indexed), None

    def index(
        self,
        *,
        pipeline: str | None = None,
        backend: str | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
        embedders: dict[str, Embedder] | None = None,
    ) -> IndexReport:
        """Index the folder (incrementally unless ``rebuild``) and return what was done.

        ``embedders`` keeps loaded embedders from one run for the next (a watcher's).
        """
        from aurora.index.indexer import index_tree

        self.close()
        try:
            store = Store.open(index_dir(self.root) / DATABASE_NAME)
        except AuroraError:  # none yet, or unreadable: indexing creates or recreates it
            store = None
        try:
            resolved, notice = self.pipeline_for_index(store, pipeline, backend)
        finally:
            if store is not None:
                store.close()
        report = index_tree(
            self.root, self.config, resolved, self.host, progress or Progress(False), rebuild, embedders
        )
        if notice:
            report.warnings.append(notice)
        return report

    def search(
        self, query: str, request: SearchRequest | None = None, *, waiting: Waiting | None = None, **options: Any
    ) -> SearchResponse:
        """Search the index.

        ``request`` says how (:class:`~aurora.search.options.SearchRequest`); without it,
        ``options`` are its fields by name (``limit=5``, ``mode="hybrid"``, ``backend``,
        ``files``, ``wait``, ``explain``, ...: :data:`~aurora.search.options.SEARCH_OPTIONS`),
        and one not given (or None) takes its ``[search]`` setting (``limit``,
        ``snippet_lines``, ``wait``, ``wait_timeout``), else its default. ``wait`` is whether
        to wait for a model that is still loading (None: decide by how long it took last
        time); ``explain`` adds each signal's score, rank and contribution to every result;
        ``record`` adds the top results to the access history (``[activation]``). A search
        that does not wait for its model starts loading it in the background for later
        searches, unless ``background`` is false (a process that exits after this search).
        ``waiting(message)`` wraps a wait (a spinner).
        """
        if request is None:
            request = request_from(options, lambda key: self.config.get("search", key))
        elif options:
            raise TypeError(f"search() takes a request or options, not both (got {', '.join(options)})")
        with self._lock:
            searcher, notice = self._searcher(request.pipeline, request.backend)
        response = run_search(searcher, query, request, waiting, self._lock)
        return response._replace(warnings=[notice, *response.warnings]) if notice else response

    def preload(self, pipeline: str | None = None, backend: str | None = None) -> None:
        """Open the index and start loading the pipeline's model in the background, so that searches find them ready.

        Never blocks on the model; a model that cannot load is reported by the searches.
        """
        with self._lock:
            self._searcher(pipeline, backend).searcher.preload()

    def read(self, target: str, *, cwd: str | Path | None = None) -> Passage:
        """Show an indexed chunk or lines of a file, and record in the access history that they were used.

        ``target`` is ``PATH:LINE`` (the chunk spanning that line), ``PATH:START-END`` or
        ``PATH``, with the path relative to ``cwd`` (default: the root) as search results
        give it; the file must be indexed and inside the root. The passage holds at most
        400 lines and 64 KB (``truncated`` says when it was cut); the chunks it covers
        rank higher in later searches (``[activation] read_weight``), unless activation is off.
        """
        from aurora.activation.reading import read_passage
        from aurora.activation.usage import Usage

        folder = index_dir(self.root)
        store = Store.open(folder / DATABASE_NAME)
        try:
            try:
                usage, warning = Usage.open(folder, self.config)
            except AuroraError as exc:  # the passage is worth showing without its record
                usage, warning = None, f"this read was not recorded in the access history: {exc.message}"
            try:
                passage = read_passage(
                    store,
                    usage,
                    self.root,
                    target,
                    Path(cwd).resolve() if cwd is not None else self.root,
                    follow_symlinks=self.config.get("index", "follow_symlinks"),
                )
            finally:
                if usage is not None:
                    usage.close()
        finally:
            store.close()
        return passage._replace(warnings=(warning, *passage.warnings)) if warning else passage

    def usage(self) -> Usage | None:
        """Return the access history of the index (None when ``[activation] enabled = false``)."""
        from aurora.activation.usage import Usage

        usage, _ = Usage.open(index_dir(self.root), self.config)
        return usage

    def close(self) -> None:
        """Close the opened index (it is reopened on the next search)."""
        with self._lock:
            for opened in self._searchers.values():
                opened.searcher.close()
            self._searchers.clear()

    def _searcher(self, pipeline: str | None, backend: str | None) -> _OpenSearcher:
        """Return the open searcher of ``pipeline`` with ``backend``; replaced when the index's embedder changed."""
        key = (pipeline, backend)
        opened = self._searchers.get(key)
        if opened is not None:
            if self.pipeline_for_index(opened.searcher.store, pipeline, backend) == (
                opened.searcher.pipeline,
                opened.notice,
            ):
                return opened
            opened.searcher.close()  # the index was embedded with another model since: search with that
            del self._searchers[key]
        from aurora.activation.usage import Usage

        store = Store.open(index_dir(self.root) / DATABASE_NAME)
        try:
            resolved, notice = self.pipeline_for_index(store, pipeline, backend)
        except BaseException:
            store.close()
            raise
        if store.read_only:  # a shared checkout, a CI cache: searched as it is, nothing recorded
            usage, warning = None, f"the index in {store.path.parent} is read-only: ranked without activation"
        else:
            try:
                usage, warning = Usage.open(index_dir(self.root), self.config)
            except AuroraError as exc:  # losing the usage signal is better than failing the search
                usage, warning = None, f"ranked without activation: {exc.message}"
        flags = "".join(f" {flag} {value}" for flag, value in (("-p", pipeline), ("-b", backend)) if value)
        searcher = Searcher(
            self.root,
            store,
            resolved,
            self.host,
            usage=usage,
            fetch_hint=f"download it with `aurora models fetch{flags}` (needs the network once)",
            notices=[warning] if warning else [],
        )
        opened = self._searchers[key] = _OpenSearcher(searcher, notice)
        return opened


def _recorded_embedder(store: Store) -> dict[str, Any] | None:
    """Return the record of the vectors the index was last embedded into (None: it has none).

    An index embedded with several models keeps a record of each; the one recorded last wins.
    """
    from aurora.semantic.vectors import recorded

    records = list(recorded(store).values())
    return records[-1] if records else None


#: Projects opened in this process, by root and effective configuration, most recent last:
#: their searchers (open indexes, loaded models, caches) serve later ``aurora.open`` calls.
_OPENED: dict[tuple[Path, str], Project] = {}
#: Projects kept open; the least recently opened beyond this is closed.
OPENED_KEPT = 8
_opened_lock = threading.Lock()


def open_project(path: str | Path = ".") -> Project:
    """Open the project whose index is at or above ``path`` (or ``path`` itself if none).

    Opening the same index with the same configuration again in one process returns the
    same project, with its opened indexes and loaded models; a changed configuration
    gives a new one.
    """
    start = Path(path)
    project = Project(find_root(start) or start.resolve())
    key = (project.root, project.config.fingerprint())
    with _opened_lock:
        project = _OPENED.pop(key, project)
        _OPENED[key] = project
        while len(_OPENED) > OPENED_KEPT:
            _OPENED.pop(next(iter(_OPENED))).close()
    return project
