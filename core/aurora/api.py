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

from pathlib import Path
from typing import TYPE_CHECKING

from aurora import config as config_module
from aurora.config import Config
from aurora.layout import DATABASE_NAME, find_root, index_dir
from aurora.pipeline import Pipeline, resolve
from aurora.plugins import PluginHost
from aurora.progress import Progress
from aurora.search import Searcher, SearchResponse
from aurora.store import Store

if TYPE_CHECKING:
    from aurora.indexer import IndexReport


class Project:
    """An indexed (or to-be-indexed) folder; create one with :func:`aurora.open`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config: Config = config_module.load(root)
        self._host: PluginHost | None = None
        self._pipelines: dict[tuple[str | None, str | None], Pipeline] = {}
        self._searchers: dict[tuple[str | None, str | None], Searcher] = {}

    @property
    def host(self) -> PluginHost:
        """The plugin host, created on first use."""
        if self._host is None:
            self._host = PluginHost()
        return self._host

    def pipeline(self, name: str | None = None, backend: str | None = None) -> Pipeline:
        """Return the resolved pipeline ``name`` (default pipeline if None), ``backend`` applied."""
        key = (name, backend)
        if key not in self._pipelines:
            self._pipelines[key] = resolve(self.config, self.host, self.root, name, backend)
        return self._pipelines[key]

    def index(
        self,
        *,
        pipeline: str | None = None,
        backend: str | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Index the folder (incrementally unless ``rebuild``) and return what was done."""
        from aurora.indexer import index_tree

        self.close()
        return index_tree(
            self.root, self.config, self.pipeline(pipeline, backend), self.host, progress or Progress(False), rebuild
        )

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        mode: str | None = None,
        pipeline: str | None = None,
        backend: str | None = None,
        files: bool = False,
    ) -> SearchResponse:
        """Search the index; ``limit`` and snippet size default to the ``[search]`` settings."""
        searcher = self._searcher(pipeline, backend)
        return searcher.search(
            query,
            limit=limit or self.config.get("search", "limit"),
            mode=mode,
            files=files,
            snippet_lines=self.config.get("search", "snippet_lines"),
        )

    def close(self) -> None:
        """Close the opened index (it is reopened on the next search)."""
        for searcher in self._searchers.values():
            searcher.store.close()
        self._searchers.clear()

    def _searcher(self, pipeline: str | None, backend: str | None) -> Searcher:
        key = (pipeline, backend)
        if key not in self._searchers:
            resolved = self.pipeline(pipeline, backend)
            store = Store.open(index_dir(self.root) / DATABASE_NAME)
            self._searchers[key] = Searcher(self.root, store, resolved, self.host)
        return self._searchers[key]


def open_project(path: str | Path = ".") -> Project:
    """Open the project whose index is at or above ``path`` (or ``path`` itself if none)."""
    start = Path(path)
    return Project(find_root(start) or start.resolve())
