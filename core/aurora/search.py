"""Answer a query from an opened index: rank chunks (or files), attach snippets, report the mode."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from aurora import lexical
from aurora.config import MODES
from aurora.errors import NoIndexError, UsageError
from aurora.layout import LEXICAL_DIRNAME
from aurora.pipeline import Pipeline
from aurora.plugins import PluginHost
from aurora.snippets import SnippetLine, make_snippet
from aurora.store import Store, StoredChunk

#: How many chunks to rank per requested file in ``--files`` mode.
CHUNKS_PER_FILE = 10


class SearchResult(NamedTuple):
    """A ranked chunk (or, with ``--files``, the best chunk of a file)."""

    chunk: StoredChunk
    score: float
    scores: dict[str, float]
    snippet: list[SnippetLine]
    matches: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the documented JSON shape (docs/json-output.md)."""
        return {
            "path": self.chunk.path,
            "line_start": self.chunk.line_start,
            "line_end": self.chunk.line_end,
            "symbol": self.chunk.symbol,
            "kind": self.chunk.kind,
            "language": self.chunk.language,
            "score": round(self.score, 6),
            "scores": {name: round(value, 6) for name, value in self.scores.items()},
            "snippet": "\n".join(line.text for line in self.snippet),
            "snippet_lines": [line.number for line in self.snippet],
            "matches": self.matches,
        }


class SearchResponse(NamedTuple):
    """Everything a search answers with; ``to_dict()`` is the ``--json`` document."""

    query: str
    mode: str
    pipeline: str
    root: str
    files: bool
    results: list[SearchResult]
    warnings: list[str]
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        """Return the response in the documented JSON shape (docs/json-output.md)."""
        return {
            "query": self.query,
            "mode": self.mode,
            "pipeline": self.pipeline,
            "root": self.root,
            "files": self.files,
            "warnings": self.warnings,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "results": [result.to_dict() for result in self.results],
        }


class Searcher:
    """Searches one index with one pipeline; keeps the opened indexes between queries."""

    def __init__(self, root: Path, store: Store, pipeline: Pipeline, host: PluginHost) -> None:
        self.root = root
        self.store = store
        self.pipeline = pipeline
        self._host = host
        self._lexical: lexical.OpenLexicalIndex | None = None

    def search(
        self, query: str, limit: int, mode: str | None = None, files: bool = False, snippet_lines: int = 3
    ) -> SearchResponse:
        """Rank the index for ``query`` and return the top ``limit`` chunks or files."""
        started = time.perf_counter()
        if not query.strip():
            raise UsageError("the query is empty", hint='give words to search for, e.g. aurora search "parse config"')
        if limit < 1:
            raise UsageError(f"--limit must be at least 1 (got {limit})")
        requested = mode or self.pipeline.mode
        if requested not in MODES:
            raise UsageError(f"unknown mode '{requested}'; allowed: {', '.join(MODES)}")
        warnings = []
        if requested != "lexical":
            warnings.append(
                f"pipeline '{self.pipeline.name}' has no embedder, so {requested} search is not available; "
                "answered with lexical search"
            )
        index = self._open_lexical()
        if index.empty:
            warnings.append("the index is empty: no indexable files were found")
        terms = set(index.analyze(query))
        if not terms and not index.empty:
            warnings.append("the query has no searchable terms (only stopwords or one-letter words)")
        hits = index.search(query, limit * CHUNKS_PER_FILE if files else limit)
        chunks = self.store.chunks([chunk_id for chunk_id, _ in hits])
        ranked = [(chunks[chunk_id], score) for chunk_id, score in hits if chunk_id in chunks]
        grouped = _best_per_file(ranked, limit) if files else [(c, s, 1) for c, s in ranked]
        results = [
            SearchResult(
                chunk=chunk,
                score=score,
                scores={"lexical": score},
                snippet=make_snippet(chunk.text, chunk.line_start, terms, index.analyze, snippet_lines),
                matches=matches,
            )
            for chunk, score, matches in grouped
        ]
        return SearchResponse(
            query=query,
            mode="lexical",
            pipeline=self.pipeline.name,
            root=str(self.root),
            files=files,
            results=results,
            warnings=warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def _open_lexical(self) -> lexical.OpenLexicalIndex:
        if self._lexical is None:
            if self.pipeline.lexical is None:
                raise NoIndexError(
                    f"pipeline '{self.pipeline.name}' has no lexical plugin",
                    hint=f'set [pipelines.{self.pipeline.name}.lexical] plugin = "bm25s"',
                )
            folder = self.store.path.parent / LEXICAL_DIRNAME
            self._lexical = lexical.open_live(self.store, self._host, self.pipeline.lexical, folder)
        return self._lexical


def _best_per_file(ranked: list[tuple[StoredChunk, float]], limit: int) -> list[tuple[StoredChunk, float, int]]:
    """Keep each file's best chunk (ranked lists are best first), counting its matching chunks."""
    best: dict[str, tuple[StoredChunk, float]] = {}
    counts: Counter[str] = Counter()
    for chunk, score in ranked:
        counts[chunk.path] += 1
        best.setdefault(chunk.path, (chunk, score))
    return [(chunk, score, counts[path]) for path, (chunk, score) in list(best.items())[:limit]]
